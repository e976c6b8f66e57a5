// Sans-io tests of the pegasus-sim model: config parsing, per-node env propagation, group-check
// empty writes, the duplication state machine, shipping rate and the 2.4/2.5 last-mutation lag.
#include "sim/config.hpp"
#include "sim/model.hpp"
#include "sim/replica_rpc.hpp"

#include <doctest/doctest.h>

using namespace tablemigrator::sim;
using namespace std::chrono_literals;

namespace {

sim_config two_clusters(generation g) {
    auto cfg = parse_config(R"({
      "clusters": [
        {"name": "src", "generation": "2.5", "meta_servers": 2, "replica_servers": 3,
         "duplication_group": {"src": 1, "dst": 2}, "remote_clusters": {"dst": ""},
         "tables": [{"name": "t", "partition_count": 4, "replica_count": 3}],
         "timing": {"config_sync_interval_ms": 30000, "checkpoint_copy_ms": 3000,
                    "shipping_rate": 10, "group_check_interval_ms": 10000}},
        {"name": "dst", "generation": "2.5", "replica_servers": 2,
         "duplication_group": {"src": 1, "dst": 2}}
      ]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters)
        c.gen = g;
    return *cfg;
}

void put(cluster_state& c, table_state& t, std::int32_t pidx, const std::string& key,
         const std::string& value) {
    write_op op;
    op.key = key;
    op.value = value;
    c.apply_write(t, pidx, "RPC_RRDB_RRDB_PUT", {op}, 40);
}

} // namespace

TEST_CASE("sim config: a full config parses with defaults filled in") {
    auto cfg = two_clusters(generation::v2_5);
    REQUIRE(cfg.clusters.size() == 2);
    CHECK(cfg.clusters[0].meta_ports.size() == 2);
    CHECK(cfg.clusters[0].replica_ports.size() == 3);
    CHECK(cfg.clusters[0].timing.shipping_rate == 10);
    CHECK(cfg.clusters[0].timing.duplication_sync_period == 10000ms);
    CHECK(cfg.clusters[1].zookeeper_root == "/pegasus/dst");
}

TEST_CASE("sim config: unknown keys, bad generations and bad partition counts are refused") {
    std::string why;
    CHECK_FALSE(parse_config(R"({"clusters":[{"name":"a","bogus":1}]})", &why).has_value());
    CHECK(why.find("bogus") != std::string::npos);
    CHECK_FALSE(parse_config(R"({"clusters":[{"name":"a","generation":"2.3"}]})").has_value());
    CHECK_FALSE(
        parse_config(R"({"clusters":[{"name":"a","tables":[{"name":"t","partition_count":6}]}]})")
            .has_value());
    CHECK_FALSE(parse_config("{not json").has_value());
    CHECK(parse_generation("master") == generation::master);
}

TEST_CASE("sim model: deny values are validated and parsed") {
    CHECK(is_valid_deny_value("timeout*write"));
    CHECK(is_valid_deny_value("reconfig*all"));
    CHECK_FALSE(is_valid_deny_value("timeout*writes"));
    CHECK_FALSE(is_valid_deny_value("timeout"));
    auto f = parse_deny("reconfig*read");
    CHECK(f.reads);
    CHECK_FALSE(f.writes);
    CHECK_FALSE(f.timeout);
}

TEST_CASE("sim model: stored values use the data-version-1 layout (data-plane §7.3 vector)") {
    auto tt = make_timetag(1700000000000000, 1, false);
    CHECK(tt == 0x060A24181E400002ull);
    auto v = encode_stored_value(0, tt, "v");
    CHECK(v == std::string("\x00\x00\x00\x00\x06\x0a\x24\x18\x1e\x40\x00\x02v", 13));
    auto d = decode_stored_value(v, 1);
    REQUIRE(d);
    CHECK(d->timetag == tt);
    CHECK(d->user == "v");
}

