// switch_table against a real ZooKeeper server: the normal switch, refusals, concurrent
// writers, outages, session expiry, chroot, ACLs, escaping, and a failing reconfig step.
#include "../zk/deadline_runner.hpp"

#include <support/zk_server.hpp>

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/metaproxy/switch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <thread>

using namespace tablemigrator;
using namespace tablemigrator::metaproxy;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using st = switch_outcome::state;

namespace {

const std::string source_json = R"({"cluster_name": "onebox", "meta_addrs": "s1:34601,s2:34601"})";

struct fixture {
    fixture() {
        spdlog::set_level(spdlog::level::err);
        test::zk_server_options o;
        o.tick_time_ms = 200;
        srv.emplace(o);
    }
    std::optional<test::zk_server> srv;
    asio::io_context io;
    int reconfig_calls = 0;

    zk::connect_options opts(std::chrono::milliseconds session = 4000ms) const {
        zk::connect_options o;
        o.session_timeout = session;
        o.connect_timeout = 10s;
        o.operation_timeout = 8s;
        return o;
    }
    zk_connector connector(std::string cs, zk::connect_options o) {
        return [this, cs, o]() { return zk::client::connect(io.get_executor(), cs, o); };
    }
    zk_connector connector() { return connector(srv->connect_string(), opts()); }
    reconfig_fn reconfig(status result = {}) {
        return [this, result]() -> asio::awaitable<status> {
            ++reconfig_calls;
            co_return result;
        };
    }
    asio::awaitable<std::shared_ptr<zk::client>> admin(std::optional<std::string> auth = {}) {
        auto o = opts();
        o.digest_auth = auth;
        auto c = co_await zk::client::connect(io.get_executor(), srv->connect_string(), o);
        REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message()));
        co_return *c;
    }
};

switch_request request() {
    switch_request r;
    r.table = "temp";
    r.root = "/metaproxy";
    r.source_cluster = "onebox";
    r.target_cluster = "onebox2";
    r.expected_target_cluster = "onebox2";
    r.target_meta_addrs = "t1:34601,t2:34601";
    return r;
}

const std::string target_json =
    serialize_entry({request().target_cluster, request().target_meta_addrs});

asio::awaitable<void> seed(std::shared_ptr<zk::client> c, std::string path, std::string data,
                           zk::create_options o = {}) {
    o.make_parents = true;
    auto r = co_await c->create(path, data, o);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message()));
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace

TEST_CASE("metaproxy switch: points the entry at the target and sets reconfig") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp", source_json);
        auto out = co_await switch_table(f.connector(), request(), f.reconfig());
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        CHECK(out.reconfig_set);
        CHECK(out.warnings.empty());
        CHECK(f.reconfig_calls == 1);
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == target_json);
        CHECK(now->stat.version == 1);
    }, 30s);
}

TEST_CASE("metaproxy switch: an entry already naming the target is not written; reconfig still set") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp",
                      R"({"cluster_name": "onebox2", "meta_addrs": "t2:34601, t1:34601"})");
        auto out = co_await switch_table(f.connector(), request(), f.reconfig());
        CHECK(!out.error);
        CHECK(out.entry_state == st::already_switched);
        CHECK(out.reconfig_set);
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->stat.version == 0); // no write
    }, 30s);
}

TEST_CASE("metaproxy switch: an entry naming another cluster is refused and left alone") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        const std::string other = R"({"cluster_name": "elsewhere", "meta_addrs": "e1:1,e2:2"})";
        co_await seed(admin, "/metaproxy/temp", other);
        auto out = co_await switch_table(f.connector(), request(), f.reconfig());
        CHECK(out.error == client_errc::precondition_failed);
        CHECK(out.entry_state == st::unchanged);
        CHECK_FALSE(out.reconfig_set);
        CHECK(f.reconfig_calls == 0);
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == other);
    }, 30s);
}

