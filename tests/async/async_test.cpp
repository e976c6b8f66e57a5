// Unit tests for the async helpers: with_timeout, task_group, the clocks and spawn_logged.
// Every coroutine runs under run_coro's deadline; sleeps use the manual clock, never wall time.
#include <tablemigrator/async/clock.hpp>
#include <tablemigrator/async/request_pacer.hpp>
#include <tablemigrator/async/spawn.hpp>
#include <tablemigrator/async/task_group.hpp>
#include <tablemigrator/async/with_timeout.hpp>
#include <tablemigrator/core/error.hpp>

#include <support/run_coro.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tablemigrator::client_errc;
using tablemigrator::error_code;
using tablemigrator::rdsn_errc;
using tablemigrator::result;
using tablemigrator::status;
using tablemigrator::test::run_coro;
namespace async = tablemigrator::async;

namespace {

// Lets other ready handlers run (a deterministic "yield", no wall-clock time involved).
asio::awaitable<void> settle(int rounds = 20) {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < rounds; ++i)
        co_await asio::post(ex, asio::use_awaitable);
}

// Waits an hour unless cancelled; records whether it saw the cancellation.
asio::awaitable<int> wait_an_hour(bool& saw_cancel) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, 1h);
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    saw_cancel = ec == asio::error::operation_aborted;
    co_return 7;
}

asio::awaitable<int> answer() {
    co_return 42;
}

asio::awaitable<result<int>> busy() {
    co_return error_code(rdsn_errc::ERR_BUSY);
}

asio::awaitable<status> busy_status() {
    co_return error_code(rdsn_errc::ERR_BUSY);
}

// Completion for test-local background coroutines: an exception fails the test loudly.
void rethrow(std::exception_ptr e) {
    if (e)
        std::rethrow_exception(e);
}

asio::awaitable<int> throws_logic() {
    throw std::logic_error("bug");
    co_return 0;
}

} // namespace

TEST_CASE("with_timeout: expiry cancels the inner operation and yields timeout") {
    asio::io_context io;
    bool saw_cancel = false;
    auto r = run_coro(io, async::with_timeout(wait_an_hour(saw_cancel), 5ms));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::timeout);
    CHECK(saw_cancel); // the inner operation was cancelled and had finished before we returned
}

TEST_CASE("with_timeout: an operation that finishes in time returns its value") {
    asio::io_context io;
    auto r = run_coro(io, async::with_timeout(answer(), 10s));
    REQUIRE(r.has_value());
    CHECK(*r == 42);
}

TEST_CASE("with_timeout: a result<T> operation is flattened and its own error passes through") {
    asio::io_context io;
    result<int> r = run_coro(io, async::with_timeout(busy(), 10s));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == rdsn_errc::ERR_BUSY);
}

TEST_CASE("with_timeout: awaitable<void> gives status") {
    asio::io_context io;
    status ok = run_coro(io, async::with_timeout(settle(1), 10s));
    CHECK(ok.has_value());
    async::manual_clock never;
    status expired = run_coro(io, [&]() -> asio::awaitable<status> {
        auto op = async::with_timeout(never.sleep_for(1h), 2ms);
        co_return co_await std::move(op);
    });
    REQUIRE_FALSE(expired.has_value());
    CHECK(expired.error() == client_errc::timeout);
    CHECK(never.sleepers() == 0); // the cancelled sleeper unregistered itself
}

TEST_CASE("with_timeout: an exception from the operation propagates (bugs are not swallowed)") {
    asio::io_context io;
    CHECK_THROWS_AS(run_coro(io, async::with_timeout(throws_logic(), 10s)), std::logic_error);
}

TEST_CASE("with_timeout: cancelling the caller yields cancelled") {
    asio::io_context io;
    async::manual_clock clock;
    asio::cancellation_signal signal;
    std::optional<status> outcome;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<status> {
            auto op = async::with_timeout(clock.sleep_for(1h), 1h);
            co_return co_await std::move(op);
        },
        asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, status s) {
            REQUIRE_FALSE(e);
            outcome = s;
        }));
    run_coro(io, [&]() -> asio::awaitable<void> {
        co_await settle();
        REQUIRE(clock.sleepers() == 1);
        signal.emit(asio::cancellation_type::terminal);
        co_await settle();
    });
    REQUIRE(outcome.has_value());
    REQUIRE_FALSE(outcome->has_value());
    CHECK(outcome->error() == client_errc::cancelled);
}