TEST_CASE("sim model: an env reaches each node only at that node's own config-sync tick") {
    model m(two_clusters(generation::v2_5), 1700000000000000);
    auto& src = *m.find_cluster("src");
    // Stagger the node start times: node i starts at i*10 s, so its ticks are at i*10 + k*30 s.
    for (int i = 0; i < 3; ++i) {
        m.events().advance_to(sim_time(std::chrono::seconds(10 * i)));
        src.start_node_timers(i);
    }
    m.events().advance_to(35s);
    auto* t = src.find_table("t");
    t->envs["replica.deny_client_request"] = "timeout*write";
    ++t->envs_version;
    auto deny_on = [&](int n) {
        return src.nodes[static_cast<std::size_t>(n)].applied[t->app_id].deny.writes;
    };
    m.events().advance_to(39s);
    CHECK_FALSE(deny_on(0));
    CHECK_FALSE(deny_on(1));
    m.events().advance_to(40s); // node 1 ticks at 10+30 = 40 s
    CHECK(deny_on(1));
    CHECK_FALSE(deny_on(0));
    CHECK_FALSE(deny_on(2));
    m.events().advance_to(50s); // node 2 at 20+30
    CHECK(deny_on(2));
    CHECK_FALSE(deny_on(0));
    m.events().advance_to(60s); // node 0 at 0+60
    CHECK(deny_on(0));
    REQUIRE(src.env_effects.size() == 3);
    CHECK(src.env_effects[0].node == 1);
    CHECK(src.env_effects[0].at == 40s);
}

