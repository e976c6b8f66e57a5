// pegasus-sim replica servers over loopback: data plane with routing checks, deny modes after the
// node's config-sync tick, remote commands and HTTP on the same port, duplication with its progress
// signals, and the admin endpoint's fault controls.
#include "sim_fixture.hpp"

#include "sim/replica_rpc.hpp"

#include <boost/json.hpp>

using namespace tablemigrator;
using namespace tablemigrator::sim;
using namespace tablemigrator::sim::test;
using namespace std::chrono_literals;

namespace {

sim_config config(generation g, std::int64_t config_sync_ms = 200) {
    auto cfg = parse_config(R"({"clusters": [
        {"name": "src", "replica_servers": 3,
         "duplication_group": {"src": 1, "dst": 2}, "remote_clusters": {"dst": ""},
         "tables": [{"name": "t", "partition_count": 8, "replica_count": 3}],
         "timing": {"checkpoint_copy_ms": 100, "duplication_sync_period_ms": 300,
                    "perf_counter_interval_ms": 300, "meta_persist_throttle_ms": 100,
                    "group_check_interval_ms": 300, "shipping_rate": 1000}},
        {"name": "dst", "replica_servers": 2, "duplication_group": {"src": 1, "dst": 2}}]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters) {
        c.gen = g;
        c.timing.config_sync_interval = millis(config_sync_ms);
    }
    return *cfg;
}

// Routing for a key as a correct client computes it (data-plane §4-§5).
struct route {
    wire::request_header header;
    std::uint16_t port = 0;
};

route route_key(sim_fixture& fx, const std::string& cluster, const std::string& table,
                const std::string& full_key) {
    return fx.on_sim([&] {
        auto& c = fx.sim().cluster(cluster);
        auto* t = c.find_table(table);
        route r;
        auto h = key_hash(full_key);
        auto pidx = static_cast<std::int32_t>(h % static_cast<std::uint64_t>(t->partition_count));
        r.header.app_id = t->app_id;
        r.header.partition_index = pidx;
        r.header.thread_hash = t->app_id * 7919 + pidx;
        r.header.partition_hash = h;
        r.header.client_timeout_ms = 5000;
        r.port =
            c.nodes[static_cast<std::size_t>(t->partitions[static_cast<std::size_t>(pidx)].primary)]
                .port;
        return r;
    });
}

idl::update_request put_req(const std::string& key, const std::string& value) {
    idl::update_request r;
    r.key = idl::blob(key);
    r.value = idl::blob(value);
    return r;
}

idl::update_response put(sim_fixture& fx, const std::string& hash_key, const std::string& value,
                         const std::string& cluster = "src") {
    auto key = encode_full_key(hash_key, "s");
    auto rt = route_key(fx, cluster, "t", key);
    client c(rt.port);
    return c.call_typed<idl::update_response>("RPC_RRDB_RRDB_PUT", put_req(key, value), rt.header);
}

void set_env(sim_fixture& fx, const std::string& value) {
    client meta(fx.meta_port("src"));
    idl::configuration_update_app_env_request r;
    r.app_name = "t";
    r.op = 1;
    r.__set_keys({"replica.deny_client_request"});
    r.__set_values({value});
    auto resp =
        meta.call_typed<idl::configuration_update_app_env_response>("RPC_CM_UPDATE_APP_ENV", r);
    REQUIRE(resp.err.name() == "ERR_OK");
}

boost::json::value admin_get(sim_fixture& fx, const std::string& target) {
    client admin(fx.admin_port());
    auto [status, body] = admin.http_get(target);
    REQUIRE(status == 200);
    return boost::json::parse(body);
}

} // namespace