TEST_CASE("manual_clock: a sleeper wakes only when the clock reaches its wake-up time") {
    asio::io_context io;
    async::manual_clock clock;
    const auto start = clock.now();
    bool woke = false;
    run_coro(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                auto st = co_await async::sleep(clock, 10s);
                CHECK(st.has_value());
                woke = true;
            },
            rethrow);
        co_await settle();
        CHECK(clock.sleepers() == 1);
        clock.advance(9s);
        co_await settle();
        CHECK_FALSE(woke);
        clock.advance(1s);
        co_await settle();
        CHECK(woke);
        CHECK(clock.sleepers() == 0);
    });
    CHECK(clock.now() - start == 10s);
}

TEST_CASE("manual_clock: cancelling a sleeper completes it with cancelled") {
    asio::io_context io;
    async::manual_clock clock;
    asio::cancellation_signal signal;
    std::optional<status> outcome;
    run_coro(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(ex, clock.sleep_for(1h),
                       asio::bind_cancellation_slot(
                           signal.slot(), [&](std::exception_ptr, status s) { outcome = s; }));
        co_await settle();
        signal.emit(asio::cancellation_type::terminal);
        co_await settle();
    });
    REQUIRE(outcome.has_value());
    REQUIRE_FALSE(outcome->has_value());
    CHECK(outcome->error() == client_errc::cancelled);
    CHECK(clock.sleepers() == 0);
}

TEST_CASE("real_clock: a short sleep completes with success and time moves forward") {
    asio::io_context io;
    auto& c = async::default_clock();
    const auto before = c.now();
    auto st = run_coro(io, c.sleep_for(1ms));
    CHECK(st.has_value());
    CHECK(c.now() >= before + 1ms);
}

TEST_CASE("task_group: never runs more children at once than the limit, and runs them all") {
    asio::io_context io;
    int running = 0;
    int max_running = 0;
    int finished = 0;
    auto child = [&]() -> asio::awaitable<status> {
        ++running;
        max_running = std::max(max_running, running);
        co_await settle(3);
        --running;
        ++finished;
        co_return status{};
    };
    auto failures = run_coro(io, [&]() -> asio::awaitable<std::vector<async::task_failure>> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 3);
        for (int i = 0; i < 20; ++i)
            group.spawn("child-" + std::to_string(i), child());
        CHECK(group.running() == 3);
        CHECK(group.queued() == 17);
        co_return co_await group.join();
    });
    CHECK(failures.empty());
    CHECK(finished == 20);
    CHECK(max_running == 3);
}

TEST_CASE("task_group: failures are collected with their labels, successes are not") {
    asio::io_context io;
    auto child = [](int i) -> asio::awaitable<status> {
        co_await settle(i % 3);
        if (i % 2 == 1)
            co_return error_code(rdsn_errc::ERR_BUSY);
        co_return status{};
    };
    auto failures = run_coro(io, [&]() -> asio::awaitable<std::vector<async::task_failure>> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 2);
        for (int i = 0; i < 6; ++i)
            group.spawn("t" + std::to_string(i), child(i));
        co_return co_await group.join();
    });
    REQUIRE(failures.size() == 3);
    std::vector<std::string> labels;
    for (const auto& f : failures) {
        CHECK(f.error == rdsn_errc::ERR_BUSY);
        labels.push_back(f.label);
    }
    std::sort(labels.begin(), labels.end());
    CHECK(labels == std::vector<std::string>{"t1", "t3", "t5"});
}

TEST_CASE("task_group: join waits until the last child has finished") {
    asio::io_context io;
    async::manual_clock clock;
    bool joined = false;
    run_coro(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 4);
        for (int i = 1; i <= 3; ++i)
            group.spawn("sleeper", clock.sleep_for(std::chrono::seconds(i)));
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                auto failures = co_await group.join();
                CHECK(failures.empty());
                joined = true;
            },
            rethrow);
        co_await settle();
        clock.advance(2s);
        co_await settle();
        CHECK_FALSE(joined);
        CHECK(group.running() == 1);
        clock.advance(1s);
        co_await settle();
        CHECK(joined);
    });
}

