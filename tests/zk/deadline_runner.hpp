// run_with_deadline: runs one coroutine on a test's io_context; at the deadline it is cancelled
// and the test fails instead of hanging. Shared by the zk and metaproxy tests.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace tablemigrator::test {

// F: a callable returning awaitable<void>; it is kept alive while the coroutine runs.
template <class F>
void run_with_deadline(boost::asio::io_context& io, F make, std::chrono::milliseconds deadline) {
    namespace asio = boost::asio;
    struct state {
        bool done = false;
        std::exception_ptr error;
        asio::cancellation_signal signal;
    };
    auto st = std::make_shared<state>();
    asio::co_spawn(io, make(), asio::bind_cancellation_slot(st->signal.slot(), [st](std::exception_ptr e) {
        st->done = true;
        st->error = std::move(e);
    }));
    auto run_until = [&](std::chrono::steady_clock::time_point until) {
        while (!st->done && std::chrono::steady_clock::now() < until) {
            if (io.stopped())
                io.restart();
            if (io.run_one_until(until) == 0 && io.stopped() && !st->done)
                return;
        }
    };
    run_until(std::chrono::steady_clock::now() + deadline);
    if (!st->done) {
        st->signal.emit(asio::cancellation_type::terminal);
        run_until(std::chrono::steady_clock::now() + std::chrono::seconds(2));
        FAIL("coroutine did not finish within " << deadline.count() << " ms (cancelled)");
    }
    if (st->error)
        std::rethrow_exception(st->error);
}

} // namespace tablemigrator::test
