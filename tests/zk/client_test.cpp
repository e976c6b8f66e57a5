// zk::client against a real ZooKeeper server (tests/support/zk_server): data operations,
// ACLs, chroot, cancellation, outages, reconnection and session expiry.
#include "deadline_runner.hpp"

#include <support/zk_server.hpp>

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/zk/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

using namespace tablemigrator;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using zk::session_state;

namespace {

// A short tick lets tests ask for short sessions (the server allows 2..20 ticks).
test::zk_server_options fast_ticks() {
    spdlog::set_level(spdlog::level::err); // spdlog used on the main thread before ZK threads
    test::zk_server_options o;
    o.tick_time_ms = 200;
    return o;
}

zk::connect_options opts(std::chrono::milliseconds session = 4000ms) {
    zk::connect_options o;
    o.session_timeout = session;
    o.connect_timeout = 10s;
    o.operation_timeout = 8s;
    return o;
}

asio::awaitable<std::shared_ptr<zk::client>> must_connect(std::string cs, zk::connect_options o) {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await zk::client::connect(ex, std::move(cs), std::move(o));
    REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message()));
    co_return *c;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// Waits (bounded) until the client reports `want`.
asio::awaitable<bool> wait_state(std::shared_ptr<zk::client> c, session_state want,
                                 std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (c->state() != want && std::chrono::steady_clock::now() < until) {
        auto ev = co_await c->wait_for_event(
            std::chrono::duration_cast<std::chrono::milliseconds>(until -
                                                                  std::chrono::steady_clock::now()));
        if (!ev)
            break;
    }
    co_return c->state() == want;
}

} // namespace

TEST_CASE("zk client: connects through a host list with a dead host and reads, writes, checks") {
    test::zk_server srv(fast_ticks());
    const auto dead = test::pick_free_port();
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(
            "127.0.0.1:" + std::to_string(dead) + "," + srv.connect_string(), opts());
        CHECK(c->state() == session_state::connected);

        auto created = co_await c->create("/a", "v0", {});
        REQUIRE(created.has_value());
        CHECK(*created == "/a");

        auto got = co_await c->get("/a");
        REQUIRE(got.has_value());
        CHECK(got->data == "v0");
        CHECK(got->stat.version == 0);

        auto st = co_await c->exists("/a");
        REQUIRE(st.has_value());
        REQUIRE(st->has_value());
        CHECK((*st)->version == 0);
        CHECK((*st)->data_length == 2);

        auto missing = co_await c->exists("/nope");
        REQUIRE(missing.has_value());
        CHECK_FALSE(missing->has_value());

        auto set = co_await c->set("/a", "v1", 0);
        REQUIRE(set.has_value());
        CHECK(set->version == 1);
        auto again = co_await c->get("/a");
        REQUIRE(again.has_value());
        CHECK(again->data == "v1");

        auto nonode = co_await c->get("/nope");
        CHECK(nonode.error() == zk_errc::no_node);
    }, 30s);
}

TEST_CASE("zk client: compare-and-set with a stale version fails with bad_version") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts());
        REQUIRE((co_await c->create("/cas", "v0", {})).has_value());
        REQUIRE((co_await c->set("/cas", "v1", 0)).has_value());
        auto stale = co_await c->set("/cas", "v2", 0);
        REQUIRE(stale.has_error());
        CHECK(stale.error() == zk_errc::bad_version);
        CHECK_FALSE(is_retryable(stale.error()));
        auto got = co_await c->get("/cas");
        REQUIRE(got.has_value());
        CHECK(got->data == "v1");
        CHECK(got->stat.version == 1);
        // -1 writes whatever the version is.
        auto any = co_await c->set("/cas", "v3", -1);
        REQUIRE(any.has_value());
        CHECK(any->version == 2);
    }, 30s);
}

