// Component tests for rpc_session and session_pool against loopback fake servers: multiplexing,
// deadlines, cancellation, connection failures, reconnect, garbage from the server.
#include "fake_server.hpp"

#include <tablemigrator/async/with_timeout.hpp>
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/rpc/session.hpp>
#include <tablemigrator/rpc/session_pool.hpp>

#include <support/run_coro.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tablemigrator::client_errc;
using tablemigrator::error_code;
using tablemigrator::is_retryable;
using tablemigrator::rdsn_errc;
using tablemigrator::result;
using tablemigrator::test::fake_request;
using tablemigrator::test::fake_server;
using tablemigrator::test::run_coro;
namespace rpc = tablemigrator::rpc;
namespace wire = tablemigrator::wire;

namespace {

constexpr auto name = "RPC_CM_LIST_NODES";

rpc::session_options fast_options() {
    rpc::session_options o;
    o.connect_timeout = 2s;
    o.backoff_initial = 1ms;
    o.backoff_max = 5ms;
    return o;
}

// A one-field Thrift struct {1: i32 id}; the echo server sends it back inside the reply.
wire::bytes args_for(std::int32_t id) {
    const auto u = static_cast<std::uint32_t>(id);
    return {0x08,
            0x00,
            0x01,
            static_cast<std::uint8_t>(u >> 24),
            static_cast<std::uint8_t>(u >> 16),
            static_cast<std::uint8_t>(u >> 8),
            static_cast<std::uint8_t>(u),
            0x00};
}

bool carries(const wire::response_frame& f, const wire::bytes& args) {
    return std::search(f.payload.begin(), f.payload.end(), args.begin(), args.end()) !=
           f.payload.end();
}

// Polls (by yielding, never by sleeping on wall time) until `cond` holds; run_coro's deadline
// bounds it.
asio::awaitable<void> until(std::function<bool()> cond) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex);
    while (!cond()) {
        t.expires_after(1ms);
        co_await t.async_wait(asio::use_awaitable);
    }
}

std::shared_ptr<rpc::rpc_session> make_session(asio::io_context& io, const rpc::endpoint& ep,
                                               rpc::session_options o = fast_options()) {
    return std::make_shared<rpc::rpc_session>(io.get_executor(), ep, o);
}

// Runs a call in the background and stores its outcome.
struct background_call {
    std::optional<result<wire::response_frame>> outcome;
    asio::cancellation_signal signal;

    void start(asio::io_context& io, std::shared_ptr<rpc::rpc_session> s, std::int32_t id,
               std::chrono::milliseconds timeout) {
        asio::co_spawn(
            io, s->call(name, {}, args_for(id), timeout),
            asio::bind_cancellation_slot(
                signal.slot(), [this](std::exception_ptr e, result<wire::response_frame> r) {
                    if (e)
                        std::rethrow_exception(e);
                    outcome = std::move(r);
                }));
    }
};

} // namespace

TEST_CASE("rpc_session: connects lazily and a call gets its reply with the seqid echoed") {
    asio::io_context io;
    fake_server srv(io);
    auto s = make_session(io, srv.endpoint());
    CHECK_FALSE(s->is_connected());
    CHECK(srv.connections_accepted() == 0);
    auto r = run_coro(io, s->call(name, {}, args_for(7), 5s));
    REQUIRE(r.has_value());
    CHECK_FALSE(r->frame_error);
    CHECK(r->error_name == "ERR_OK");
    CHECK(r->name == std::string(name) + "_ACK");
    CHECK(r->seqid == 1);
    CHECK(carries(*r, args_for(7)));
    CHECK(s->is_connected());
    CHECK(s->pending_calls() == 0);
    REQUIRE(srv.requests().size() == 1);
    CHECK(srv.requests()[0].name == name);
    CHECK(srv.requests()[0].seqid == 1);
    s->close();
}

