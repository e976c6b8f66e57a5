// pegasus-load against an in-process pegasus-sim (--meta mode): acknowledged writes are verified,
// routing is exact (the sim rejects misrouted requests), timeout*write shows up as downtime, and
// verify notices a key deleted behind the client's back.
#include "load_fixture.hpp"

using namespace tablemigrator;
using namespace tablemigrator::load;
using namespace tablemigrator::load::test;
using sim::test::sim_fixture;

namespace {

sim::sim_config one_cluster(int partitions = 8) {
    spdlog::set_level(spdlog::level::warn);
    auto cfg = sim::parse_config(R"({"clusters": [
        {"name": "src", "replica_servers": 3, "timing": {"failure_detection_ms": 300},
         "tables": [{"name": "t", "partition_count": 8, "replica_count": 3},
                    {"name": "u", "partition_count": 4, "replica_count": 3}]}]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters) {
        c.timing.config_sync_interval = sim::millis(50);
        c.tables[0].partition_count = partitions;
    }
    return *cfg;
}

struct client_side {
    explicit client_side(std::uint16_t meta_port)
        : pool(io.get_executor(), fast_sessions())
        , resolver(pool, std::vector<rpc::endpoint>{{"127.0.0.1", meta_port}}, fast_resolver()) {}
    asio::io_context io;
    rpc::session_pool pool;
    table_resolver resolver;
};

} // namespace

TEST_CASE(
    "pegasus-load: acknowledged writes on two tables are all found again by GET and by scan") {
    sim_fixture fx(one_cluster());
    client_side cs(fx.meta_port("src"));
    auto opts = fast_load({"t", "u"});
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);

    std::vector<table_verdict> by_get, by_scan;
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto await_1 = load.start();
            co_await std::move(await_1);
            auto await_2 = wait_until(
                [&] {
                    return gen.stats("t").acknowledged >= 60 && gen.stats("u").acknowledged >= 60;
                },
                10s);
            bool enough = co_await std::move(await_2);
            CHECK(enough);
            auto await_3 = load.finish();
            bool stopped = co_await std::move(await_3);
            REQUIRE(stopped);
            auto await_4 = verify(cs.resolver, cs.pool, gen.record(), fast_verify(false));
            by_get = co_await std::move(await_4);
            auto await_5 = verify(cs.resolver, cs.pool, gen.record(), fast_verify(true));
            by_scan = co_await std::move(await_5);
        },
        30s);
    REQUIRE(load.outcome().has_value());

    for (const std::string t : {"t", "u"}) {
        CAPTURE(t);
        auto s = gen.stats(t);
        CHECK(s.failed == 0);
        CHECK(s.in_flight == 0);
        CHECK(s.acknowledged == s.attempted);
        CHECK(s.reads > 0);
        CHECK(s.read_mismatches == 0);
    }
    // Every acknowledged key is stored where the sim expects it, with its value.
    auto rec = gen.record();
    REQUIRE(rec.acks.size() >= 120);
    for (std::size_t i = 0; i < rec.acks.size(); i += 10) {
        const auto& a = rec.acks[i];
        CHECK(sim_value(fx, "src", a.table, a.hash_key, a.sort_key) == a.value);
    }
    CHECK(routing_violations(fx, "src") == 0);

    REQUIRE(by_get.size() == 2);
    REQUIRE(by_scan.size() == 2);
    for (const auto* vs : {&by_get, &by_scan})
        for (const auto& v : *vs) {
            CAPTURE(v.table);
            CHECK(v.error.empty());
            CHECK(v.acknowledged == gen.stats(v.table).acknowledged);
            CHECK(v.found == v.acknowledged);
            CHECK(v.missing == 0);
            CHECK(v.unreadable == 0);
            CHECK(verdict_ok(v));
        }
    auto lines = verdict_lines(by_get[0]);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "verify t: acknowledged " + std::to_string(by_get[0].acknowledged) +
                          ", found " + std::to_string(by_get[0].acknowledged) + ", missing 0");
    CHECK(lines[1].rfind("write downtime t: ", 0) == 0);
}

