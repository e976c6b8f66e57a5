// Real and manual clocks. Both sleep on a steady_timer, so cancellation behaves identically: the
// timer wait is aborted through the coroutine's cancellation slot.
#include <tablemigrator/async/clock.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace tablemigrator::async {

namespace asio = boost::asio;

clock::time_point real_clock::now() const {
    return std::chrono::steady_clock::now();
}

asio::awaitable<status> real_clock::sleep_for(duration d) {
    if (d <= duration::zero())
        co_return status{};
    // No co_await inside the initialiser of a class-type object: g++ 12 mis-destroys such
    // temporaries, so the executor is fetched in its own statement (here and everywhere).
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, d);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted)
        co_return make_error_code(client_errc::cancelled);
    if (ec)
        co_return ec;
    co_return status{};
}

real_clock& default_clock() {
    static real_clock c;
    return c;
}

// A sleeper waits on a timer that never expires by itself; advance() cancels it after marking it
// due, so "cancelled and due" means "woken by the clock" and "cancelled, not due" means the
// caller's cancellation.
struct manual_clock::sleeper {
    sleeper(asio::any_io_executor ex, time_point wake)
        : timer(ex)
        , wake_at(wake) {
        timer.expires_at(asio::steady_timer::time_point::max());
    }
    asio::steady_timer timer;
    time_point wake_at;
    bool due = false;
};

// An arbitrary non-zero epoch, so that code which subtracts durations from now() stays positive.
manual_clock::manual_clock()
    : now_(time_point{} + std::chrono::hours(24)) {}

manual_clock::~manual_clock() = default;

asio::awaitable<status> manual_clock::sleep_for(duration d) {
    if (d <= duration::zero())
        co_return status{};
    auto ex = co_await asio::this_coro::executor;
    auto s = std::make_shared<sleeper>(ex, now_ + d);
    sleepers_.push_back(s);
    (void)co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    sleepers_.remove(s);
    if (s->due)
        co_return status{};
    co_return make_error_code(client_errc::cancelled);
}

void manual_clock::advance(duration d) {
    now_ += d;
    for (auto it = sleepers_.begin(); it != sleepers_.end();) {
        if ((*it)->wake_at <= now_) {
            (*it)->due = true;
            (*it)->timer.cancel();
            it = sleepers_.erase(it);
        } else {
            ++it;
        }
    }
}

asio::awaitable<status> sleep(clock& c, clock::duration d) {
    return c.sleep_for(d);
}

} // namespace tablemigrator::async