TEST_CASE("rpc_session: replies out of order are matched to their calls by seqid") {
    asio::io_context io;
    fake_server srv(io);
    std::vector<fake_request> held;
    srv.on_request = [&](fake_request r) {
        held.push_back(std::move(r));
        if (held.size() == 3)
            for (auto it = held.rbegin(); it != held.rend(); ++it)
                it->conn->reply_echo(it->frame);
    };
    auto s = make_session(io, srv.endpoint());
    background_call calls[3];
    for (int i = 0; i < 3; ++i)
        calls[i].start(io, s, 100 + i, 5s);
    run_coro(io, until([&] {
                 return std::all_of(std::begin(calls), std::end(calls),
                                    [](const auto& c) { return c.outcome.has_value(); });
             }));
    for (int i = 0; i < 3; ++i) {
        REQUIRE(calls[i].outcome->has_value());
        CHECK(carries(**calls[i].outcome, args_for(100 + i)));
    }
    CHECK(srv.connections_accepted() == 1);
    s->close();
}

TEST_CASE("rpc_session: a reply after the deadline is dropped and the next call still works") {
    asio::io_context io;
    fake_server srv(io);
    std::optional<fake_request> late;
    srv.on_request = [&](fake_request r) {
        if (r.frame.seqid == 2) {
            late = std::move(r); // answered only when the next request arrives
            return;
        }
        if (late)
            late->conn->reply_echo(late->frame);
        r.conn->reply_echo(r.frame);
    };
    auto s = make_session(io, srv.endpoint());
    // Connect first, so the short deadline below covers only the unanswered request (which is
    // written at once on a live connection, whatever the machine's load).
    REQUIRE(run_coro(io, s->call(name, {}, args_for(1), 5s)).has_value());
    auto timed_out = run_coro(io, s->call(name, {}, args_for(2), 50ms));
    REQUIRE_FALSE(timed_out.has_value());
    CHECK(timed_out.error() == client_errc::timeout);
    CHECK(s->pending_calls() == 0);
    auto next = run_coro(io, s->call(name, {}, args_for(3), 5s));
    REQUIRE(next.has_value());
    CHECK(late.has_value()); // the server did answer seqid 2, just before seqid 3
    CHECK(next->seqid == 3);
    CHECK(carries(*next, args_for(3))); // not the late reply to the abandoned call
    CHECK(srv.connections_accepted() == 1);
    s->close();
}

TEST_CASE("rpc_session: cancelling an in-flight call completes it promptly with cancelled") {
    asio::io_context io;
    fake_server srv(io);
    std::optional<fake_request> held;
    srv.on_request = [&](fake_request r) {
        if (!held) {
            held = std::move(r);
            return;
        }
        held->conn->reply_echo(held->frame); // the late reply to the cancelled call
        r.conn->reply_echo(r.frame);
    };
    auto s = make_session(io, srv.endpoint());
    background_call call;
    call.start(io, s, 1, 1h); // only cancellation can end it within the test's deadline
    run_coro(io, until([&] { return srv.requests().size() == 1; }));
    CHECK_FALSE(call.outcome.has_value());
    call.signal.emit(asio::cancellation_type::terminal);
    run_coro(io, until([&] { return call.outcome.has_value(); }));
    REQUIRE_FALSE(call.outcome->has_value());
    CHECK(call.outcome->error() == client_errc::cancelled);
    CHECK(s->pending_calls() == 0);
    auto next = run_coro(io, s->call(name, {}, args_for(2), 5s));
    REQUIRE(next.has_value());
    CHECK(carries(*next, args_for(2)));
    s->close();
}

TEST_CASE("rpc_session: a call from an already-cancelled coroutine completes at once with "
          "cancelled") {
    asio::io_context io;
    fake_server srv(io);
    auto s = make_session(io, srv.endpoint());
    asio::cancellation_signal signal;
    std::optional<result<wire::response_frame>> outcome;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await asio::this_coro::throw_if_cancelled(false);
            auto ex = co_await asio::this_coro::executor;
            co_await asio::post(ex, asio::use_awaitable); // cancelled meanwhile
            auto op = s->call(name, {}, args_for(1), 1h);
            outcome = co_await std::move(op);
        },
        asio::bind_cancellation_slot(signal.slot(), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        }));
    signal.emit(asio::cancellation_type::terminal);
    run_coro(io, until([&] { return outcome.has_value(); }));
    REQUIRE_FALSE(outcome->has_value());
    CHECK(outcome->error() == client_errc::cancelled);
    CHECK(s->pending_calls() == 0);
    CHECK(srv.requests().empty());
    s->close();
}

