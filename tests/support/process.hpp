// Test support: a child process (the real table-migrator or another of our executables) with its
// stdout and stderr captured to files, signals, and waits that end at a deadline instead of
// hanging. The destructor kills a child that is still running, so a failing test never leaves one
// behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::test {

struct process_options {
    std::vector<std::string> args;          // argv[1..]
    std::map<std::string, std::string> env; // added to (or replacing in) this process's env
    std::filesystem::path stdout_file;      // empty: /dev/null
    std::filesystem::path stderr_file;      // empty: /dev/null
    std::filesystem::path cwd;              // empty: this process's working directory
};

class child_process {
public:
    // Starts `exe` (posix_spawn; stdin is /dev/null). Throws std::runtime_error when it cannot.
    child_process(const std::filesystem::path& exe, process_options options);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    bool running();       // false once it exited (then it is reaped)
    void signal(int sig); // no-op once it exited

    // Waits until it exits: its exit status, 128+N when killed by signal N, or nullopt at the
    // deadline (the child keeps running).
    std::optional<int> wait_for(std::chrono::milliseconds timeout);
    // SIGKILL and reap; returns the status as wait_for does (128+9 unless it had exited already).
    int kill();

    std::string stdout_text() const; // what it wrote so far
    std::string stderr_text() const;
    const process_options& options() const noexcept { return options_; }

private:
    bool reap(int flags);

    process_options options_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// The whole file, or "" when it cannot be read.
std::string read_text_file(const std::filesystem::path& p);

// Lines of text, without their '\n' (a last line without one is kept).
std::vector<std::string> split_lines(const std::string& text);

// Polls the file until it contains `needle`; false at the deadline or, when `alive` is given,
// as soon as that process has exited without the file containing it.
bool wait_for_text(const std::filesystem::path& file, const std::string& needle,
                   std::chrono::milliseconds timeout, child_process* alive = nullptr);

// A fresh directory under the system temp directory (removed by the caller or left for
// post-mortem).
std::filesystem::path make_temp_dir(const std::string& prefix);

} // namespace tablemigrator::test