TEST_CASE("metaproxy switch: a target whose name differs from -c is refused before any I/O") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp", source_json);
        auto r = request();
        r.expected_target_cluster = "typo";
        auto out = co_await switch_table(f.connector(), r, f.reconfig());
        CHECK(out.error == client_errc::precondition_failed);
        CHECK(out.entry_state == st::unchanged);
        CHECK(f.reconfig_calls == 0);
    }, 30s);
}

TEST_CASE("metaproxy switch: a missing entry fails without create_missing") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        auto out = co_await switch_table(f.connector(), request(), f.reconfig());
        CHECK(out.error == zk_errc::no_node);
        CHECK(out.entry_state == st::unchanged);
        CHECK(f.reconfig_calls == 0);
        auto none = co_await admin->exists("/metaproxy/temp");
        REQUIRE(none.has_value());
        CHECK_FALSE(none->has_value());
    }, 30s);
}

TEST_CASE("metaproxy switch: a missing entry is created with its parents under create_missing") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        auto r = request();
        r.root = "/deep/metaproxy/root";
        r.create_missing = true;
        auto out = co_await switch_table(f.connector(), r, f.reconfig());
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        CHECK(out.reconfig_set);
        auto now = co_await admin->get("/deep/metaproxy/root/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == target_json);
    }, 30s);
}

TEST_CASE("metaproxy switch: a concurrent writer between read and write stops the switch") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp", source_json);
        const std::string theirs = R"({"cluster_name": "onebox", "meta_addrs": "s3:1,s4:2"})";
        switch_hooks hooks;
        hooks.before_write = [&](zk::client&) -> asio::awaitable<void> {
            auto w = co_await admin->set("/metaproxy/temp", theirs, -1);
            REQUIRE(w.has_value());
        };
        auto out = co_await switch_table(f.connector(), request(), f.reconfig(), hooks);
        CHECK(out.error == zk_errc::bad_version);
        CHECK(out.entry_state == st::unchanged);
        CHECK(f.reconfig_calls == 0);
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == theirs);
    }, 30s);
}

TEST_CASE("metaproxy switch: a ZooKeeper restart before the first read is ridden out, and the switch completes") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        {
            auto admin = co_await f.admin();
            co_await seed(admin, "/metaproxy/temp", source_json);
            admin->close();
        }
        switch_hooks hooks;
        std::thread restarter;
        hooks.before_read = [&](zk::client&) -> asio::awaitable<void> {
            // The read goes to a stopped server and is pending when the server dies and comes
            // back: the client sees a connection loss for it, not just a slow answer.
            f.srv->pause();
            restarter = std::thread([&] {
                std::this_thread::sleep_for(300ms);
                f.srv->restart();
            });
            co_return;
        };
        auto out = co_await switch_table(f.connector(), request(), f.reconfig(), hooks);
        restarter.join();
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        CHECK(f.reconfig_calls == 1);
    }, 60s);
}

TEST_CASE("metaproxy switch: a session that expires before the write leaves the entry unchanged") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp", source_json);
        switch_hooks hooks;
        hooks.before_write = [&](zk::client& c) -> asio::awaitable<void> {
            // A paused server keeps its session clock: on resume it expires the session.
            for (int i = 0; i < 3 && c.state() != zk::session_state::expired; ++i) {
                f.srv->pause();
                co_await sleep_for(3000ms);
                f.srv->resume();
                for (int j = 0; j < 40 && c.state() != zk::session_state::expired; ++j)
                    co_await sleep_for(100ms);
            }
            REQUIRE(c.state() == zk::session_state::expired);
        };
        auto out = co_await switch_table(f.connector(f.srv->connect_string(), f.opts(1000ms)),
                                         request(), f.reconfig(), hooks);
        CHECK(out.error == zk_errc::session_expired);
        CHECK(out.entry_state == st::unchanged);
        CHECK(f.reconfig_calls == 0);
        auto fresh = co_await f.admin();
        auto now = co_await fresh->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == source_json);
    }, 60s);
}