TEST_CASE("sim model: a changed config-sync period applies after the tick already scheduled") {
    model m(two_clusters(generation::v2_5), 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    src.set_config_sync_interval(0, 5s);
    m.events().advance_to(29s);
    CHECK(src.nodes[0].config_syncs == 0);
    m.events().advance_to(30s);
    CHECK(src.nodes[0].config_syncs == 1);
    m.events().advance_to(35s);
    CHECK(src.nodes[0].config_syncs == 2);
}

TEST_CASE("sim model: group check adds one empty write per idle interval and can be disabled") {
    model m(two_clusters(generation::v2_5), 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    auto* t = src.find_table("t");
    m.events().advance_to(10s);
    CHECK(t->partitions[0].last_committed == 1);
    m.events().advance_to(20s);
    CHECK(t->partitions[0].last_committed == 2);
    for (auto& n : src.nodes)
        n.empty_write_disabled = true;
    m.events().advance_to(60s);
    CHECK(t->partitions[0].last_committed == 2);
}

TEST_CASE("sim model: duplication goes PREPARE -> APP -> LOG and ships at the configured rate") {
    model m(two_clusters(generation::master), 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    auto& dst = *m.find_cluster("dst");
    auto* t = src.find_table("t");
    for (int i = 0; i < 5; ++i)
        put(src, *t, 0, "before" + std::to_string(i), "v");
    auto& d = src.add_duplication(*t, "dst", "t", 0, true);
    auto dupid = d.dupid;
    CHECK(d.status == dup_status::prepare);
    m.events().advance_to(10s); // first duplication sync: checkpoints, target created
    CHECK(src.dups.at(dupid).status == dup_status::app);
    for (int i = 0; i < 30; ++i)
        put(src, *t, 0, "after" + std::to_string(i), "w");
    auto* tt = dst.find_table("t");
    REQUIRE(tt);
    CHECK(tt->envs.at("duplication.master_cluster") == "src");
    CHECK(tt->partitions[0].data.empty());
    m.events().advance_to(13s); // checkpoint copied
    CHECK(src.dups.at(dupid).status == dup_status::log);
    CHECK(tt->partitions[0].data.size() == 5);
    // 30 mutations at 10/s: not done after 1 s, done within 4 s.
    m.events().advance_to(14s);
    auto& dp = src.dups.at(dupid).partitions[0];
    CHECK(dp.confirmed < t->partitions[0].last_committed);
    m.events().advance_to(17s);
    CHECK(dp.confirmed == t->partitions[0].last_committed);
    CHECK(tt->partitions[0].data.size() == 35);
    // Values carry the source's cluster id in the timetag.
    auto v = decode_stored_value(tt->partitions[0].data.at("after0"), 1);
    REQUIRE(v);
    CHECK(((v->timetag >> 1) & 0x7f) == 1);
}

TEST_CASE(
    "sim model: on 2.4/2.5 the newest mutation ships only after a later one, on master at once") {
    for (auto g : {generation::v2_4, generation::master}) {
        CAPTURE(generation_name(g));
        model m(two_clusters(g), 1700000000000000);
        m.start();
        auto& src = *m.find_cluster("src");
        auto* t = src.find_table("t");
        auto& d = src.add_duplication(*t, "dst", "t", 0, true);
        auto dupid = d.dupid;
        m.events().advance_to(14s);
        REQUIRE(src.dups.at(dupid).status == dup_status::log);
        for (auto& n : src.nodes)
            n.empty_write_disabled = true;
        put(src, *t, 1, "k", "v");
        auto decree = t->partitions[1].last_committed;
        m.events().advance_to(16s);
        auto& dp = src.dups.at(dupid).partitions[1];
        if (g == generation::master) {
            CHECK(dp.confirmed == decree);
        } else {
            CHECK(dp.confirmed == decree - 1);
            put(src, *t, 1, "k2", "v");
            m.events().advance_to(17s);
            CHECK(dp.confirmed == decree);
        }
    }
}

TEST_CASE("sim model: shipping continues under the deny env and the freeze ack is recorded") {
    model m(two_clusters(generation::master), 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    auto* t = src.find_table("t");
    auto& d = src.add_duplication(*t, "dst", "t", 0, true);
    auto dupid = d.dupid;
    m.events().advance_to(14s);
    src.fault.stall_shipping = true;
    for (int i = 0; i < 3; ++i)
        put(src, *t, 2, "k" + std::to_string(i), "v");
    t->envs["replica.deny_client_request"] = "timeout*write";
    ++t->envs_version;
    m.events().advance_to(31s); // every node has ticked once (at 30 s)
    auto key = std::make_pair(t->app_id, 2);
    REQUIRE(src.freezes.count(key));
    CHECK_FALSE(src.freezes.at(key).acked_at);
    src.fault.stall_shipping = false;
    m.events().advance_to(33s);
    REQUIRE(src.freezes.at(key).acked_at);
    CHECK(src.dups.at(dupid).partitions[2].confirmed >= src.freezes.at(key).last_decree);
}

TEST_CASE("sim model: progress counters refresh on their own periods") {
    model m(two_clusters(generation::v2_5), 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    auto* t = src.find_table("t");
    auto& d = src.add_duplication(*t, "dst", "t", 0, true);
    auto dupid = d.dupid;
    m.events().advance_to(14s);
    src.fault.stall_shipping = true;
    auto primary = t->partitions[0].primary;
    for (int i = 0; i < 7; ++i)
        put(src, *t, 0, "k" + std::to_string(i), "v");
    // The node counter only moves at the next duplication sync (20 s).
    CHECK(src.nodes[static_cast<std::size_t>(primary)].pending_mutations == 0);
    m.events().advance_to(20s);
    CHECK(src.nodes[static_cast<std::size_t>(primary)].pending_mutations >= 7);
    // The meta's persisted value lags the replica's confirmed decree.
    src.fault.stall_shipping = false;
    m.events().advance_to(22s);
    auto& dp = src.dups.at(dupid).partitions[0];
    CHECK(dp.confirmed == t->partitions[0].last_committed - 1); // 2.5 lag
    CHECK(dp.meta_confirmed < dp.confirmed);
    auto confirmed_at_22 = dp.confirmed;
    m.events().advance_to(29s);
    CHECK(dp.meta_confirmed < confirmed_at_22);
    m.events().advance_to(30s); // next duplication sync of the node: the meta persists
    CHECK(dp.meta_confirmed == confirmed_at_22);
    CHECK(dp.replica_meta_persisted == dp.meta_confirmed);
    // Perf snapshot at 30 s has the per-partition shipped-ops counter.
    bool found = false;
    for (const auto& c : src.nodes[static_cast<std::size_t>(primary)].snapshot)
        found = found ||
                c.name == "replica*app.pegasus*dup_shipped_ops@" + std::to_string(t->app_id) + ".0";
    CHECK(found);
}

TEST_CASE("sim model: a dead node's primaries fail over and duplication resumes from the "
          "meta-persisted decree") {
    auto cfg = two_clusters(generation::master);
    cfg.clusters[0].timing.failure_detection = 5s;
    model m(cfg, 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    auto& dst = *m.find_cluster("dst");
    auto* t = src.find_table("t");
    auto& d = src.add_duplication(*t, "dst", "t", 0, true);
    auto dupid = d.dupid;
    m.events().advance_to(14s);
    REQUIRE(src.dups.at(dupid).status == dup_status::log);
    for (int i = 0; i < 10; ++i)
        put(src, *t, 0, "k" + std::to_string(i), "v");
    m.events().advance_to(21s); // shipped, and persisted by the meta at the 20 s sync
    auto old_primary = t->partitions[0].primary;
    auto ballot = t->partitions[0].ballot;
    auto persisted = src.dups.at(dupid).partitions[0].meta_confirmed;
    CHECK(persisted >= 10);
    src.stop_node(old_primary);
    for (int i = 10; i < 15; ++i)
        put(src, *t, 0, "k" + std::to_string(i), "v");
    m.events().advance_to(25s);
    CHECK(t->partitions[0].primary == old_primary); // not detected yet
    m.events().advance_to(27s);
    CHECK(t->partitions[0].primary != old_primary);
    CHECK(t->partitions[0].ballot == ballot + 1);
    CHECK_FALSE(src.dups.at(dupid).partitions[0].has_duplicator);
    m.events().advance_to(40s); // the new primary's duplication sync creates a duplicator
    auto& dp = src.dups.at(dupid).partitions[0];
    CHECK(dp.has_duplicator);
    CHECK(dp.confirmed == t->partitions[0].last_committed);
    CHECK(dst.find_table("t")->partitions[0].data.size() == 15);
}

TEST_CASE("sim routing: key hashes follow the server rule (data-plane §5.3 vectors)") {
    CHECK(crc64("a") == 0x8C2F8445B4CBFC3Cull);
    CHECK(crc64("123456789") == 0xAE8B14860A799888ull);
    CHECK(key_hash(encode_full_key("a", "s")) == 0x8C2F8445B4CBFC3Cull);
    CHECK(key_hash(encode_full_key("", "hello")) ==
          0x3377857006524257ull); // empty hash key: the sort key
    CHECK(encode_full_key("a", "s") == std::string("\x00\x01"
                                                   "as",
                                                   4));
}

TEST_CASE("sim model: pause stops shipping and a quick resume keeps a single shipping chain") {
    model m(two_clusters(generation::master), 1700000000000000);
    m.start();
    auto& src = *m.find_cluster("src");
    auto* t = src.find_table("t");
    auto dupid = src.add_duplication(*t, "dst", "t", 0, true).dupid;
    m.events().advance_to(14s);
    auto& d = src.dups.at(dupid);
    REQUIRE(d.status == dup_status::log);
    src.set_dup_status(d, dup_status::pause);
    for (int i = 0; i < 20; ++i)
        put(src, *t, 3, "k" + std::to_string(i), "v");
    m.events().advance_to(15s);
    CHECK(d.partitions[3].confirmed < t->partitions[3].last_committed);
    src.set_dup_status(d, dup_status::log); // resumed before the paused tick ran out
    auto events_before = m.events().size();
    src.set_dup_status(d, dup_status::pause);
    src.set_dup_status(d, dup_status::log);
    CHECK(m.events().size() == events_before);
    // 20 mutations at 10/s with a 1 s burst allowance: not all shipped after 0.5 s.
    m.events().advance_to(15500ms);
    CHECK(d.partitions[3].confirmed < t->partitions[3].last_committed);
    m.events().advance_to(18s);
    CHECK(d.partitions[3].confirmed == t->partitions[3].last_committed);
}