TEST_CASE("sim data plane: put, get, remove and multi_put round-trip with decrees and timetags") {
    sim_fixture fx(config(generation::v2_5));
    auto r = put(fx, "a", "v");
    CHECK(r.error == 0);
    CHECK(r.app_id == 1);
    CHECK(r.partition_index == 4); // CRC64("a") % 8 = 4 (data-plane §5.3)
    auto r2 = put(fx, "a", "w");
    CHECK(r2.decree == r.decree + 1);
    auto key = encode_full_key("a", "s");
    auto rt = route_key(fx, "src", "t", key);
    client c(rt.port);
    auto g = c.call_typed<idl::read_response>("RPC_RRDB_RRDB_GET", idl::blob(key), rt.header);
    CHECK(g.error == 0);
    CHECK(g.value.str() == "w");
    // Stored in the data-version-1 layout with this cluster's id in the timetag.
    auto stored = fx.on_sim(
        [&] { return fx.sim().cluster("src").find_table("t")->partitions[4].data.at(key); });
    auto v = decode_stored_value(stored, 1);
    REQUIRE(v);
    CHECK(((v->timetag >> 1) & 0x7f) == 1);
    auto rm = c.call_typed<idl::update_response>("RPC_RRDB_RRDB_REMOVE", idl::blob(key), rt.header);
    CHECK(rm.error == 0);
    auto g2 = c.call_typed<idl::read_response>("RPC_RRDB_RRDB_GET", idl::blob(key), rt.header);
    CHECK(g2.error == 1);
    CHECK(g2.value.empty());
    idl::multi_put_request mp;
    mp.hash_key = idl::blob("a");
    idl::key_value kv1, kv2;
    kv1.key = idl::blob("s1");
    kv1.value = idl::blob("v1");
    kv2.key = idl::blob("s2");
    kv2.value = idl::blob("v2");
    mp.kvs = {kv1, kv2};
    auto before = fx.on_sim(
        [&] { return fx.sim().cluster("src").find_table("t")->partitions[4].last_committed; });
    auto m = c.call_typed<idl::update_response>("RPC_RRDB_RRDB_MULTI_PUT", mp, rt.header);
    CHECK(m.error == 0);
    CHECK(m.decree == before + 1); // one mutation whatever the number of kvs
    mp.kvs.clear();
    CHECK(c.call_typed<idl::update_response>("RPC_RRDB_RRDB_MULTI_PUT", mp, rt.header).error == 4);
}

TEST_CASE("sim data plane: a full scan of a partition pages through context ids; CLEAR_SCANNER is "
          "never answered") {
    sim_fixture fx(config(generation::master));
    for (int i = 0; i < 40; ++i)
        put(fx, "k" + std::to_string(i), "v");
    auto [port, pidx, expected] = fx.on_sim([&] {
        auto& c = fx.sim().cluster("src");
        auto* t = c.find_table("t");
        auto& p = t->partitions[0];
        return std::make_tuple(c.nodes[static_cast<std::size_t>(p.primary)].port, 0, p.data.size());
    });
    REQUIRE(expected > 2);
    wire::request_header h;
    h.app_id = 1;
    h.partition_index = pidx;
    h.thread_hash = 7919;
    h.partition_hash = 0; // unordered scans send the partition index
    client c(port);
    idl::get_scanner_request gs;
    gs.start_key = idl::blob(std::string("\0\0", 2));
    gs.stop_key = idl::blob(std::string("\xff\xff", 2));
    gs.start_inclusive = true;
    gs.batch_size = 2;
    gs.__set_validate_partition_hash(true);
    auto r = c.call_typed<idl::scan_response>("RPC_RRDB_RRDB_GET_SCANNER", gs, h);
    std::size_t seen = r.kvs.size();
    int batches = 1;
    while (r.context_id != -1) {
        idl::scan_request s;
        s.context_id = r.context_id;
        r = c.call_typed<idl::scan_response>("RPC_RRDB_RRDB_SCAN", s, h);
        REQUIRE(r.error == 0);
        seen += r.kvs.size();
        REQUIRE(++batches < 100);
    }
    CHECK(seen == expected);
    // An unknown context answers error 1.
    idl::scan_request stale;
    stale.context_id = 12345;
    CHECK(c.call_typed<idl::scan_response>("RPC_RRDB_RRDB_SCAN", stale, h).error == 1);
    // CLEAR_SCANNER gets no reply: the next reply on the connection belongs to the next request.
    wire::bytes id_bytes{0, 0, 0, 0, 0, 0, 0, 1};
    REQUIRE(c.send(
        wire::encode_request(h, "RPC_RRDB_RRDB_CLEAR_SCANNER", c.next_seqid(), id_bytes, 0x0A)));
    auto f = c.call("RPC_RRDB_RRDB_SCAN", stale, h);
    REQUIRE(f.has_value());
    CHECK(f->name == "RPC_RRDB_RRDB_SCAN_ACK");
    CHECK(f->seqid == c.last_seqid());
}

