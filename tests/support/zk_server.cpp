// Starts and stops Debian's ZooKeeper server for tests (toolchain.md §3: direct java command,
// readiness via `srvr`, the JVM kept as our child so waitpid reaps it and no zombie lingers).
#include "zk_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace tablemigrator::test {
namespace {

using clock = std::chrono::steady_clock;

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace

std::uint16_t pick_free_port() {
    fd_guard s{::socket(AF_INET, SOCK_STREAM, 0)};
    if (s.fd < 0)
        throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    auto a = loopback(0);
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
    socklen_t len = sizeof a;
    ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

void write_zk_config(const std::filesystem::path& dir, std::uint16_t port,
                     const zk_server_options& options) {
    std::filesystem::create_directories(dir / "data");
    std::ofstream cfg(dir / "zoo.cfg", std::ios::trunc);
    cfg << "tickTime=" << options.tick_time_ms << "\n"
        << "dataDir=" << std::filesystem::absolute(dir / "data").string() << "\n"
        << "clientPort=" << port << "\n"
        << "clientPortAddress=127.0.0.1\n"
        << "admin.enableServer=false\n"
        << "4lw.commands.whitelist=ruok,srvr,stat,mntr,conf\n"
        << "maxClientCnxns=0\n";
    if (!cfg)
        throw std::runtime_error("cannot write " + (dir / "zoo.cfg").string());
}

pid_t spawn_zk_server(const std::filesystem::path& dir) {
    const std::string cfg = std::filesystem::absolute(dir / "zoo.cfg").string();
    const std::string log = std::filesystem::absolute(dir / "zk.log").string();
    std::vector<std::string> args = {
        "java",
        "-Xms32m",
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Dzookeeper.admin.enableServer=false",
        "-cp",
        "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
        "org.apache.zookeeper.server.ZooKeeperServerMain",
        cfg,
    };
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, "java", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        throw std::runtime_error("cannot start java: " + std::string(std::strerror(rc)));
    return pid;
}

bool zk_is_serving(std::uint16_t port, std::chrono::milliseconds read_timeout) {
    fd_guard s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0)
        return false;
    auto a = loopback(port);
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return false;
    if (::send(s.fd, "srvr", 4, MSG_NOSIGNAL) != 4)
        return false;
    // A starting server may accept and never answer: read with a short deadline.
    std::string reply;
    const auto deadline = clock::now() + read_timeout;
    char buf[1024];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0)
            break;
        pollfd p{s.fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            break;
        const auto n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    return reply.find("Mode: standalone") != std::string::npos;
}

bool wait_zk_serving(pid_t pid, std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        int wstatus = 0;
        if (::waitpid(pid, &wstatus, WNOHANG) == pid)
            return false; // exited (e.g. the port was taken meanwhile)
        if (zk_is_serving(port, std::chrono::milliseconds(300)))
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void kill_and_reap(pid_t pid) {
    if (pid <= 0)
        return;
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
}

zk_server::zk_server(zk_server_options options)
    : options_(options) {
    char tmpl[] = "/tmp/tm-zk-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
        throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    dir_ = tmpl;
    // Another process may grab the port between pick and bind: try a few ports.
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = pick_free_port();
        write_zk_config(dir_, port_, options_);
        pid_ = spawn_zk_server(dir_);
        if (wait_zk_serving(pid_, port_, options_.ready_timeout))
            return;
        kill_and_reap(pid_);
        pid_ = -1;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error("ZooKeeper did not start; see a zk.log under " + dir_.string());
}

zk_server::~zk_server() {
    if (pid_ > 0) {
        ::kill(pid_, SIGCONT); // a paused JVM still dies on SIGKILL, but be explicit
        kill_and_reap(pid_);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string zk_server::connect_string() const {
    return "127.0.0.1:" + std::to_string(port_);
}

void zk_server::stop() {
    kill_and_reap(pid_);
    pid_ = -1;
}

void zk_server::start() {
    if (pid_ > 0)
        return;
    pid_ = spawn_zk_server(dir_);
    if (!wait_zk_serving(pid_, port_, options_.ready_timeout)) {
        kill_and_reap(pid_);
        pid_ = -1;
        throw std::runtime_error("ZooKeeper did not restart on port " + std::to_string(port_));
    }
}

void zk_server::restart() {
    stop();
    start();
}

namespace {

// True when every thread of `pid` is stopped ('T' in /proc/<pid>/task/<tid>/stat).
bool all_threads_stopped(pid_t pid) {
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    bool any = false;
    for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
        std::ifstream in(t.path() / "stat");
        std::string line;
        std::getline(in, line);
        const auto paren = line.rfind(')');
        if (paren == std::string::npos || paren + 2 >= line.size())
            return false;
        const char state = line[paren + 2];
        if (state != 'T' && state != 't')
            return false;
        any = true;
    }
    return any && !ec;
}

} // namespace

void zk_server::pause() {
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGSTOP);
    // kill() returns before every JVM thread has stopped: a thread already running could still
    // answer a request sent right after pause(). Wait until all of them are stopped (bounded).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!all_threads_stopped(pid_) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void zk_server::resume() {
    if (pid_ > 0)
        ::kill(pid_, SIGCONT);
}

} // namespace tablemigrator::test