TEST_CASE(
    "pegasus-load: MULTI_PUT writes are routed by the hash key and every sort key is verified") {
    sim_fixture fx(one_cluster(16));
    client_side cs(fx.meta_port("src"));
    auto opts = fast_load({"t"});
    opts.multi_put = 3;
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);
    std::vector<table_verdict> verdicts;
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto await_1 = load.start();
            co_await std::move(await_1);
            auto await_2 = wait_until([&] { return gen.stats("t").acknowledged >= 30; }, 10s);
            bool enough = co_await std::move(await_2);
            CHECK(enough);
            auto await_3 = load.finish();
            bool stopped = co_await std::move(await_3);
            REQUIRE(stopped);
            auto await_4 = verify(cs.resolver, cs.pool, gen.record(), fast_verify(true));
            verdicts = co_await std::move(await_4);
        },
        30s);
    auto s = gen.stats("t");
    CHECK(s.failed == 0);
    CHECK(gen.record().acks.size() == static_cast<std::size_t>(3 * s.acknowledged));
    REQUIRE(verdicts.size() == 1);
    CHECK(verdicts[0].acknowledged == 3 * s.acknowledged);
    CHECK(verdicts[0].found == verdicts[0].acknowledged);
    CHECK(routing_violations(fx, "src") == 0);
}

TEST_CASE("pegasus-load: timeout*write makes writes time out, the outage is measured as downtime, "
          "and no acknowledged write is lost") {
    sim_fixture fx(one_cluster());
    const auto meta_port = fx.meta_port("src");
    client_side cs(meta_port);
    auto opts = fast_load({"t"});
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);
    std::vector<table_verdict> verdicts;
    std::int64_t acked_before_recovery = 0;
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto await_1 = load.start();
            co_await std::move(await_1);
            auto await_2 = wait_until([&] { return gen.stats("t").acknowledged >= 20; }, 10s);
            const bool ok_2 = co_await std::move(await_2);
            CHECK(ok_2);
            auto await_3 = set_deny(cs.pool, meta_port, "t", "timeout*write");
            const bool ok_3 = co_await std::move(await_3);
            CHECK(ok_3);
            // Writes now vanish: the client sees timeouts and keeps retrying (re-resolving).
            auto await_4 = wait_until(
                [&] {
                    auto s = gen.stats("t");
                    return s.routing.errors.count("deadline_exceeded") && s.outages > 0;
                },
                10s);
            const bool ok_4 = co_await std::move(await_4);
            CHECK(ok_4);
            auto await_5 = sleep_ms(300ms);
            co_await std::move(await_5);
            acked_before_recovery = gen.stats("t").acknowledged;
            auto await_6 = set_deny(cs.pool, meta_port, "t", "");
            const bool ok_6 = co_await std::move(await_6);
            CHECK(ok_6);
            auto await_7 = wait_until(
                [&] { return gen.stats("t").acknowledged >= acked_before_recovery + 20; }, 10s);
            const bool ok_7 = co_await std::move(await_7);
            CHECK(ok_7);
            auto await_8 = load.finish();
            const bool ok_8 = co_await std::move(await_8);
            CHECK(ok_8);
            auto await_9 = verify(cs.resolver, cs.pool, gen.record(), fast_verify(false));
            verdicts = co_await std::move(await_9);
        },
        40s);
    auto s = gen.stats("t");
    // At least one attempt timed out inside the outage, so it lasted at least one attempt timeout.
    CHECK(s.write_downtime >= opts.retry.attempt_timeout);
    CHECK_FALSE(s.downtime_unrecovered);
    CHECK(s.failed == 0); // the outage was shorter than the write deadline: every write got through
    auto rec = gen.record();
    REQUIRE(rec.tables.size() == 1);
    CHECK(rec.tables[0].write_downtime_ms == s.write_downtime.count());
    REQUIRE(verdicts.size() == 1);
    CHECK(verdicts[0].missing == 0);
    CHECK(verdicts[0].found == verdicts[0].acknowledged);
    CHECK(verdicts[0].write_downtime_ms == s.write_downtime.count());
    CHECK(routing_violations(fx, "src") == 0);
}