TEST_CASE("rpc_session: with_timeout around a call cancels it and reports timeout") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request) {}; // never answers
    auto s = make_session(io, srv.endpoint());
    auto r =
        run_coro(io, tablemigrator::async::with_timeout(s->call(name, {}, args_for(1), 1h), 20ms));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::timeout);
    CHECK(s->pending_calls() == 0);
    s->close();
}

TEST_CASE("rpc_session: the header's client_timeout carries the remaining deadline in ms") {
    asio::io_context io;
    fake_server srv(io);
    auto s = make_session(io, srv.endpoint());
    auto r = run_coro(io, s->call(name, {}, args_for(1), 10s));
    REQUIRE(r.has_value());
    REQUIRE(srv.requests().size() == 1);
    const auto sent = srv.requests()[0].header.client_timeout_ms;
    CHECK(sent <= 10000u);
    CHECK(sent > 5000u); // the Go client's wrap-around would send ~1410 for 10 s
    s->close();
}

TEST_CASE("rpc_session: request routing fields of the header reach the server") {
    asio::io_context io;
    fake_server srv(io);
    auto s = make_session(io, srv.endpoint());
    wire::request_header h;
    h.app_id = 3;
    h.partition_index = 5;
    h.thread_hash = 3 * 7919 + 5;
    h.partition_hash = 0x1122334455667788ull;
    auto r = run_coro(io, s->call("RPC_RRDB_RRDB_GET", h, args_for(1), 5s));
    REQUIRE(r.has_value());
    REQUIRE(srv.requests().size() == 1);
    const auto& got = srv.requests()[0].header;
    CHECK(got.app_id == 3);
    CHECK(got.partition_index == 5);
    CHECK(got.thread_hash == 3 * 7919 + 5);
    CHECK(got.partition_hash == 0x1122334455667788ull);
    s->close();
}

TEST_CASE("rpc_session: unknown error names from the server are preserved") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) { r.conn->reply_error(r.frame, "ERR_BRAND_NEW_THING"); };
    auto s = make_session(io, srv.endpoint());
    auto r = run_coro(io, s->call(name, {}, args_for(1), 5s));
    REQUIRE(r.has_value()); // a frame arrived: the RPC-level error is inside it
    CHECK(r->frame_error);
    CHECK(r->error_name == "ERR_BRAND_NEW_THING");
    CHECK(r->frame_error.message() == "ERR_BRAND_NEW_THING");
    CHECK(r->payload.empty());
    s->close();
}

TEST_CASE("rpc_session: a known RPC-level error comes back as the frame's error") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) { r.conn->reply_error(r.frame, "ERR_HANDLER_NOT_FOUND"); };
    auto s = make_session(io, srv.endpoint());
    auto r = run_coro(io, s->call("RPC_NO_SUCH_THING", {}, args_for(1), 5s));
    REQUIRE(r.has_value());
    CHECK(r->frame_error == rdsn_errc::ERR_HANDLER_NOT_FOUND);
    s->close();
}

TEST_CASE("rpc_session: a reply with another RPC's name fails the call with unexpected_reply") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) {
        r.conn->send(
            wire::encode_error_response("ERR_OK", "RPC_SOMETHING_ELSE_ACK", r.frame.seqid));
    };
    auto s = make_session(io, srv.endpoint());
    auto r = run_coro(io, s->call(name, {}, args_for(1), 5s));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::unexpected_reply);
    s->close();
}

TEST_CASE("rpc_session: 200 concurrent calls share one connection and each gets its own reply") {
    asio::io_context io;
    fake_server srv(io);
    std::vector<fake_request> held;
    srv.on_request = [&](fake_request r) {
        // Answer in batches of 10, newest first, to mix the order.
        held.push_back(std::move(r));
        if (held.size() == 10) {
            for (auto it = held.rbegin(); it != held.rend(); ++it)
                it->conn->reply_echo(it->frame);
            held.clear();
        }
    };
    auto s = make_session(io, srv.endpoint());
    std::vector<background_call> calls(200);
    for (int i = 0; i < 200; ++i)
        calls[static_cast<std::size_t>(i)].start(io, s, 1000 + i, 10s);
    run_coro(io, until([&] {
                 return std::all_of(calls.begin(), calls.end(),
                                    [](const auto& c) { return c.outcome.has_value(); });
             }),
             20s);
    for (int i = 0; i < 200; ++i) {
        const auto& o = *calls[static_cast<std::size_t>(i)].outcome;
        REQUIRE(o.has_value());
        CHECK(carries(*o, args_for(1000 + i)));
    }
    CHECK(srv.connections_accepted() == 1);
    CHECK(s->connections_opened() == 1);
    CHECK(s->pending_calls() == 0);
    s->close();
}