TEST_CASE("zk client: create needs parents unless make_parents; duplicates give node_exists") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts());
        auto no_parent = co_await c->create("/p/q/r", "x", {});
        CHECK(no_parent.error() == zk_errc::no_node);

        zk::create_options parents;
        parents.make_parents = true;
        auto deep = co_await c->create("/p/q/r", "x", parents);
        REQUIRE(deep.has_value());
        CHECK(*deep == "/p/q/r");
        auto mid = co_await c->get("/p/q");
        REQUIRE(mid.has_value());
        CHECK(mid->data.empty());
        CHECK(mid->stat.num_children == 1);
        auto leaf = co_await c->get("/p/q/r");
        REQUIRE(leaf.has_value());
        CHECK(leaf->data == "x");

        // Parents that already exist are fine; the node itself existing is not.
        auto sibling = co_await c->create("/p/q/s", "y", parents);
        CHECK(sibling.has_value());
        auto dup = co_await c->create("/p/q/r", "z", parents);
        CHECK(dup.error() == zk_errc::node_exists);
    }, 30s);
}

TEST_CASE("zk client: remove checks the version and reports missing nodes") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts());
        REQUIRE((co_await c->create("/r", "v0", {})).has_value());
        REQUIRE((co_await c->set("/r", "v1", 0)).has_value());
        auto stale = co_await c->remove("/r", 0);
        CHECK(stale.error() == zk_errc::bad_version);
        auto ok = co_await c->remove("/r", 1);
        CHECK(ok.has_value());
        auto gone = co_await c->exists("/r");
        REQUIRE(gone.has_value());
        CHECK_FALSE(gone->has_value());
        auto missing = co_await c->remove("/r", -1);
        CHECK(missing.error() == zk_errc::no_node);
    }, 30s);
}

TEST_CASE("zk client: a chroot in the connect string scopes every path") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto root = co_await must_connect(srv.connect_string(), opts());
        REQUIRE((co_await root->create("/tm", "", {})).has_value());

        auto chrooted = co_await must_connect(srv.connect_string() + "/tm", opts());
        zk::create_options parents;
        parents.make_parents = true;
        auto created = co_await chrooted->create("/x/y", "inside", parents);
        REQUIRE(created.has_value());
        CHECK(*created == "/x/y");

        auto seen = co_await root->get("/tm/x/y");
        REQUIRE(seen.has_value());
        CHECK(seen->data == "inside");
        auto outside = co_await root->exists("/x");
        REQUIRE(outside.has_value());
        CHECK_FALSE(outside->has_value());
    }, 30s);
}

TEST_CASE("zk client: a digest-protected node is denied without auth and allowed with it") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto alice_opts = opts();
        alice_opts.digest_auth = "alice:secret";
        auto alice = co_await must_connect(srv.connect_string(), alice_opts);
        zk::create_options protect;
        protect.digest_acl = "alice:secret";
        REQUIRE((co_await alice->create("/secure", "s0", protect)).has_value());

        auto anon = co_await must_connect(srv.connect_string(), opts());
        auto denied = co_await anon->get("/secure");
        CHECK(denied.error() == zk_errc::no_auth);
        auto denied_set = co_await anon->set("/secure", "evil", -1);
        CHECK(denied_set.error() == zk_errc::no_auth);

        auto wrong_opts = opts();
        wrong_opts.digest_auth = "alice:wrong";
        auto wrong = co_await must_connect(srv.connect_string(), wrong_opts);
        auto denied_wrong = co_await wrong->get("/secure");
        CHECK(denied_wrong.error() == zk_errc::no_auth);

        auto allowed = co_await alice->get("/secure");
        REQUIRE(allowed.has_value());
        CHECK(allowed->data == "s0");
        auto written = co_await alice->set("/secure", "s1", 0);
        CHECK(written.has_value());
    }, 30s);
}

TEST_CASE("zk client: cancelling an in-flight operation completes it at once; the late reply is dropped") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto o = opts(4000ms);
        o.operation_timeout = 60s; // far beyond the test deadline: only cancellation can end it
        auto c = co_await must_connect(srv.connect_string(), o);
        REQUIRE((co_await c->create("/c", "v", {})).has_value());

        // A paused server accepts the request bytes and answers nothing until it resumes.
        srv.pause();
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex, 100ms);
        auto [order, get_ex, got, timer_ec] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(ex, c->get("/c"), asio::deferred), t.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        CHECK(order[0] == 1); // the timer finished first, then the get was cancelled
        CHECK_FALSE(get_ex);
        REQUIRE(got.has_error());
        CHECK(got.error() == asio::error::operation_aborted);
        srv.resume();

        // The abandoned request's reply arrives later and must not disturb anything.
        auto after = co_await c->get("/c");
        REQUIRE(after.has_value());
        CHECK(after->data == "v");
    }, 30s);
}

