// pegasus-load behind a MetaProxy-style ZooKeeper entry (real ZooKeeper + in-process pegasus-sim
// with two clusters): after the entry is switched to another cluster and the source table denies
// with reconfig*all, writes re-resolve and continue on the new cluster.
#include "load_fixture.hpp"

#include <support/zk_server.hpp>

#include <tablemigrator/zk/client.hpp>

using namespace tablemigrator;
using namespace tablemigrator::load;
using namespace tablemigrator::load::test;
using sim::test::sim_fixture;

namespace {

sim::sim_config two_clusters() {
    spdlog::set_level(spdlog::level::warn); // before any ZooKeeper thread logs
    auto cfg = sim::parse_config(R"({"clusters": [
        {"name": "src", "replica_servers": 3,
         "tables": [{"name": "t", "partition_count": 8, "replica_count": 3}]},
        {"name": "dst", "replica_servers": 2,
         "tables": [{"name": "pad", "partition_count": 4, "replica_count": 2},
                    {"name": "t", "partition_count": 8, "replica_count": 2}]}]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters)
        c.timing.config_sync_interval = sim::millis(50);
    return *cfg;
}

std::string entry(const std::string& cluster, std::uint16_t meta_port) {
    return R"({"cluster_name": ")" + cluster + R"(", "meta_addrs": "127.0.0.1:)" +
           std::to_string(meta_port) + R"("})";
}

zk::connect_options zk_opts() {
    zk::connect_options o;
    o.session_timeout = 6000ms;
    o.connect_timeout = 10000ms;
    o.operation_timeout = 3000ms;
    return o;
}

load_record only_cluster(const load_record& r, const std::string& cluster) {
    load_record out;
    out.tables = r.tables;
    for (const auto& a : r.acks)
        if (a.cluster == cluster)
            out.acks.push_back(a);
    return out;
}

} // namespace

TEST_CASE("pegasus-load: a MetaProxy switch plus reconfig*all on the source moves writes to the "
          "new cluster") {
    sim_fixture fx(two_clusters());
    tablemigrator::test::zk_server zk_srv;
    const auto src_meta = fx.meta_port("src");
    const auto dst_meta = fx.meta_port("dst");

    asio::io_context io;
    rpc::session_pool pool(io.get_executor(), fast_sessions());
    table_resolver resolver(pool, zk_source{zk_srv.connect_string(), "/proxy", zk_opts()},
                            fast_resolver());
    table_resolver dst_direct(pool, std::vector<rpc::endpoint>{{"127.0.0.1", dst_meta}},
                              fast_resolver());
    table_resolver src_direct(pool, std::vector<rpc::endpoint>{{"127.0.0.1", src_meta}},
                              fast_resolver());
    auto opts = fast_load({"t"});
    load_generator gen(io.get_executor(), pool, resolver, opts);
    running_load load(gen);
    std::shared_ptr<zk::client> admin;
    std::vector<table_verdict> on_dst, on_src, via_zk;

    tablemigrator::test::run_coro(
        io,
        [&]() -> asio::awaitable<void> {
            auto await_1 = asio::this_coro::executor;
            auto ex = co_await std::move(await_1);
            auto connect = zk::client::connect(ex, zk_srv.connect_string(), zk_opts());
            auto c = co_await std::move(connect);
            REQUIRE_MESSAGE(c.has_value(), c.error().message());
            admin = *c;
            zk::create_options co;
            co.make_parents = true;
            auto create = admin->create("/proxy/t", entry("src", src_meta), co);
            auto created = co_await std::move(create);
            REQUIRE(created.has_value());

            auto await_2 = load.start();
            co_await std::move(await_2);
            auto await_3 = wait_until([&] { return gen.stats("t").acknowledged >= 30; }, 10s);
            const bool ok_3 = co_await std::move(await_3);
            CHECK(ok_3);
            CHECK(gen.stats("t").cluster == "src");

            // The migrator's cutover: switch the entry, then make the source redirect stale
            // clients.
            auto set = admin->set("/proxy/t", entry("dst", dst_meta), -1);
            auto st = co_await std::move(set);
            CHECK(st.has_value());
            auto await_4 = set_deny(pool, src_meta, "t", "reconfig*all");
            const bool ok_4 = co_await std::move(await_4);
            CHECK(ok_4);

            auto await_5 = wait_until(
                [&] {
                    return gen.stats("t").cluster == "dst" &&
                           only_cluster(gen.record(), "dst").acks.size() >= 40;
                },
                15s);
            const bool ok_5 = co_await std::move(await_5);
            CHECK(ok_5);
            auto await_6 = load.finish();
            const bool ok_6 = co_await std::move(await_6);
            CHECK(ok_6);

            auto rec = gen.record();
            auto v1 = verify(dst_direct, pool, only_cluster(rec, "dst"), fast_verify(false));
            on_dst = co_await std::move(v1);
            // The source denies reads now; lift the deny to check what was acknowledged there.
            auto await_7 = set_deny(pool, src_meta, "t", "");
            const bool ok_7 = co_await std::move(await_7);
            CHECK(ok_7);
            auto await_8 = sleep_ms(300ms);
            co_await std::move(await_8);
            auto v2 = verify(src_direct, pool, only_cluster(rec, "src"), fast_verify(true));
            on_src = co_await std::move(v2);
            // verify --zk follows the entry too: the dst keys are found through it.
            auto v3 = verify(resolver, pool, only_cluster(rec, "dst"), fast_verify(true));
            via_zk = co_await std::move(v3);
            admin->close();
            resolver.close();
        },
        60s);

    REQUIRE(load.outcome().has_value());
    auto s = gen.stats("t");
    CHECK(s.failed == 0);
    CHECK(s.routing.route_changes >= 1);
    CHECK(s.routing.errors.count("ERR_INVALID_STATE") +
              s.routing.errors.count("ERR_OBJECT_NOT_FOUND") >=
          1);
    auto rec = gen.record();
    auto src_keys = only_cluster(rec, "src").acks.size();
    auto dst_keys = only_cluster(rec, "dst").acks.size();
    CHECK(src_keys >= 30);
    CHECK(dst_keys >= 40);
    CHECK(src_keys + dst_keys == rec.acks.size());
    // Writes acknowledged by dst really are in dst's table t (app_id 2 there), not in src.
    const auto& last = rec.acks.back();
    CHECK(last.cluster == "dst");
    CHECK(sim_value(fx, "dst", "t", last.hash_key, last.sort_key) == last.value);
    CHECK_FALSE(sim_value(fx, "src", "t", last.hash_key, last.sort_key).has_value());
    CHECK(routing_violations(fx, "src") == 0);
    CHECK(routing_violations(fx, "dst") == 0);
    for (const auto* vs : {&on_dst, &on_src, &via_zk}) {
        REQUIRE(vs->size() == 1);
        const auto& v = vs->front();
        CHECK(v.error.empty());
        CHECK(v.missing == 0);
        CHECK(v.found == v.acknowledged);
        CHECK(v.acknowledged > 0);
    }
}