TEST_CASE("rpc_session: a connection reset mid-frame fails the pending calls; the next call "
          "reconnects") {
    asio::io_context io;
    fake_server srv(io);
    bool first = true;
    srv.on_request = [&](fake_request r) {
        if (!first) {
            r.conn->reply_echo(r.frame);
            return;
        }
        first = false;
        auto frame =
            wire::encode_response("ERR_OK", r.frame.name + "_ACK", r.frame.seqid, args_for(1));
        frame.resize(frame.size() / 2); // half a frame, then RST
        r.conn->send(std::move(frame));
        asio::post(io, [c = r.conn] { c->reset(); });
    };
    auto s = make_session(io, srv.endpoint());
    auto failed = run_coro(io, s->call(name, {}, args_for(1), 5s));
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error() != client_errc::timeout);
    CHECK(is_retryable(failed.error()));
    CHECK_FALSE(s->is_connected());
    auto ok = run_coro(io, s->call(name, {}, args_for(2), 5s));
    REQUIRE(ok.has_value());
    CHECK(carries(*ok, args_for(2)));
    CHECK(srv.connections_accepted() == 2);
    CHECK(s->connections_opened() == 2);
    s->close();
}

TEST_CASE("rpc_session: the server closing the connection fails every pending call with "
          "connection_closed") {
    asio::io_context io;
    fake_server srv(io);
    std::vector<fake_request> held;
    srv.on_request = [&](fake_request r) {
        held.push_back(std::move(r));
        if (held.size() == 2)
            held.back().conn->close_after_writes();
    };
    auto s = make_session(io, srv.endpoint());
    background_call a, b;
    a.start(io, s, 1, 5s);
    b.start(io, s, 2, 5s);
    run_coro(io, until([&] { return a.outcome && b.outcome; }));
    REQUIRE_FALSE(a.outcome->has_value());
    REQUIRE_FALSE(b.outcome->has_value());
    CHECK(a.outcome->error() == client_errc::connection_closed);
    CHECK(b.outcome->error() == client_errc::connection_closed);
    CHECK(s->pending_calls() == 0);
    s->close();
}

TEST_CASE("rpc_session: garbage from the server closes the connection with malformed_frame") {
    asio::io_context io;
    fake_server srv(io);
    std::vector<fake_request> held;
    srv.on_request = [&](fake_request r) {
        held.push_back(std::move(r));
        if (held.size() == 2) // a length below any valid frame, then junk
            held.back().conn->send({0x00, 0x00, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00});
    };
    auto s = make_session(io, srv.endpoint());
    background_call a, b;
    a.start(io, s, 1, 5s);
    b.start(io, s, 2, 5s);
    run_coro(io, until([&] { return a.outcome && b.outcome; }));
    REQUIRE_FALSE(a.outcome->has_value());
    REQUIRE_FALSE(b.outcome->has_value());
    CHECK(a.outcome->error() == client_errc::malformed_frame);
    CHECK(b.outcome->error() == client_errc::malformed_frame);
    CHECK_FALSE(s->is_connected());
    // The server sees the client drop the connection.
    run_coro(io, until([&] { return srv.connections_ended() == 1; }));
    s->close();
}

TEST_CASE("rpc_session: a frame above max_frame_size fails the call with frame_too_large") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) {
        const wire::bytes big(4096, 0x41);
        r.conn->send(
            wire::encode_response("ERR_OK", r.frame.name + "_ACK", r.frame.seqid, big, 0x0B));
    };
    auto o = fast_options();
    o.max_frame_size = 1024;
    auto s = make_session(io, srv.endpoint(), o);
    auto r = run_coro(io, s->call(name, {}, args_for(1), 5s));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::frame_too_large);
    s->close();
}

TEST_CASE("rpc_session: a refused connection fails the call with a retryable error") {
    asio::io_context io;
    rpc::endpoint dead;
    {
        fake_server srv(io);
        dead = srv.endpoint();
    } // closed: nothing listens there now
    auto s = make_session(io, dead);
    auto r = run_coro(io, s->call(name, {}, args_for(1), 5s));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() != client_errc::timeout);
    CHECK(is_retryable(r.error()));
    s->close();
}