TEST_CASE("sim data plane: routing errors are frame errors and a misrouted request is detected") {
    sim_fixture fx(config(generation::v2_4));
    auto key = encode_full_key("a", "s");
    auto rt = route_key(fx, "src", "t", key);
    auto [secondary_port, other_port] = fx.on_sim([&] {
        auto& c = fx.sim().cluster("src");
        auto& p = c.find_table("t")->partitions[4];
        return std::make_pair(c.nodes[static_cast<std::size_t>(p.secondaries[0])].port,
                              c.nodes[static_cast<std::size_t>(p.primary)].port);
    });
    (void)other_port;
    client sec(secondary_port);
    auto f = sec.call("RPC_RRDB_RRDB_PUT", put_req(key, "v"), rt.header);
    REQUIRE(f.has_value());
    CHECK(f->error_name == "ERR_INVALID_STATE");
    CHECK(f->payload.empty());
    auto unknown = rt.header;
    unknown.app_id = 77;
    client prim(rt.port);
    auto nf = prim.call("RPC_RRDB_RRDB_PUT", put_req(key, "v"), unknown);
    REQUIRE(nf.has_value());
    CHECK(nf->error_name == "ERR_OBJECT_NOT_FOUND");
    // Wrong partition for the key: the primary of partition 0 receives key "a" (partition 4).
    auto wrong = fx.on_sim([&] {
        auto& c = fx.sim().cluster("src");
        return c.nodes[static_cast<std::size_t>(c.find_table("t")->partitions[0].primary)].port;
    });
    auto h = rt.header;
    h.partition_index = 0;
    h.thread_hash = 7919;
    client w(wrong);
    auto mis = w.call("RPC_RRDB_RRDB_PUT", put_req(key, "v"), h);
    REQUIRE(mis.has_value());
    CHECK(mis->error_name == "ERR_INVALID_PARAMETERS");
    CHECK(fx.on_sim([&] { return fx.sim().cluster("src").routing_violations.size(); }) == 1);
    // A bad thread_hash on an otherwise correct request is detected too.
    auto th = rt.header;
    th.thread_hash = 1;
    auto bad = prim.call("RPC_RRDB_RRDB_GET", idl::blob(key), th);
    REQUIRE(bad.has_value());
    CHECK(bad->error_name == "ERR_INVALID_PARAMETERS");
    // Data RPCs with app_id 0 never reach the replica layer.
    auto zero = prim.call("RPC_RRDB_RRDB_GET", idl::blob(key), wire::request_header{});
    REQUIRE(zero.has_value());
    CHECK(zero->error_name == "ERR_HANDLER_NOT_FOUND");
}

