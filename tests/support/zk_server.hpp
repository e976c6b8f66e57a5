// Test fixture: a real ZooKeeper server (Debian's zookeeper.jar) on 127.0.0.1 with a temporary
// data directory. The free functions hold the start logic so helper binaries can reuse it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace tablemigrator::test {

struct zk_server_options {
    // How long the JVM may take to serve (it usually needs 0.3-0.6 s; CI machines are slower).
    std::chrono::milliseconds ready_timeout{30'000};
    // The server clamps session timeouts to [2, 20] x tickTime: a short tick allows short sessions.
    int tick_time_ms = 2000;
};

// A port that was free on 127.0.0.1 a moment ago (bind to port 0, read it, close).
std::uint16_t pick_free_port();

// Writes DIR/zoo.cfg (dataDir DIR/data, clientPortAddress 127.0.0.1, admin server off).
void write_zk_config(const std::filesystem::path& dir, std::uint16_t port,
                     const zk_server_options& options);

// Starts the JVM on DIR/zoo.cfg as a child of this process (stdout+stderr to DIR/zk.log).
pid_t spawn_zk_server(const std::filesystem::path& dir);

// True when the four-letter command `srvr` answers with "Mode: standalone" (a server that only
// accepts connections, or answers `ruok`, may not be serving yet).
bool zk_is_serving(std::uint16_t port, std::chrono::milliseconds read_timeout);

// Waits for zk_is_serving; false at the deadline or when the child exits first (then it is reaped).
bool wait_zk_serving(pid_t pid, std::uint16_t port, std::chrono::milliseconds timeout);

// SIGKILL and reap (the data is fsynced per transaction, so a restart finds it all).
void kill_and_reap(pid_t pid);

// One server for one test. Throws std::runtime_error when it cannot start.
class zk_server {
public:
    explicit zk_server(zk_server_options options = {});
    ~zk_server();
    zk_server(const zk_server&) = delete;
    zk_server& operator=(const zk_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    // "127.0.0.1:PORT"
    std::string connect_string() const;
    const std::filesystem::path& dir() const noexcept { return dir_; }
    bool running() const noexcept { return pid_ > 0; }

    void stop();     // kill the server (clients see connection loss); idempotent
    void start();    // start again on the same port and data directory
    void restart();  // stop() then start()
    void pause();    // SIGSTOP: the port still accepts connections but nothing answers
    void resume();   // SIGCONT

private:
    zk_server_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

} // namespace tablemigrator::test