TEST_CASE("pegasus-load: reconfig*all with no other cluster to go to keeps writes failing until "
          "the deadline; failed writes are not recorded") {
    sim_fixture fx(one_cluster());
    const auto meta_port = fx.meta_port("src");
    client_side cs(meta_port);
    auto opts = fast_load({"t"});
    opts.write_timeout = 400ms;
    opts.stop_grace = 100ms;
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto await_1 = load.start();
            co_await std::move(await_1);
            auto await_2 = wait_until([&] { return gen.stats("t").acknowledged >= 10; }, 10s);
            const bool ok_2 = co_await std::move(await_2);
            CHECK(ok_2);
            auto await_3 = set_deny(cs.pool, meta_port, "t", "reconfig*all");
            const bool ok_3 = co_await std::move(await_3);
            CHECK(ok_3);
            auto await_4 = wait_until([&] { return gen.stats("t").failed >= 5; }, 10s);
            const bool ok_4 = co_await std::move(await_4);
            CHECK(ok_4);
            auto await_5 = load.finish();
            const bool ok_5 = co_await std::move(await_5);
            CHECK(ok_5);
        },
        30s);
    auto s = gen.stats("t");
    CHECK(s.routing.errors.count("ERR_INVALID_STATE"));
    CHECK(s.routing.refreshes > 1); // it re-resolved instead of hammering the same route blindly
    CHECK(s.downtime_unrecovered);
    CHECK(s.acknowledged + s.failed == s.attempted);
    CHECK(gen.record().acks.size() == static_cast<std::size_t>(s.acknowledged));
}

TEST_CASE("pegasus-load: verify reports a key deleted behind the client's back as missing") {
    sim_fixture fx(one_cluster());
    client_side cs(fx.meta_port("src"));
    auto opts = fast_load({"t"});
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);
    std::vector<table_verdict> by_get, by_scan;
    load_record rec;
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto await_1 = load.start();
            co_await std::move(await_1);
            auto await_2 = wait_until([&] { return gen.stats("t").acknowledged >= 20; }, 10s);
            const bool ok_2 = co_await std::move(await_2);
            CHECK(ok_2);
            auto await_3 = load.finish();
            const bool ok_3 = co_await std::move(await_3);
            CHECK(ok_3);
            rec = gen.record();
            REQUIRE(rec.acks.size() >= 20);
            // Delete one acknowledged key and change another one's value inside the sim.
            const auto& gone = rec.acks[3];
            const auto& changed = rec.acks[7];
            fx.on_sim([&] {
                auto& c = fx.sim().cluster("src");
                auto* t = c.find_table("t");
                for (const auto* a : {&gone, &changed}) {
                    auto full = sim::encode_full_key(a->hash_key, a->sort_key);
                    auto& p = t->partitions[sim::key_hash(full) %
                                            static_cast<std::uint64_t>(t->partition_count)];
                    if (a == &gone)
                        p.data.erase(full);
                    else
                        p.data[full] = sim::encode_stored_value(0, 1, "someone else");
                }
                return 0;
            });
            auto await_4 = verify(cs.resolver, cs.pool, rec, fast_verify(false));
            by_get = co_await std::move(await_4);
            auto await_5 = verify(cs.resolver, cs.pool, rec, fast_verify(true));
            by_scan = co_await std::move(await_5);
        },
        30s);
    for (const auto* vs : {&by_get, &by_scan}) {
        REQUIRE(vs->size() == 1);
        const auto& v = vs->front();
        CHECK(v.acknowledged == static_cast<std::int64_t>(rec.acks.size()));
        CHECK(v.missing == 2);
        CHECK(v.mismatched == 1);
        CHECK(v.found == v.acknowledged - 2);
        CHECK_FALSE(verdict_ok(v));
        auto lines = verdict_lines(v);
        CHECK(lines[0] == "verify t: acknowledged " + std::to_string(v.acknowledged) + ", found " +
                              std::to_string(v.acknowledged - 2) + ", missing 2");
    }
}

TEST_CASE("pegasus-load: a table the meta does not know fails the start with the table named") {
    sim_fixture fx(one_cluster());
    client_side cs(fx.meta_port("src"));
    auto opts = fast_load({"t", "nope"});
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    auto st = tablemigrator::test::run_coro(cs.io, gen.run(), 10s);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error() == rdsn_errc::ERR_OBJECT_NOT_FOUND);
    CHECK(gen.failed_table() == "nope");
}