TEST_CASE("metaproxy switch: a server restart between read and write still ends switched") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        {
            auto admin = co_await f.admin();
            co_await seed(admin, "/metaproxy/temp", source_json);
            admin->close();
        }
        switch_hooks hooks;
        hooks.before_write = [&](zk::client&) -> asio::awaitable<void> {
            f.srv->restart(); // the write goes out while the client is reconnecting
            co_return;
        };
        auto out = co_await switch_table(f.connector(), request(), f.reconfig(), hooks);
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        CHECK(out.reconfig_set);
        auto admin = co_await f.admin();
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == target_json);
    }, 60s);
}

TEST_CASE("metaproxy switch: works under a chroot in the connect string") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/pegasus/metaproxy/temp", source_json);
        const auto cs = zk_connect_string(f.srv->connect_string(), "/pegasus");
        auto out = co_await switch_table(f.connector(cs, f.opts()), request(), f.reconfig());
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        auto now = co_await admin->get("/pegasus/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == target_json);
    }, 30s);
}

TEST_CASE("metaproxy switch: a digest-protected entry needs the credentials") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto owner = co_await f.admin(std::string("ops:pw"));
        zk::create_options protect;
        protect.digest_acl = "ops:pw";
        co_await seed(owner, "/metaproxy/temp", source_json, protect);

        auto denied = co_await switch_table(f.connector(), request(), f.reconfig());
        CHECK(denied.error == zk_errc::no_auth);
        CHECK(denied.entry_state == st::unchanged);
        CHECK(f.reconfig_calls == 0);

        auto o = f.opts();
        o.digest_auth = "ops:pw";
        auto out = co_await switch_table(f.connector(f.srv->connect_string(), o), request(),
                                         f.reconfig());
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        auto now = co_await owner->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == target_json);
    }, 30s);
}

TEST_CASE("metaproxy switch: names with quotes and backslashes are written as valid JSON") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        auto r = request();
        r.source_cluster = "src \"q\\";
        r.target_cluster = "tgt \"quoted\" \\ back";
        r.expected_target_cluster = r.target_cluster;
        // Built in its own statement: g++ 12 destroys nested temporaries of a co_await
        // full-expression wrongly.
        const proxy_entry source{r.source_cluster, "s1:1,s2:2"};
        const std::string initial = serialize_entry(source);
        co_await seed(admin, "/metaproxy/temp", initial);
        auto out = co_await switch_table(f.connector(), r, f.reconfig());
        CHECK_MESSAGE(!out.error, out.message);
        CHECK(out.entry_state == st::switched);
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        auto parsed = parse_entry(now->data);
        REQUIRE(parsed.has_value());
        CHECK(parsed->cluster_name == r.target_cluster);
        CHECK(parsed->meta_addrs == r.target_meta_addrs);
    }, 30s);
}

TEST_CASE("metaproxy switch: a failing reconfig step reports switched with reconfig not set") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp", source_json);
        auto out = co_await switch_table(f.connector(), request(),
                                         f.reconfig(error_code(rdsn_errc::ERR_TIMEOUT)));
        CHECK(out.error == rdsn_errc::ERR_TIMEOUT);
        CHECK(out.entry_state == st::switched);
        CHECK_FALSE(out.reconfig_set);
        CHECK(f.reconfig_calls == 1);
        CHECK(out.message.find("reconfig") != std::string::npos);
        auto now = co_await admin->get("/metaproxy/temp");
        REQUIRE(now.has_value());
        CHECK(now->data == target_json);
    }, 30s);
}

TEST_CASE("metaproxy switch: a one-address meta list switches with a warning") {
    fixture f;
    test::run_with_deadline(f.io, [&]() -> asio::awaitable<void> {
        auto admin = co_await f.admin();
        co_await seed(admin, "/metaproxy/temp", source_json);
        auto r = request();
        r.target_meta_addrs = "t1:34601";
        auto out = co_await switch_table(f.connector(), r, f.reconfig());
        CHECK(!out.error);
        CHECK(out.entry_state == st::switched);
        REQUIRE(out.warnings.size() == 1);
        CHECK(out.warnings[0].find("fewer than two") != std::string::npos);
    }, 30s);
}