TEST_CASE("sim deny env: timeout*write drops writes silently after the node's tick; reconfig*all "
          "answers ERR_INVALID_STATE") {
    sim_fixture fx(config(generation::v2_5));
    auto key = encode_full_key("a", "s");
    auto rt = route_key(fx, "src", "t", key);
    put(fx, "a", "v");
    set_env(fx, "timeout*write");
    auto node_of_a =
        fx.on_sim([&] { return fx.sim().cluster("src").find_table("t")->partitions[4].primary; });
    REQUIRE(fx.eventually([&] {
        auto& n = fx.sim().cluster("src").nodes[static_cast<std::size_t>(node_of_a)];
        return n.applied.count(1) && n.applied.at(1).deny.writes;
    }));
    client c(rt.port);
    // The PUT gets no reply; the GET sent after it is answered first (reads are not denied).
    REQUIRE(c.send(
        wire::encode_call(rt.header, "RPC_RRDB_RRDB_PUT", c.next_seqid(), put_req(key, "x"))));
    auto f = c.call("RPC_RRDB_RRDB_GET", idl::blob(key), rt.header);
    REQUIRE(f.has_value());
    CHECK(f->name == "RPC_RRDB_RRDB_GET_ACK");
    auto g = wire::decode_reply<idl::read_response>(*f);
    REQUIRE(g.has_value());
    CHECK(g->value.str() == "v");
    set_env(fx, "reconfig*all");
    REQUIRE(fx.eventually([&] {
        auto& n = fx.sim().cluster("src").nodes[static_cast<std::size_t>(node_of_a)];
        return n.applied.at(1).deny.reads && !n.applied.at(1).deny.timeout;
    }));
    auto r = c.call("RPC_RRDB_RRDB_GET", idl::blob(key), rt.header);
    REQUIRE(r.has_value());
    CHECK(r->error_name == "ERR_INVALID_STATE");
    CHECK(r->payload.empty());
    // The ground truth records both env changes per node.
    auto truth = admin_get(fx, "/truth?cluster=src");
    auto& t = truth.at("src").at("tables").at("t").as_object();
    CHECK(t.at("deny_effective").as_object().size() == 3);
    CHECK(t.at("reconfig_effective").as_object().size() == 3);
    // No remote command exposes the deny flags.
    client rc(rt.port);
    auto envs = rc.command("replica.query-app-envs", {"1"});
    CHECK(envs.find("deny") == std::string::npos);
}

TEST_CASE("sim env propagation: each node applies an env at its own tick, no earlier and within "
          "one period") {
    sim_fixture fx(config(generation::v2_5, 300));
    // Restart node 0 so its phase differs from the others (fixed by its own start time).
    admin_get(fx, "/fault/stop?cluster=src&role=replica&index=0");
    std::this_thread::sleep_for(50ms);
    admin_get(fx, "/fault/restart?cluster=src&role=replica&index=0");
    std::this_thread::sleep_for(400ms); // past the restart's immediate sync
    auto set_at = fx.on_sim([&] { return fx.sim().state().now(); });
    set_env(fx, "timeout*write");
    REQUIRE(fx.eventually([&] { return fx.sim().cluster("src").env_effects.size() == 3; }));
    fx.on_sim([&] {
        auto& c = fx.sim().cluster("src");
        const sim_time period = millis(300);
        for (const auto& e : c.env_effects) {
            const auto& n = c.nodes[static_cast<std::size_t>(e.node)];
            CAPTURE(e.node);
            CHECK(e.at > set_at);
            CHECK(e.at - set_at <= period);
            CHECK((e.at - n.started_at).count() % period.count() == 0); // on the node's own grid
        }
        CHECK(c.nodes[0].started_at != c.nodes[1].started_at);
        return 0;
    });
    // /updateConfig lowers one node's period (2.5); the tick already scheduled keeps its time.
    client http(fx.replica_port("src", 1));
    auto [status, body] = http.http_get("/updateConfig?config_sync_interval_ms=100");
    CHECK(status == 200);
    CHECK(body == "{\"update_status\":\"ERR_OK\"}\n");
    CHECK(fx.on_sim([&] { return fx.sim().cluster("src").nodes[1].config_sync_interval; }) ==
          millis(100));
}