TEST_CASE("task_group: cancel() cancels running children and drops queued ones as cancelled") {
    asio::io_context io;
    async::manual_clock clock;
    auto failures = run_coro(io, [&]() -> asio::awaitable<std::vector<async::task_failure>> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 2);
        for (int i = 0; i < 5; ++i)
            group.spawn("c" + std::to_string(i), clock.sleep_for(1h));
        co_await settle();
        CHECK(clock.sleepers() == 2);
        group.cancel();
        group.spawn("late", clock.sleep_for(1h)); // refused after cancel
        CHECK(group.cancelled());
        co_return co_await group.join();
    });
    REQUIRE(failures.size() == 6);
    for (const auto& f : failures)
        CHECK(f.error == client_errc::cancelled);
    CHECK(clock.sleepers() == 0);
}

TEST_CASE("task_group: children stopped by a use_awaitable throw count as cancelled") {
    asio::io_context io;
    auto child = []() -> asio::awaitable<status> {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex, 1h);
        co_await t.async_wait(asio::use_awaitable); // throws operation_aborted on cancel
        co_return status{};
    };
    auto failures = run_coro(io, [&]() -> asio::awaitable<std::vector<async::task_failure>> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 2);
        group.spawn("a", child());
        group.spawn("b", child());
        co_await settle();
        group.cancel();
        co_return co_await group.join();
    });
    REQUIRE(failures.size() == 2);
    CHECK(failures[0].error == client_errc::cancelled);
    CHECK(failures[1].error == client_errc::cancelled);
}

TEST_CASE("task_group: a child's exception cancels its siblings and is rethrown by join") {
    asio::io_context io;
    async::manual_clock clock;
    auto thrower = []() -> asio::awaitable<status> {
        co_await settle(2);
        throw std::runtime_error("child bug");
    };
    CHECK_THROWS_WITH_AS(run_coro(io,
                                  [&]() -> asio::awaitable<void> {
                                      auto ex = co_await asio::this_coro::executor;
                                      async::task_group group(ex, 4);
                                      group.spawn("sleeper", clock.sleep_for(1h));
                                      group.spawn("thrower", thrower());
                                      (void)co_await group.join();
                                  }),
                         "child bug", std::runtime_error);
    CHECK(clock.sleepers() == 0);
}

TEST_CASE("task_group: cancelling the joiner cancels the children and join still waits for them") {
    asio::io_context io;
    async::manual_clock clock;
    asio::cancellation_signal signal;
    bool join_done = false;
    int children_done = 0;
    auto child = [&]() -> asio::awaitable<status> {
        auto st = co_await clock.sleep_for(1h);
        ++children_done;
        co_return st;
    };
    run_coro(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 3);
        for (int i = 0; i < 3; ++i)
            group.spawn("c", child());
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                (void)co_await group.join();
                CHECK(children_done == 3);
                join_done = true;
            },
            asio::bind_cancellation_slot(signal.slot(), [](std::exception_ptr) {}));
        co_await settle();
        CHECK_FALSE(join_done);
        signal.emit(asio::cancellation_type::terminal);
        co_await settle();
        CHECK(group.cancelled());
        CHECK(join_done);
    });
}

TEST_CASE("task_group: join on an empty group completes at once") {
    asio::io_context io;
    auto failures = run_coro(io, [&]() -> asio::awaitable<std::vector<async::task_failure>> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 1);
        co_return co_await group.join();
    });
    CHECK(failures.empty());
}

TEST_CASE("spawn_logged: an exception escapes from io_context::run") {
    asio::io_context io;
    async::spawn_logged(
        io.get_executor(),
        []() -> asio::awaitable<void> {
            co_await settle(1);
            throw std::runtime_error("escaped");
        }(),
        "test-task");
    CHECK_THROWS_WITH_AS(io.run_for(5s), "escaped", std::runtime_error);
}

TEST_CASE("spawn_logged: cancellation through the slot is a normal stop, not an exception") {
    asio::io_context io;
    asio::cancellation_signal signal;
    bool started = false;
    async::spawn_logged(
        io.get_executor(),
        [](bool& flag) -> asio::awaitable<void> {
            flag = true;
            auto ex = co_await asio::this_coro::executor;
            asio::steady_timer t(ex, 1h);
            co_await t.async_wait(asio::use_awaitable);
        }(started),
        "loop", signal.slot());
    asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
    CHECK_NOTHROW(io.run_for(5s));
    CHECK(started);
    CHECK(io.stopped()); // the loop ended: no work left
}

