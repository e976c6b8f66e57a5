// Runs one coroutine test on a fresh io_context through the shared run_coro support: under a
// deadline, the test fails (after cancelling the coroutine) instead of hanging, and exceptions
// thrown inside the coroutine are rethrown to doctest.
#pragma once

#include <support/run_coro.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace tmtest {

inline void
run_async(const std::function<boost::asio::awaitable<void>(boost::asio::io_context&)>& body,
          std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    boost::asio::io_context io;
    tablemigrator::test::run_coro(io, [&]() { return body(io); }, deadline);
}

} // namespace tmtest
