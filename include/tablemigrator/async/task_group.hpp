// task_group: structured fan-out. Children run with a concurrency limit, their failures are
// collected with a label instead of being swallowed, cancel() reaches every child, and join()
// waits for all of them. A child's exception is a bug: join() rethrows it.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace tablemigrator::async {

struct task_failure {
    std::string label; // what the child was (e.g. the table name)
    error_code error;
};

class task_group {
public:
    // max_concurrent == 0 is treated as 1.
    task_group(boost::asio::any_io_executor ex, std::size_t max_concurrent);
    // Cancels children still running or queued (call join() first to wait for them). Their
    // completions keep the shared state alive, so nothing dangles.
    ~task_group();
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    // Queues `work`; it starts as soon as fewer than max_concurrent children run (possibly before
    // spawn returns, up to its first suspension). An error result is recorded as a failure with
    // `label`. After cancel(), work is not started and is recorded as client_errc::cancelled.
    void spawn(std::string label, boost::asio::awaitable<status> work);

    // Completes when no child is running or queued. Returns every failure recorded so far (in
    // completion order). Rethrows the first exception a child threw (the other children were
    // cancelled when it happened). If the joining coroutine is cancelled, the group is cancelled
    // and join still completes only after every child has stopped (no child outlives join).
    // One join at a time.
    boost::asio::awaitable<std::vector<task_failure>> join();

    // Terminal cancellation for every running child; queued children never start. Children that
    // stop with operation_aborted (a use_awaitable throw) count as client_errc::cancelled.
    void cancel();

    std::size_t running() const noexcept;
    std::size_t queued() const noexcept;
    bool cancelled() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace tablemigrator::async
