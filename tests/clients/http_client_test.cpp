// Component tests of replica::http_client against the loopback fake HTTP responder.
#include "fake_http.hpp"
#include "harness.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/replica/http_client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

using namespace tablemigrator;
using namespace tablemigrator::replica;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

tmtest::fake_http_reply route(const std::string& target) {
    if (target == "/ok")
        return {200, "hello", false, false, true};
    if (target == "/missing")
        return {404, "app_id=3 not found", false, false, true};
    if (target == "/boom")
        return {500, "internal", false, false, true};
    if (target == "/hang")
        return {200, "", true, false, true};
    if (target == "/close")
        return {200, "", false, true, true};
    if (target == "/once")
        return {200, "bye", false, false, false};
    return {404, "service not found", false, false, true};
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace

TEST_CASE("http_client: a 200 body is returned and the connection is reused") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        auto a_op = client.get("/ok", 5s);
        auto a = co_await std::move(a_op);
        REQUIRE(a.has_value());
        CHECK(a->status == 200);
        CHECK(a->body == "hello");
        CHECK(check_status(*a).has_value());
        auto b_op = client.get("/ok", 5s);
        auto b = co_await std::move(b_op);
        REQUIRE(b.has_value());
        CHECK(b->body == "hello");
        CHECK(server.connections_accepted() == 1);
        CHECK(client.idle_connections() == 1);
    });
}

TEST_CASE("http_client: 404 maps to http_not_found with the body kept, 500 to http_error") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        auto nf_op = client.get("/missing", 5s);
        auto nf = co_await std::move(nf_op);
        REQUIRE(nf.has_value());
        CHECK(nf->status == 404);
        CHECK(nf->body == "app_id=3 not found");
        CHECK(check_status(*nf).error() == client_errc::http_not_found);
        auto err_op = client.get("/boom", 5s);
        auto err = co_await std::move(err_op);
        REQUIRE(err.has_value());
        CHECK(check_status(*err).error() == client_errc::http_error);
        CHECK(server.connections_accepted() == 1);
    });
}

TEST_CASE("http_client: an idle connection closed by the server is replaced transparently") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        auto again1_op = client.get("/ok", 5s);
        auto again1 = co_await std::move(again1_op);
        REQUIRE(again1.has_value());
        server.drop_connections();
        co_await sleep_for(20ms); // let the close reach the client's socket
        auto again_op = client.get("/ok", 5s);
        auto again = co_await std::move(again_op);
        REQUIRE(again.has_value());
        CHECK(again->body == "hello");
        CHECK(server.connections_accepted() == 2);
    });
}

TEST_CASE("http_client: Connection: close replies are not reused") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        auto a_op = client.get("/once", 5s);
        auto a = co_await std::move(a_op);
        REQUIRE(a.has_value());
        CHECK(a->body == "bye");
        CHECK(client.idle_connections() == 0);
        auto again2_op = client.get("/ok", 5s);
        auto again2 = co_await std::move(again2_op);
        REQUIRE(again2.has_value());
        CHECK(server.connections_accepted() == 2);
    });
}

TEST_CASE("http_client: a server that never answers hits the per-request deadline") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        auto r_op = client.get("/hang", 200ms);
        auto r = co_await std::move(r_op);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::timeout);
        CHECK(is_retryable(r.error()));
        // The timed-out connection is gone; the next request works on a fresh one.
        auto ok_op = client.get("/ok", 5s);
        auto ok = co_await std::move(ok_op);
        REQUIRE(ok.has_value());
        CHECK(server.connections_accepted() == 2);
    });
}

TEST_CASE("http_client: a peer that closes without answering is connection_closed") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        auto r_op = client.get("/close", 5s);
        auto r = co_await std::move(r_op);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::connection_closed);
    });
}

TEST_CASE("http_client: connection refused is a retryable transport error, not an HTTP error") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        std::uint16_t port = 0;
        {
            asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
            port = a.local_endpoint().port();
        }
        http_client client(io.get_executor(), "127.0.0.1", port);
        auto r_op = client.get("/ok", 5s);
        auto r = co_await std::move(r_op);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() != client_errc::http_error);
        CHECK(r.error() != client_errc::http_not_found);
        CHECK(is_retryable(r.error()));
    });
}

TEST_CASE("http_client: cancelling an in-flight request completes it with cancelled") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, route);
        http_client client(io.get_executor(), "127.0.0.1", server.port());
        asio::cancellation_signal signal;
        std::optional<result<http_response>> got;
        asio::co_spawn(io, client.get("/hang", 30s),
                       asio::bind_cancellation_slot(
                           signal.slot(), [&](std::exception_ptr e, result<http_response> r) {
                               if (e)
                                   std::rethrow_exception(e);
                               got = std::move(r);
                           }));
        while (server.targets().empty())
            co_await sleep_for(5ms);
        signal.emit(asio::cancellation_type::terminal);
        while (!got)
            co_await sleep_for(5ms);
        REQUIRE_FALSE(got->has_value());
        CHECK(got->error() == client_errc::cancelled);
        auto ok_op = client.get("/ok", 5s);
        auto ok = co_await std::move(ok_op);
        CHECK(ok.has_value());
    });
}