TEST_CASE("pegasus-load: closed connections and a stopped replica (its primaries fail over) do not "
          "lose or fail writes") {
    sim_fixture fx(one_cluster());
    client_side cs(fx.meta_port("src"));
    auto opts = fast_load({"t"});
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);
    std::vector<table_verdict> verdicts;
    auto admin = [&](const std::string& target) {
        sim::test::client c(fx.admin_port());
        return c.http_get(target).first;
    };
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto start = load.start();
            co_await std::move(start);
            auto w1 = wait_until([&] { return gen.stats("t").acknowledged >= 20; }, 10s);
            const bool ok1 = co_await std::move(w1);
            CHECK(ok1);
            CHECK(admin("/fault/close_connections?cluster=src") == 200);
            auto at_close = gen.stats("t").acknowledged;
            auto w2 = wait_until([&] { return gen.stats("t").acknowledged >= at_close + 20; }, 10s);
            const bool ok2 = co_await std::move(w2);
            CHECK(ok2);
            CHECK(admin("/fault/stop?cluster=src&role=replica&index=0") == 200);
            // Partitions whose primary was on node 0 move after failure_detection_ms: the client
            // must pick the new primaries up by re-resolving.
            auto w3 = wait_until([&] { return gen.stats("t").routing.route_changes >= 1; }, 10s);
            const bool ok3 = co_await std::move(w3);
            CHECK(ok3);
            auto at_failover = gen.stats("t").acknowledged;
            auto w4 =
                wait_until([&] { return gen.stats("t").acknowledged >= at_failover + 40; }, 10s);
            const bool ok4 = co_await std::move(w4);
            CHECK(ok4);
            auto fin = load.finish();
            const bool ok5 = co_await std::move(fin);
            CHECK(ok5);
            auto v = verify(cs.resolver, cs.pool, gen.record(), fast_verify(false));
            verdicts = co_await std::move(v);
        },
        40s);
    auto s = gen.stats("t");
    CHECK(s.failed == 0);
    CHECK(s.acknowledged == s.attempted);
    CHECK(s.routing.route_changes >= 1);
    REQUIRE(verdicts.size() == 1);
    CHECK(verdicts[0].missing == 0);
    CHECK(verdicts[0].found == verdicts[0].acknowledged);
    CHECK(routing_violations(fx, "src") == 0);
}

TEST_CASE("pegasus-load: a scan whose SCAN replies never come restarts after the last key received "
          "and still finds every key") {
    sim_fixture fx(one_cluster());
    client_side cs(fx.meta_port("src"));
    auto opts = fast_load({"t"});
    load_generator gen(cs.io.get_executor(), cs.pool, cs.resolver, opts);
    running_load load(gen);
    std::vector<table_verdict> verdicts;
    auto admin = [&](const std::string& target) {
        sim::test::client c(fx.admin_port());
        return c.http_get(target).first;
    };
    tablemigrator::test::run_coro(
        cs.io,
        [&]() -> asio::awaitable<void> {
            auto start = load.start();
            co_await std::move(start);
            auto w1 = wait_until([&] { return gen.stats("t").acknowledged >= 40; }, 10s);
            const bool ok1 = co_await std::move(w1);
            CHECK(ok1);
            auto fin = load.finish();
            const bool ok2 = co_await std::move(fin);
            CHECK(ok2);
            // Only GET_SCANNER answers: every SCAN times out, the context is abandoned and the scan
            // resumes with GET_SCANNER after the last key it received (exclusive).
            CHECK(admin("/fault/reply?rpc=RPC_RRDB_RRDB_SCAN&drop=true") == 200);
            auto vo = fast_verify(true);
            vo.scan_batch = 3;
            vo.retry.attempt_timeout = 100ms;
            auto v = verify(cs.resolver, cs.pool, gen.record(), vo);
            verdicts = co_await std::move(v);
        },
        60s);
    REQUIRE(verdicts.size() == 1);
    CHECK(verdicts[0].acknowledged >= 40);
    CHECK(verdicts[0].missing == 0);
    CHECK(verdicts[0].unreadable == 0);
    CHECK(verdicts[0].found == verdicts[0].acknowledged);
}
