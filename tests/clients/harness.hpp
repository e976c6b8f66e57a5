// Runs one coroutine test on a fresh io_context under a deadline: the test fails instead of
// hanging, and exceptions thrown inside the coroutine are rethrown to doctest.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <functional>

namespace tmtest {

inline void
run_async(const std::function<boost::asio::awaitable<void>(boost::asio::io_context&)>& body,
          std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    boost::asio::io_context io;
    bool done = false;
    std::exception_ptr error;
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { co_await body(io); },
        [&](std::exception_ptr e) {
            done = true;
            error = e;
            io.stop();
        });
    io.run_for(deadline);
    REQUIRE_MESSAGE(done, "the async test did not finish before its deadline");
    if (error)
        std::rethrow_exception(error);
}

} // namespace tmtest