TEST_CASE("sim remote commands and HTTP are served on the same replica port") {
    sim_fixture fx(config(generation::master));
    auto port = fx.replica_port("src", 0);
    client rpc(port);
    CHECK(rpc.command("nope") == "unknown command 'nope'");
    CHECK(rpc.command("replica.query-progress", {"1"})
              .rfind("8 processed, 0 not found\n    1.0@localhost:", 0) == 0);
    idl::query_replica_decree_request q;
    q.pid = idl::gpid(1, 0);
    auto d = rpc.call_typed<idl::query_replica_decree_response>("RPC_QUERY_PN_DECREE", q);
    CHECK(d.err.name() == "ERR_OK");
    auto info = rpc.call_typed<idl::query_replica_info_response>("RPC_QUERY_REPLICA_INFO",
                                                                 idl::query_replica_info_request{});
    CHECK(info.replicas.size() == 8 * 3 / 3);
    client http(port);
    auto [s1, b1] = http.http_get("/version");
    CHECK(s1 == 200);
    CHECK(b1.find("\"Version\"") != std::string::npos);
    auto [s2, b2] = http.http_get("/unknown");
    CHECK(s2 == 404);
    CHECK(b2 == "service not found for \"/unknown\"");
    auto [s3, b3] = http.http_get("/metrics?bogus=1");
    CHECK(s3 == 400);
    // Garbage as the first bytes closes the connection without a reply.
    client junk(port, 2000ms);
    REQUIRE(junk.send(wire::bytes{'J', 'U', 'N', 'K', 0, 0, 0, 0}));
    CHECK_FALSE(junk.receive().has_value());
}

TEST_CASE("sim duplication end to end: checkpoint, shipping, and agreeing progress signals") {
    for (auto g : {generation::v2_5, generation::master}) {
        CAPTURE(generation_name(g));
        sim_fixture fx(config(g));
        for (int i = 0; i < 20; ++i)
            put(fx, "before" + std::to_string(i), "v");
        client meta(fx.meta_port("src"));
        idl::duplication_add_request add;
        add.app_name = "t";
        add.remote_cluster_name = "dst";
        auto added = meta.call_typed<idl::duplication_add_response>("RPC_CM_ADD_DUPLICATION", add);
        REQUIRE(added.err.name() == "ERR_OK");
        REQUIRE(fx.eventually([&] {
            return fx.sim().cluster("src").dups.begin()->second.status == dup_status::log;
        }));
        for (int i = 0; i < 20; ++i)
            put(fx, "after" + std::to_string(i), "w");
        // The target holds every key (checkpoint + shipped log). On 2.5 the newest mutation of each
        // partition waits for a later one, which the group check's empty write provides.
        REQUIRE(fx.eventually([&] {
            auto* tt = fx.sim().cluster("dst").find_table("t");
            std::size_t n = 0;
            for (auto& p : tt->partitions)
                n += p.data.size();
            return n == 40;
        }));
        auto dst_envs = fx.on_sim([&] { return fx.sim().cluster("dst").find_table("t")->envs; });
        CHECK(dst_envs.at("duplication.master_cluster") == "src");
        CHECK(dst_envs.at("duplication.follower_app_status") == "created");
        // Freeze writes, then wait until every progress signal says "drained" and they agree.
        set_env(fx, "timeout*write");
        REQUIRE(fx.eventually([&] {
            auto& c = fx.sim().cluster("src");
            auto* t = c.find_table("t");
            if (c.freezes.size() != 8)
                return false;
            for (auto& [gpid, f] : c.freezes)
                if (!f.acked_at)
                    return false;
            auto& d = c.dups.begin()->second;
            for (std::size_t p = 0; p < d.partitions.size(); ++p)
                if (d.partitions[p].meta_confirmed <
                        c.freezes.at({1, static_cast<std::int32_t>(p)}).last_decree ||
                    d.partitions[p].confirmed <
                        t->partitions[p].last_committed - (g == generation::master ? 0 : 1))
                    return false;
            return true;
        }));
        auto p0_port = fx.on_sim([&] {
            auto& c = fx.sim().cluster("src");
            return c.nodes[static_cast<std::size_t>(c.find_table("t")->partitions[0].primary)].port;
        });
        client node(p0_port);
        client http(p0_port);
        auto [status, body] = http.http_get("/replica/duplication?appid=1");
        REQUIRE(status == 200);
        auto dj = boost::json::parse(body).as_object();
        auto& entry = dj.at(std::to_string(added.dupid)).at("1.0").as_object();
        CHECK(entry.contains("remote_app_name") == (g == generation::master));
        auto not_dup = entry.at("not_duplicated_mutations_num").as_int64();
        if (g == generation::master) {
            CHECK(not_dup == 0);
            auto progress = node.command("replica.query-progress", {"1.0"});
            CHECK(progress.find("\"replica_confirmed_decree\": ") != std::string::npos);
            idl::duplication_query_request q;
            q.app_name = "t";
            auto qr =
                meta.call_typed<idl::duplication_query_response>("RPC_CM_QUERY_DUPLICATION", q);
            REQUIRE(qr.entry_list.size() == 1);
            CHECK(qr.entry_list[0].partition_states.size() == 8);
            auto confirmed = fx.on_sim([&] {
                return fx.sim().cluster("src").dups.begin()->second.partitions[0].confirmed;
            });
            CHECK(progress.find("\"replica_confirmed_decree\": " + std::to_string(confirmed)) !=
                  std::string::npos);
            CHECK(node.command("perf-counters-by-substr", {"dup"}).find("\"counters\":[]") !=
                  std::string::npos);
        } else {
            CHECK(not_dup <= 1); // the 2.4/2.5 newest-mutation lag
            auto pc = node.command("perf-counters-by-substr", {"dup_shipped_ops@1."});
            CHECK(pc.find("replica*app.pegasus*dup_shipped_ops@1.0") != std::string::npos);
            CHECK(node.command("replica.query-progress") ==
                  "unknown command 'replica.query-progress'");
        }
    }
}