TEST_CASE("zk client: with the server stopped, operations fail with connection loss") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts());
        REQUIRE((co_await c->create("/down", "v", {})).has_value());
        srv.stop();
        auto got = co_await c->get("/down");
        REQUIRE(got.has_error());
        CHECK(got.error() == zk_errc::connection_loss);
        CHECK(is_retryable(got.error()));
        auto set = co_await c->set("/down", "w", -1);
        CHECK(set.error() == zk_errc::connection_loss);
        CHECK(c->state() == session_state::connecting);
        auto waited = co_await c->wait_connected(300ms);
        CHECK(waited.error() == client_errc::timeout);
    }, 30s);
}

TEST_CASE("zk client: after a server restart the client reconnects and the session survives") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts(2000ms));
        zk::create_options eph;
        eph.ephemeral = true;
        REQUIRE((co_await c->create("/eph", "mine", eph)).has_value());

        srv.stop();
        CHECK(co_await wait_state(c, session_state::connecting, 10s));
        // Standalone ZooKeeper restores sessions from its log and restarts their timers, so even
        // a downtime longer than the session timeout does not expire the session.
        co_await sleep_for(2500ms);
        srv.start();
        auto back = co_await c->wait_connected(15s);
        REQUIRE_MESSAGE(back.has_value(), back.error().message());
        auto still = co_await c->get("/eph");
        REQUIRE(still.has_value());
        CHECK(still->data == "mine");
    }, 45s);
}

TEST_CASE("zk client: an expired session fails every operation; a new session works") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts(1000ms));
        zk::create_options eph;
        eph.ephemeral = true;
        REQUIRE((co_await c->create("/eph", "mine", eph)).has_value());

        // Stopping the server does not expire sessions (it restores them on restart, see the
        // previous test). A paused server keeps its session clock running: on resume it expires
        // the session before it serves the client's reconnect (retried in case the reconnect
        // wins that race).
        for (int attempt = 0; attempt < 3 && c->state() != session_state::expired; ++attempt) {
            srv.pause();
            co_await sleep_for(3000ms);
            srv.resume();
            co_await wait_state(c, session_state::expired, 8s);
        }
        REQUIRE(c->state() == session_state::expired);

        auto got = co_await c->get("/eph");
        CHECK(got.error() == zk_errc::session_expired);
        CHECK_FALSE(is_retryable(got.error()));
        auto set = co_await c->set("/eph", "x", -1);
        CHECK(set.error() == zk_errc::session_expired);
        auto waited = co_await c->wait_connected(1s);
        CHECK(waited.error() == zk_errc::session_expired);

        auto fresh = co_await must_connect(srv.connect_string(), opts(1000ms));
        auto gone = co_await fresh->exists("/eph");
        REQUIRE(gone.has_value());
        CHECK_FALSE(gone->has_value()); // the expired session's ephemeral node went with it
    }, 60s);
}

TEST_CASE("zk client: close completes and later operations fail with closing") {
    test::zk_server srv(fast_ticks());
    asio::io_context io;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto c = co_await must_connect(srv.connect_string(), opts());
        c->close();
        CHECK(c->state() == session_state::closed);
        auto got = co_await c->get("/");
        CHECK(got.error() == zk_errc::closing);
    }, 30s);
}

TEST_CASE("zk client: connect fails with a timeout when no server answers") {
    spdlog::set_level(spdlog::level::err);
    asio::io_context io;
    const auto dead = test::pick_free_port();
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto o = opts();
        o.connect_timeout = 500ms;
        auto c = co_await zk::client::connect(co_await asio::this_coro::executor,
                                              "127.0.0.1:" + std::to_string(dead), o);
        REQUIRE(c.has_error());
        CHECK(c.error() == client_errc::timeout);
    }, 10s);
}
