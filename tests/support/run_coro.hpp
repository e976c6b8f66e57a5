// run_coro: run one coroutine on a test's io_context until it finishes or a deadline expires; on
// expiry the coroutine is cancelled, given a short grace period, and the test FAILs (never hangs).
// Header-only (tests include it as <support/run_coro.hpp>).
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
#include <type_traits>
#include <utility>
#include <variant>

namespace tablemigrator::test {

inline constexpr std::chrono::milliseconds default_coro_deadline{10000};

namespace detail {

template <class T>
struct coro_outcome {
    bool done = false;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
};

// Runs handlers until `done` or the deadline. Returns whether the outcome arrived.
inline bool run_until(boost::asio::io_context& io, const bool& done,
                      std::chrono::steady_clock::time_point until) {
    while (!done && std::chrono::steady_clock::now() < until) {
        if (io.stopped())
            io.restart();
        if (io.run_one_until(until) == 0 && io.stopped() && !done)
            return false; // out of work: the coroutine waits for something that never comes
    }
    return done;
}

} // namespace detail

// Returns the coroutine's value (rethrows its exception). Fails the test if it is not done
// within `deadline`.
template <class T>
T run_coro(boost::asio::io_context& io, boost::asio::awaitable<T> coro,
           std::chrono::milliseconds deadline = default_coro_deadline) {
    namespace asio = boost::asio;
    auto out = std::make_shared<detail::coro_outcome<T>>();
    auto signal = std::make_shared<asio::cancellation_signal>();
    auto on_done = [out, signal](std::exception_ptr e, auto... v) {
        out->done = true;
        out->error = std::move(e);
        if constexpr (sizeof...(v) == 0)
            out->value.emplace();
        else
            out->value.emplace(std::move(v)...);
    };
    asio::co_spawn(io, std::move(coro), asio::bind_cancellation_slot(signal->slot(), on_done));

    const auto until = std::chrono::steady_clock::now() + deadline;
    if (!detail::run_until(io, out->done, until)) {
        // Cancel, and let it unwind so its frame does not outlive what it references.
        signal->emit(asio::cancellation_type::terminal);
        detail::run_until(io, out->done,
                          std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
        FAIL("run_coro: the coroutine did not finish within " << deadline.count()
                                                              << " ms (cancelled)");
    }
    if (out->error)
        std::rethrow_exception(out->error);
    if constexpr (!std::is_void_v<T>)
        return std::move(*out->value);
}

// Overload for a coroutine factory (e.g. a lambda with captures): the callable is kept alive for
// as long as the coroutine runs.
template <class F>
requires std::is_invocable_v<F&>
auto run_coro(boost::asio::io_context& io, F&& make,
              std::chrono::milliseconds deadline = default_coro_deadline) {
    return run_coro(io, make(), deadline);
}

} // namespace tablemigrator::test