TEST_CASE("sim faults: stop/restart a replica on the same port, delay and drop replies, close "
          "connections") {
    sim_fixture fx(config(generation::v2_5));
    auto port = fx.replica_port("src", 1);
    auto stop = admin_get(fx, "/fault/stop?cluster=src&role=replica&index=1");
    CHECK(stop.at("result") == "ok");
    client refused(port);
    CHECK_FALSE(refused.connected());
    admin_get(fx, "/fault/restart?cluster=src&role=replica&index=1");
    client back(port);
    REQUIRE(back.connected());
    CHECK(back.command("nope") == "unknown command 'nope'");
    // Drop every RPC_CLI_CLI_CALL reply: the next reply seen is for the following request.
    admin_get(fx, "/fault/reply?rpc=RPC_CLI_CLI_CALL&drop=true");
    idl::command cmd;
    cmd.cmd = "nope";
    REQUIRE(back.send(
        wire::encode_call(wire::request_header{}, "RPC_CLI_CLI_CALL", back.next_seqid(), cmd)));
    auto f = back.call("RPC_QUERY_REPLICA_INFO", idl::query_replica_info_request{});
    REQUIRE(f.has_value());
    CHECK(f->name == "RPC_QUERY_REPLICA_INFO_ACK");
    admin_get(fx, "/fault/reply?rpc=RPC_CLI_CLI_CALL&clear=true");
    // Delayed replies still arrive.
    admin_get(fx, "/fault/reply?rpc=RPC_QUERY_REPLICA_INFO&delay_ms=100");
    CHECK(back.call("RPC_QUERY_REPLICA_INFO", idl::query_replica_info_request{}).has_value());
    admin_get(fx, "/fault/close_connections?cluster=src");
    CHECK_FALSE(back.call("RPC_QUERY_REPLICA_INFO", idl::query_replica_info_request{}).has_value());
    // Moving the meta leader: the old leader now answers as a follower.
    admin_get(fx, "/fault/leader?cluster=src&index=0");
    client meta(fx.meta_port("src", 0));
    idl::query_cfg_request q;
    q.app_name = "t";
    CHECK(meta.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", q)
              .err.name() == "ERR_OK");
    CHECK(fx.on_sim([&] { return fx.sim().cluster("src").leader; }) == 0);
    // Stalling shipping and slowing env propagation are switches on the model.
    admin_get(fx, "/fault/env_delay?cluster=src&ms=500");
    CHECK(fx.on_sim([&] { return fx.sim().cluster("src").fault.env_propagation_delay; }) ==
          millis(500));
    admin_get(fx, "/fault/shipping?cluster=src&stall=true");
    CHECK(fx.on_sim([&] { return fx.sim().cluster("src").fault.stall_shipping; }));
    auto reqs = admin_get(fx, "/requests?server=src/replica1");
    CHECK(reqs.as_object().contains("src/replica1"));
    auto ports = admin_get(fx, "/ports");
    CHECK(ports.at("clusters").at("src").at("replica").as_array().size() == 3);
}