TEST_CASE("pegasus-load: a table without a ZooKeeper entry fails the start with ZooKeeper's "
          "no-node error") {
    sim_fixture fx(two_clusters());
    tablemigrator::test::zk_server zk_srv;
    asio::io_context io;
    rpc::session_pool pool(io.get_executor(), fast_sessions());
    table_resolver resolver(pool, zk_source{zk_srv.connect_string(), "/proxy", zk_opts()},
                            fast_resolver());
    load_generator gen(io.get_executor(), pool, resolver, fast_load({"t"}));
    auto st = tablemigrator::test::run_coro(io, gen.run(), 20s);
    resolver.close();
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error() == zk_errc::no_node);
    CHECK(gen.failed_table() == "t");
}

namespace {

std::size_t sim_keys(sim_fixture& fx, const std::string& cluster, const std::string& table) {
    return fx.on_sim([&] {
        auto* t = fx.sim().cluster(cluster).find_table(table);
        std::size_t n = 0;
        if (t)
            for (const auto& p : t->partitions)
                n += p.data.size();
        return n;
    });
}

sim::sim_config duplicating_clusters() {
    spdlog::set_level(spdlog::level::warn);
    auto cfg = sim::parse_config(R"({"clusters": [
        {"name": "src", "replica_servers": 3,
         "duplication_group": {"src": 1, "dst": 2}, "remote_clusters": {"dst": ""},
         "tables": [{"name": "t", "partition_count": 8, "replica_count": 3}],
         "timing": {"checkpoint_copy_ms": 100, "duplication_sync_period_ms": 100,
                    "perf_counter_interval_ms": 200, "meta_persist_throttle_ms": 100,
                    "group_check_interval_ms": 300, "shipping_rate": 5000}},
        {"name": "dst", "replica_servers": 3, "duplication_group": {"src": 1, "dst": 2},
         "tables": [{"name": "pad", "partition_count": 4, "replica_count": 3}]}]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters)
        c.timing.config_sync_interval = sim::millis(50);
    return *cfg;
}

} // namespace