TEST_CASE("spawn_logged: an error result is logged, not thrown") {
    asio::io_context io;
    async::spawn_logged(io.get_executor(), busy_status(), "status-task");
    CHECK_NOTHROW(io.run_for(5s));
    CHECK(io.stopped());
}

TEST_CASE("task_group: a joiner that was already cancelled cancels the children and still waits") {
    asio::io_context io;
    async::manual_clock clock;
    asio::cancellation_signal signal;
    std::optional<std::size_t> failures_seen;
    run_coro(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        async::task_group group(ex, 2);
        group.spawn("a", clock.sleep_for(1h));
        group.spawn("b", clock.sleep_for(1h));
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                co_await asio::this_coro::throw_if_cancelled(false);
                co_await settle(5); // cancelled meanwhile (a post is not cancellable)
                auto failures = co_await group.join();
                failures_seen = failures.size();
            },
            asio::bind_cancellation_slot(signal.slot(), rethrow));
        co_await settle(1);
        signal.emit(asio::cancellation_type::terminal);
        co_await settle();
        CHECK(group.cancelled());
    });
    REQUIRE(failures_seen.has_value());
    CHECK(*failures_seen == 2);
    CHECK(clock.sleepers() == 0);
}

// ---- request_pacer ---------------------------------------------------------------------------

namespace {

asio::awaitable<void> take(tablemigrator::async::request_pacer& p, tablemigrator::async::request_pacer::priority prio,
                           std::vector<std::string>& order, std::string name) {
    auto op = p.acquire(prio);
    co_await std::move(op);
    order.push_back(std::move(name));
}

} // namespace

TEST_CASE("request_pacer: urgent waiters are granted before queued normal ones, FIFO within a priority") {
    using tablemigrator::async::request_pacer;
    asio::io_context io;
    request_pacer pacer(io.get_executor(), 20); // one grant per 50 ms
    std::vector<std::string> order;
    for (const char* n : {"n1", "n2", "n3"})
        asio::co_spawn(io, take(pacer, request_pacer::priority::normal, order, n), asio::detached);
    // Queued after the normal ones, granted right after the one already under way.
    asio::co_spawn(io, take(pacer, request_pacer::priority::urgent, order, "u1"), asio::detached);
    asio::co_spawn(io, take(pacer, request_pacer::priority::urgent, order, "u2"), asio::detached);
    const auto start = std::chrono::steady_clock::now();
    io.run_for(5s);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(order.size() == 5);
    CHECK(order == std::vector<std::string>{"n1", "u1", "u2", "n2", "n3"});
    // Five grants are at least four intervals apart in total (a rate bound, not a speed claim).
    CHECK(elapsed >= 4 * 50ms - 5ms);
    CHECK(pacer.waiting() == 0);
}

TEST_CASE("request_pacer: a cancelled waiter gives up its place; rps <= 0 never waits") {
    using tablemigrator::async::request_pacer;
    asio::io_context io;
    request_pacer pacer(io.get_executor(), 2); // one grant per 500 ms
    std::vector<std::string> order;
    asio::co_spawn(io, take(pacer, request_pacer::priority::normal, order, "first"), asio::detached);
    asio::cancellation_signal cancel;
    bool cancelled_done = false;
    asio::co_spawn(io, take(pacer, request_pacer::priority::normal, order, "cancelled"),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr) { cancelled_done = true; }));
    asio::co_spawn(io, take(pacer, request_pacer::priority::normal, order, "third"), asio::detached);
    io.run_for(100ms);
    CHECK(pacer.waiting() == 2);
    cancel.emit(asio::cancellation_type::terminal);
    io.run_for(100ms);
    CHECK(cancelled_done);
    CHECK(pacer.waiting() == 1);
    io.run_for(3s);
    CHECK(std::find(order.begin(), order.end(), "third") != order.end());
    CHECK(pacer.waiting() == 0);

    request_pacer unlimited(io.get_executor(), 0);
    std::vector<std::string> fast;
    for (int i = 0; i < 100; ++i)
        asio::co_spawn(io, take(unlimited, request_pacer::priority::normal, fast, "x"), asio::detached);
    io.restart();
    io.poll();
    CHECK(fast.size() == 100);
}
