// request_pacer: at most R grants per second, shared by many coroutines, with two priorities so
// the requests of a cutover in progress (write downtime runs) never queue behind routine polls.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

namespace tablemigrator::async {

class request_pacer {
public:
    enum class priority { urgent, normal };

    // rps <= 0: unlimited (every acquire completes at once).
    request_pacer(boost::asio::any_io_executor ex, double rps);
    ~request_pacer(); // wakes every waiter (their acquire completes)
    request_pacer(const request_pacer&) = delete;
    request_pacer& operator=(const request_pacer&) = delete;

    // Completes when the caller may send one request: grants are spaced 1/rps apart, urgent
    // waiters first, FIFO within a priority. A cancelled wait (terminal cancellation of the
    // awaiting coroutine) completes early and gives up its place.
    boost::asio::awaitable<void> acquire(priority p = priority::normal);

    std::size_t waiting() const noexcept;

private:
    struct state;
    static boost::asio::awaitable<void> dispatch(std::shared_ptr<state> s);
    std::shared_ptr<state> state_;
};

} // namespace tablemigrator::async