TEST_CASE("rpc_session: after a failed connect the next call waits out the backoff") {
    asio::io_context io;
    rpc::endpoint dead;
    {
        fake_server srv(io);
        dead = srv.endpoint();
    }
    auto o = fast_options();
    o.backoff_initial = 1h; // no reconnect attempt can happen within this test
    o.backoff_max = 1h;
    auto s = make_session(io, dead, o);
    auto refused = run_coro(io, s->call(name, {}, args_for(1), 5s));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() != client_errc::timeout);
    // Still backing off: the call waits instead of dialling again, and its own deadline ends it.
    auto waiting = run_coro(io, s->call(name, {}, args_for(2), 30ms));
    REQUIRE_FALSE(waiting.has_value());
    CHECK(waiting.error() == client_errc::timeout);
    CHECK(s->connections_opened() == 0);
    // close() stops the backoff wait: nothing is left running on the io_context.
    s->close();
    io.restart();
    io.run_for(5s);
    CHECK(io.stopped());
}

TEST_CASE("rpc_session: close() fails pending calls with cancelled and refuses later calls") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request) {};
    auto s = make_session(io, srv.endpoint());
    background_call a;
    a.start(io, s, 1, 1h);
    run_coro(io, until([&] { return srv.requests().size() == 1; }));
    s->close();
    run_coro(io, until([&] { return a.outcome.has_value(); }));
    REQUIRE_FALSE(a.outcome->has_value());
    CHECK(a.outcome->error() == client_errc::cancelled);
    auto later = run_coro(io, s->call(name, {}, args_for(2), 5s));
    REQUIRE_FALSE(later.has_value());
    CHECK(later.error() == client_errc::cancelled);
    run_coro(io, until([&] { return srv.connections_ended() == 1; }));
}

TEST_CASE("rpc_session: dropping the last reference closes an idle connection") {
    asio::io_context io;
    fake_server srv(io);
    auto s = make_session(io, srv.endpoint());
    REQUIRE(run_coro(io, s->call(name, {}, args_for(1), 5s)).has_value());
    std::weak_ptr<rpc::rpc_session> weak = s;
    s.reset();
    CHECK(weak.expired()); // the read loop does not keep it alive
    run_coro(io, until([&] { return srv.connections_ended() == 1; }));
}

TEST_CASE("rpc_session: send_oneway writes the request and waits for no reply") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) {
        if (r.frame.name != "RPC_RRDB_RRDB_CLEAR_SCANNER")
            r.conn->reply_echo(r.frame);
    };
    auto s = make_session(io, srv.endpoint());
    const wire::bytes context_id{0, 0, 0, 0, 0, 0, 0, 42};
    auto st = run_coro(io, s->send_oneway("RPC_RRDB_RRDB_CLEAR_SCANNER", {}, context_id, 0x0A));
    CHECK(st.has_value());
    CHECK(s->pending_calls() == 0);
    auto r = run_coro(io, s->call(name, {}, args_for(5), 5s));
    REQUIRE(r.has_value());
    REQUIRE(srv.requests().size() == 2);
    CHECK(srv.requests()[0].name == "RPC_RRDB_RRDB_CLEAR_SCANNER");
    CHECK(srv.requests()[0].type == wire::message_type::call);
    s->close();
}

TEST_CASE("session_pool: one session and one connection per endpoint") {
    asio::io_context io;
    fake_server one(io);
    fake_server two(io);
    rpc::session_pool pool(io.get_executor(), fast_options());
    auto a = pool.get(one.endpoint());
    auto b = pool.get(one.endpoint());
    auto c = pool.get(two.endpoint());
    CHECK(a == b);
    CHECK(a != c);
    CHECK(pool.size() == 2);
    run_coro(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            for (auto* srv : {&one, &two}) {
                auto session = pool.get(srv->endpoint());
                auto op = session->call(name, {}, args_for(i), 5s);
                auto r = co_await std::move(op);
                CHECK(r.has_value());
            }
        }
    });
    CHECK(one.connections_accepted() == 1);
    CHECK(two.connections_accepted() == 1);
    pool.close_all();
    CHECK(pool.size() == 0);
    run_coro(io,
             until([&] { return one.connections_ended() == 1 && two.connections_ended() == 1; }));
}
