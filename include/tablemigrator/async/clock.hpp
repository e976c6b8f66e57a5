// A replaceable clock for sleeps and "now": the real steady clock in production, a manual clock in
// tests so that loops that wait seconds between polls run instantly and deterministically.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>

namespace tablemigrator::async {

class clock {
public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    virtual ~clock() = default;
    virtual time_point now() const = 0;
    // Completes with success once `d` of this clock's time has passed (at once for d <= 0), or
    // with client_errc::cancelled, promptly, when the awaiting coroutine is cancelled.
    virtual boost::asio::awaitable<status> sleep_for(duration d) = 0;
};

// std::chrono::steady_clock and asio::steady_timer.
class real_clock final : public clock {
public:
    time_point now() const override;
    boost::asio::awaitable<status> sleep_for(duration d) override;
};

// The process-wide real clock (stateless; safe to share).
real_clock& default_clock();

// Time moves only when the test calls advance(). Sleepers wake (on their executor) when the clock
// reaches their wake-up time. One io_context thread, like everything else: not thread-safe.
// Must outlive its sleepers.
class manual_clock final : public clock {
public:
    manual_clock();
    ~manual_clock() override;
    manual_clock(const manual_clock&) = delete;
    manual_clock& operator=(const manual_clock&) = delete;

    time_point now() const override { return now_; }
    boost::asio::awaitable<status> sleep_for(duration d) override;

    // Moves time forward and wakes every sleeper whose wake-up time is now due.
    void advance(duration d);
    // Number of coroutines currently sleeping on this clock (lets a test wait until a coroutine
    // under test has reached its sleep before advancing).
    std::size_t sleepers() const noexcept { return sleepers_.size(); }

private:
    struct sleeper;
    time_point now_;
    std::list<std::shared_ptr<sleeper>> sleepers_;
};

// Sleeps on `c` (which must outlive the sleep). Cancellation completes it with
// client_errc::cancelled.
boost::asio::awaitable<status> sleep(clock& c, clock::duration d);

} // namespace tablemigrator::async