TEST_CASE("pegasus-load: through a full cutover (duplicate, freeze with timeout*write, drain, "
          "switch, reconfig*all) every acknowledged write is found on the target") {
    sim_fixture fx(duplicating_clusters());
    tablemigrator::test::zk_server zk_srv;
    const auto src_meta = fx.meta_port("src");
    const auto dst_meta = fx.meta_port("dst");

    asio::io_context io;
    rpc::session_pool pool(io.get_executor(), fast_sessions());
    table_resolver resolver(pool, zk_source{zk_srv.connect_string(), "/proxy", zk_opts()},
                            fast_resolver());
    auto opts = fast_load({"t"});
    load_generator gen(io.get_executor(), pool, resolver, opts);
    running_load load(gen);
    std::shared_ptr<zk::client> admin;
    std::vector<table_verdict> via_zk;

    tablemigrator::test::run_coro(
        io,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            auto connect = zk::client::connect(ex, zk_srv.connect_string(), zk_opts());
            auto c = co_await std::move(connect);
            REQUIRE_MESSAGE(c.has_value(), c.error().message());
            admin = *c;
            zk::create_options co;
            co.make_parents = true;
            auto create = admin->create("/proxy/t", entry("src", src_meta), co);
            auto created = co_await std::move(create);
            REQUIRE(created.has_value());

            auto start = load.start();
            co_await std::move(start);
            auto w1 = wait_until([&] { return gen.stats("t").acknowledged >= 30; }, 10s);
            const bool ok1 = co_await std::move(w1);
            CHECK(ok1);

            // Duplication src -> dst with a checkpoint, while the load keeps writing.
            meta::meta_client src_mc(pool, {rpc::endpoint{"127.0.0.1", src_meta}});
            meta::add_duplication_request add;
            add.app_name = "t";
            add.remote_cluster = "dst";
            add.checkpoint = true;
            auto add_op = src_mc.add_duplication(add);
            auto added = co_await std::move(add_op);
            REQUIRE_MESSAGE(added.has_value(), added.error().message());
            bool shipping = false;
            for (int i = 0; i < 500 && !shipping; ++i) {
                auto q = src_mc.query_duplication("t");
                auto dups = co_await std::move(q);
                shipping = dups && !dups->entries.empty() &&
                           dups->entries[0].status == meta::duplication_status::log;
                if (!shipping) {
                    auto nap = sleep_ms(20ms);
                    co_await std::move(nap);
                }
            }
            REQUIRE(shipping);

            // Freeze: writes to the source vanish (the client times out and keeps retrying).
            auto freeze = set_deny(pool, src_meta, "t", "timeout*write");
            const bool frozen = co_await std::move(freeze);
            CHECK(frozen);
            auto w2 = wait_until(
                [&] { return gen.stats("t").outages > 0 && gen.stats("t").in_flight > 0; }, 10s);
            const bool ok2 = co_await std::move(w2);
            CHECK(ok2);
            // Drain: everything the source holds has reached the target.
            auto w3 = wait_until(
                [&] {
                    const auto n = sim_keys(fx, "src", "t");
                    return n > 0 && sim_keys(fx, "dst", "t") == n;
                },
                15s);
            const bool drained = co_await std::move(w3);
            CHECK(drained);

            // Switch the entry, then redirect stale clients away from the source.
            auto set = admin->set("/proxy/t", entry("dst", dst_meta), -1);
            auto st = co_await std::move(set);
            CHECK(st.has_value());
            auto redirect = set_deny(pool, src_meta, "t", "reconfig*all");
            const bool redirected = co_await std::move(redirect);
            CHECK(redirected);
            auto w4 = wait_until(
                [&] { return only_cluster(gen.record(), "dst").acks.size() >= 40; }, 15s);
            const bool ok4 = co_await std::move(w4);
            CHECK(ok4);
            auto fin = load.finish();
            const bool ok5 = co_await std::move(fin);
            CHECK(ok5);

            auto v = verify(resolver, pool, gen.record(), fast_verify(false));
            via_zk = co_await std::move(v);
            admin->close();
            resolver.close();
        },
        60s);

    auto s = gen.stats("t");
    CHECK(s.cluster == "dst");
    CHECK(s.failed == 0);
    // The freeze lasted at least one attempt timeout: the writes timed out on the frozen source.
    CHECK(s.write_downtime >= opts.retry.attempt_timeout);
    CHECK_FALSE(s.downtime_unrecovered);
    auto rec = gen.record();
    CHECK(only_cluster(rec, "src").acks.size() >= 30);
    REQUIRE(via_zk.size() == 1);
    CHECK(via_zk[0].error.empty());
    CHECK(via_zk[0].acknowledged == static_cast<std::int64_t>(rec.acks.size()));
    CHECK(via_zk[0].missing == 0);
    CHECK(via_zk[0].found == via_zk[0].acknowledged);
    CHECK(routing_violations(fx, "src") == 0);
    CHECK(routing_violations(fx, "dst") == 0);
}
