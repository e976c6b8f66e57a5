// Child processes for scenario tests (see process.hpp). posix_spawn, not fork: the test process
// has other threads (the simulation, the ZooKeeper client), and a forked child may only call
// async-signal-safe functions before exec.
#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tablemigrator::test {

namespace {

int decode_status(int wstatus) {
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

} // namespace

child_process::child_process(const std::filesystem::path& exe, process_options options)
    : options_(std::move(options)) {
    std::vector<std::string> argv_s;
    argv_s.push_back(exe.string());
    argv_s.insert(argv_s.end(), options_.args.begin(), options_.args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    std::map<std::string, std::string> env_map;
    for (char** e = environ; e && *e; ++e) {
        const std::string kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string::npos)
            env_map[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : options_.env)
        env_map[k] = v;
    std::vector<std::string> env_s;
    for (const auto& [k, v] : env_map)
        env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_s)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    const std::string out =
        options_.stdout_file.empty() ? "/dev/null" : options_.stdout_file.string();
    const std::string err =
        options_.stderr_file.empty() ? "/dev/null" : options_.stderr_file.string();
    const std::string cwd = options_.cwd.string();

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!cwd.empty())
        posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    // The child starts with default signal dispositions and an empty mask, whatever the test
    // process blocked (a SIGINT test must reach the child's own handler).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int rc =
        ::posix_spawn(&pid_, argv_s.front().c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("posix_spawn " + exe.string() + ": " + std::strerror(rc));
    }
}

child_process::~child_process() {
    if (!status_ && pid_ > 0)
        kill();
}

bool child_process::reap(int flags) {
    if (status_ || pid_ <= 0)
        return true;
    int wstatus = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &wstatus, flags);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        status_ = decode_status(wstatus);
        return true;
    }
    if (r < 0) { // not our child any more (cannot happen unless someone else reaped it)
        status_ = -1;
        return true;
    }
    return false;
}

bool child_process::running() {
    return !reap(WNOHANG);
}

void child_process::signal(int sig) {
    if (running())
        ::kill(pid_, sig);
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!reap(WNOHANG)) {
        if (std::chrono::steady_clock::now() >= until)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

int child_process::kill() {
    if (!running())
        return *status_;
    ::kill(pid_, SIGKILL);
    reap(0);
    return *status_;
}

std::string child_process::stdout_text() const {
    return options_.stdout_file.empty() ? std::string() : read_text_file(options_.stdout_file);
}

std::string child_process::stderr_text() const {
    return options_.stderr_file.empty() ? std::string() : read_text_file(options_.stderr_file);
}

std::string read_text_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    while (start < text.size()) {
        const auto nl = text.find('\n', start);
        if (nl == std::string::npos) {
            out.push_back(text.substr(start));
            break;
        }
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

bool wait_for_text(const std::filesystem::path& file, const std::string& needle,
                   std::chrono::milliseconds timeout, child_process* alive) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (read_text_file(file).find(needle) != std::string::npos)
            return true;
        if (alive && !alive->running())
            return read_text_file(file).find(needle) != std::string::npos;
        if (std::chrono::steady_clock::now() >= until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::filesystem::path make_temp_dir(const std::string& prefix) {
    std::random_device rd;
    for (int i = 0; i < 100; ++i) {
        auto p = std::filesystem::temp_directory_path() /
                 (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000));
        std::error_code ec;
        if (std::filesystem::create_directory(p, ec))
            return p;
    }
    throw std::runtime_error("make_temp_dir: cannot create a directory for " + prefix);
}

} // namespace tablemigrator::test
