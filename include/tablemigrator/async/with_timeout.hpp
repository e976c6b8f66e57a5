// with_timeout / with_deadline: race an awaitable against a steady_timer. On expiry the operation
// is cancelled (terminal cancellation through its slot), awaited until it stops, and the result is
// client_errc::timeout. Asio 1.81 has no cancel_after, hence this helper.
#pragma once

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/result.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace tablemigrator::async {

using deadline_clock = std::chrono::steady_clock;

namespace detail {

template <class T>
using stored_t = std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>>;

// Runs `op` and stores its value in an optional, so that the parallel group never needs T to be
// default-constructible and void needs no special case below.
template <class T>
boost::asio::awaitable<stored_t<T>> capture(boost::asio::awaitable<T> op) {
    if constexpr (std::is_void_v<T>) {
        co_await std::move(op);
        co_return stored_t<T>(std::in_place);
    } else {
        T value = co_await std::move(op);
        co_return stored_t<T>(std::move(value));
    }
}

// True for the system_error that use_awaitable throws when an operation is cancelled: that is the
// expected consequence of our own cancellation, not a bug.
inline bool is_operation_aborted(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return se.code() == boost::asio::error::operation_aborted;
    } catch (...) {
        return false;
    }
}

template <class T>
result<T> unwrap(stored_t<T>& value) {
    if constexpr (std::is_void_v<T>)
        return result<T>();
    else
        return result<T>(std::move(*value));
}

template <class T>
result<T> failure(client_errc e) {
    return result<T>(boost::system::in_place_error, make_error_code(e));
}

// The race itself. Outcomes:
// - op first: its value; its exception is rethrown (a bug, or its own reaction to the caller's
//   cancellation, exactly as if it were awaited directly);
// - timer expired first: client_errc::timeout (op was cancelled and has finished);
// - the caller's cancellation reached the group first: op's own value if it produced one,
//   otherwise client_errc::cancelled.
// `When` is a duration (counted from the first resumption, not from the call) or a time_point.
template <class T, class When>
boost::asio::awaitable<result<T>> race_deadline(boost::asio::awaitable<T> op, When when) {
    namespace asio = boost::asio;
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, when);
    // Every awaitable is a named object: g++ 12 mishandles class-type temporaries inside a
    // co_await expression (double destruction), so nothing but the awaited object is built there.
    auto op_task = asio::co_spawn(ex, capture(std::move(op)), asio::deferred);
    auto timer_task = timer.async_wait(asio::deferred);
    auto group = asio::experimental::make_parallel_group(std::move(op_task), std::move(timer_task));
    auto race = group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    auto [order, op_error, op_value, timer_error] = co_await std::move(race);

    if (order[0] == 0) {
        if (op_error)
            std::rethrow_exception(op_error);
        co_return unwrap<T>(op_value);
    }
    if (!timer_error) {
        if (op_error && !is_operation_aborted(op_error))
            std::rethrow_exception(op_error);
        co_return failure<T>(client_errc::timeout);
    }
    if (op_error) {
        if (is_operation_aborted(op_error))
            co_return failure<T>(client_errc::cancelled);
        std::rethrow_exception(op_error);
    }
    co_return unwrap<T>(op_value);
}

template <class T>
boost::asio::awaitable<result<T>> flatten(boost::asio::awaitable<result<result<T>>> op) {
    result<result<T>> r = co_await std::move(op);
    if (!r)
        co_return result<T>(boost::system::in_place_error, r.error());
    co_return std::move(*r);
}

} // namespace detail

// Awaits `op` for at most `timeout`. Completion: the value, or client_errc::timeout after `op` was
// cancelled and finished, or client_errc::cancelled when the caller is cancelled and `op` stops
// without a value. Exceptions thrown by `op` (bugs) propagate.
template <class T>
boost::asio::awaitable<result<T>> with_timeout(boost::asio::awaitable<T> op,
                                               deadline_clock::duration timeout) {
    return detail::race_deadline(std::move(op), timeout);
}

template <class T>
boost::asio::awaitable<result<T>> with_deadline(boost::asio::awaitable<T> op,
                                                deadline_clock::time_point deadline) {
    return detail::race_deadline(std::move(op), deadline);
}

// Overloads for operations that already return result<T>: the outcome is flattened, so the
// caller sees one error (the operation's own, or timeout/cancelled).
template <class T>
boost::asio::awaitable<result<T>> with_timeout(boost::asio::awaitable<result<T>> op,
                                               deadline_clock::duration timeout) {
    return detail::flatten<T>(detail::race_deadline(std::move(op), timeout));
}

template <class T>
boost::asio::awaitable<result<T>> with_deadline(boost::asio::awaitable<result<T>> op,
                                                deadline_clock::time_point deadline) {
    return detail::flatten<T>(detail::race_deadline(std::move(op), deadline));
}

} // namespace tablemigrator::async