TEST_CASE(
    "sim faults: after a replica stops, the meta moves its primaries and clients re-resolve") {
    auto cfg = config(generation::master);
    cfg.clusters[0].timing.failure_detection = millis(100);
    sim_fixture fx(cfg);
    put(fx, "a", "v");
    auto dead =
        fx.on_sim([&] { return fx.sim().cluster("src").find_table("t")->partitions[4].primary; });
    admin_get(fx, "/fault/stop?cluster=src&role=replica&index=" + std::to_string(dead));
    client meta(fx.meta_port("src"));
    idl::query_cfg_request q;
    q.app_name = "t";
    REQUIRE(fx.eventually(
        [&] { return fx.sim().cluster("src").find_table("t")->partitions[4].primary != dead; }));
    auto r = meta.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", q);
    CHECK(r.partitions[4].ballot == 2);
    CHECK(r.partitions[4].primary.port() != fx.replica_port("src", dead));
    // A client that re-resolved reads the data from the new primary.
    auto key = encode_full_key("a", "s");
    auto rt = route_key(fx, "src", "t", key);
    client c(rt.port);
    auto g = c.call_typed<idl::read_response>("RPC_RRDB_RRDB_GET", idl::blob(key), rt.header);
    CHECK(g.value.str() == "v");
    // list_nodes reports the dead node last.
    auto nodes = meta.call_typed<idl::configuration_list_nodes_response>(
        "RPC_CM_LIST_NODES", idl::configuration_list_nodes_request{});
    CHECK(nodes.infos.back().status == 2);
}

TEST_CASE("sim data plane: requests with a v1 header (Java client) are accepted") {
    sim_fixture fx(config(generation::v2_5));
    auto key = encode_full_key("a", "s");
    auto rt = route_key(fx, "src", "t", key);
    idl::thrift_request_meta_v1 meta_v1;
    meta_v1.__set_app_id(rt.header.app_id);
    meta_v1.__set_partition_index(rt.header.partition_index);
    meta_v1.__set_client_timeout(5000);
    meta_v1.__set_client_partition_hash(static_cast<std::int64_t>(rt.header.partition_hash));
    meta_v1.__set_is_backup_request(false);
    auto meta_bytes = wire::serialize_struct(meta_v1);
    // The body is what follows the 48-byte v0 header of the same call.
    auto v0 = wire::encode_call(rt.header, "RPC_RRDB_RRDB_PUT", 1, put_req(key, "v1"));
    wire::bytes body(v0.begin() + 48, v0.end());
    wire::bytes frame{'T', 'H', 'F', 'T'};
    auto be32 = [&](std::uint32_t v) {
        for (int i = 3; i >= 0; --i)
            frame.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    be32(1);
    be32(static_cast<std::uint32_t>(meta_bytes.size()));
    be32(static_cast<std::uint32_t>(body.size()));
    frame.insert(frame.end(), meta_bytes.begin(), meta_bytes.end());
    frame.insert(frame.end(), body.begin(), body.end());
    client c(rt.port);
    REQUIRE(c.send(frame));
    auto f = c.receive();
    REQUIRE(f.has_value());
    CHECK(f->error_name == "ERR_OK");
    auto r = wire::decode_reply<idl::update_response>(*f);
    REQUIRE(r.has_value());
    CHECK(r->error == 0);
    CHECK(r->partition_index == 4);
}
