// pegasus-sim meta servers over loopback THFT: every meta RPC and its error cases, per generation
// (pegasus-protocol.md §2).
#include "sim_fixture.hpp"

using namespace tablemigrator;
using namespace tablemigrator::sim;
using namespace tablemigrator::sim::test;

namespace {

sim_config config(generation g) {
    auto cfg = parse_config(R"({"clusters": [
        {"name": "src", "meta_servers": 2, "replica_servers": 3,
         "duplication_group": {"src": 1, "dst": 2}, "remote_clusters": {"dst": ""},
         "tables": [{"name": "t", "partition_count": 4, "replica_count": 3,
                     "envs": {"rocksdb.usage_scenario": "normal"}},
                    {"name": "u", "partition_count": 2, "replica_count": 1}],
         "timing": {"checkpoint_copy_ms": 100, "duplication_sync_period_ms": 200}},
        {"name": "dst", "replica_servers": 2, "duplication_group": {"src": 1, "dst": 2}}]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters)
        c.gen = g;
    return *cfg;
}

idl::query_cfg_request query(std::string name) {
    idl::query_cfg_request r;
    r.app_name = std::move(name);
    return r;
}

idl::configuration_update_app_env_request set_env(std::string table, std::string k, std::string v) {
    idl::configuration_update_app_env_request r;
    r.app_name = std::move(table);
    r.op = 1;
    r.__set_keys({std::move(k)});
    r.__set_values({std::move(v)});
    return r;
}

} // namespace

TEST_CASE("sim meta: query config answers the table, ERR_OBJECT_NOT_FOUND for unknown tables") {
    for (auto g : {generation::v2_4, generation::master}) {
        CAPTURE(generation_name(g));
        sim_fixture fx(config(g));
        client meta(fx.meta_port("src"));
        auto r = meta.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX",
                                                          query("t"));
        CHECK(r.err.name() == "ERR_OK");
        CHECK(r.app_id == 1);
        CHECK(r.partition_count == 4);
        CHECK(r.is_stateful);
        REQUIRE(r.partitions.size() == 4);
        CHECK(r.partitions[0].secondaries.size() == 2);
        CHECK(r.partitions[0].ballot >= 1);
        CHECK(r.partitions[0].primary.port() == fx.replica_port("src", 1));
        CHECK(bool(r.partitions[0].__isset.hp_primary) == (g == generation::master));
        auto missing = meta.call_typed<idl::query_cfg_response>(
            "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", query("nope"));
        CHECK(missing.err.name() == "ERR_OBJECT_NOT_FOUND");
        auto some = query("t");
        some.partition_indices = {2, 9};
        auto r2 = meta.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX",
                                                           some);
        REQUIRE(r2.partitions.size() == 1);
        CHECK(r2.partitions[0].pid.partition_index() == 2);
    }
}

TEST_CASE(
    "sim meta: a follower answers ERR_FORWARD_TO_OTHERS, naming the leader only for query config") {
    sim_fixture fx(config(generation::v2_5));
    client follower(fx.meta_port("src", 1));
    auto r = follower.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX",
                                                          query("t"));
    CHECK(r.err.name() == "ERR_FORWARD_TO_OTHERS");
    CHECK_FALSE(r.is_stateful);
    REQUIRE(r.partitions.size() == 1);
    CHECK(r.partitions[0].primary.port() == fx.meta_port("src", 0));
    auto e = follower.call_typed<idl::configuration_update_app_env_response>(
        "RPC_CM_UPDATE_APP_ENV", set_env("t", "replica.deny_client_request", "timeout*write"));
    CHECK(e.err.name() == "ERR_FORWARD_TO_OTHERS");
    CHECK(fx.on_sim([&] {
        return fx.sim().cluster("src").find_table("t")->envs.count("replica.deny_client_request");
    }) == 0);
    // Moving leadership flips the roles.
    fx.on_sim([&] { return fx.sim().cluster("src").leader = 1; });
    auto r2 = follower.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX",
                                                           query("t"));
    CHECK(r2.err.name() == "ERR_OK");
}

TEST_CASE("sim meta: unknown RPC names get an ERR_HANDLER_NOT_FOUND error-only frame") {
    sim_fixture fx(config(generation::v2_5));
    client meta(fx.meta_port("src"));
    auto f = meta.call("RPC_FOO", query("t"));
    REQUIRE(f.has_value());
    CHECK(f->error_name == "ERR_HANDLER_NOT_FOUND");
    CHECK(f->name == "RPC_FOO_ACK");
    CHECK(f->payload.empty());
    CHECK(f->seqid == meta.last_seqid());
    // RPC_CM_LIST_DUPLICATION exists only on master.
    idl::duplication_list_request lr;
    lr.match_type = 1;
    auto l = meta.call("RPC_CM_LIST_DUPLICATION", lr);
    REQUIRE(l.has_value());
    CHECK(l->error_name == "ERR_HANDLER_NOT_FOUND");
}

TEST_CASE("sim meta: cluster info keys come in the real order") {
    sim_fixture fx(config(generation::v2_4));
    client meta(fx.meta_port("src"));
    auto r = meta.call_typed<idl::configuration_cluster_info_response>(
        "RPC_CM_CLUSTER_INFO", idl::configuration_cluster_info_request{});
    CHECK(r.err.name() == "ERR_OK");
    std::vector<std::string> want{"meta_servers",
                                  "primary_meta_server",
                                  "zookeeper_hosts",
                                  "zookeeper_root",
                                  "meta_function_level",
                                  "balance_operation_count",
                                  "primary_replica_count_stddev",
                                  "total_replica_count_stddev",
                                  "cluster_name"};
    CHECK(r.keys == want);
    REQUIRE(r.values.size() == want.size());
    CHECK(r.values[8] == "src");
    CHECK(r.values[3] == "/pegasus/src");
}

TEST_CASE("sim meta: list nodes lists alive nodes first, then dead ones; hp_node only on master") {
    for (auto g : {generation::v2_5, generation::master}) {
        sim_fixture fx(config(g));
        REQUIRE(fx.on_sim(
            [&] { return fx.sim().server().stop_server(0, server_role::replica, 0).has_value(); }));
        client meta(fx.meta_port("src"));
        idl::configuration_list_nodes_request req;
        auto r = meta.call_typed<idl::configuration_list_nodes_response>("RPC_CM_LIST_NODES", req);
        REQUIRE(r.infos.size() == 3);
        CHECK(r.infos[0].status == 1);
        CHECK(r.infos[1].status == 1);
        CHECK(r.infos[2].status == 2);
        CHECK(r.infos[2].node.port() == fx.replica_port("src", 0));
        CHECK(bool(r.infos[0].__isset.hp_node) == (g == generation::master));
        req.status = 1;
        CHECK(meta.call_typed<idl::configuration_list_nodes_response>("RPC_CM_LIST_NODES", req)
                  .infos.size() == 2);
    }
}

TEST_CASE(
    "sim meta: update app env validates deny values, then SET/DEL/CLEAR with the real hints") {
    sim_fixture fx(config(generation::v2_5));
    client meta(fx.meta_port("src"));
    using resp_t = idl::configuration_update_app_env_response;
    auto bad = meta.call_typed<resp_t>(
        "RPC_CM_UPDATE_APP_ENV", set_env("t", "replica.deny_client_request", "timeout*writes"));
    CHECK(bad.err.name() == "ERR_INVALID_PARAMETERS");
    CHECK(bad.hint_message ==
          "Invalid deny client args, valid include: timeout*all, timeout*write, timeout*read; "
          "reconfig*all, reconfig*write, reconfig*read");
    auto missing = meta.call_typed<resp_t>(
        "RPC_CM_UPDATE_APP_ENV", set_env("nope", "replica.deny_client_request", "timeout*write"));
    CHECK(missing.err.name() == "ERR_APP_NOT_EXIST");
    CHECK(missing.hint_message == "app cannot be found");
    auto ok = meta.call_typed<resp_t>("RPC_CM_UPDATE_APP_ENV",
                                      set_env("t", "replica.deny_client_request", "timeout*write"));
    CHECK(ok.err.name() == "ERR_OK");
    CHECK(ok.hint_message.empty());
    // 2.5 accepts keys the master validator would refuse.
    CHECK(meta.call_typed<resp_t>("RPC_CM_UPDATE_APP_ENV", set_env("t", "custom.key", "1"))
              .err.name() == "ERR_OK");
    // List apps reads the envs back.
    auto apps = meta.call_typed<idl::configuration_list_apps_response>(
        "RPC_CM_LIST_APPS", idl::configuration_list_apps_request{});
    REQUIRE(apps.infos.size() == 2);
    CHECK(apps.infos[0].envs.at("replica.deny_client_request") == "timeout*write");
    idl::configuration_update_app_env_request del;
    del.app_name = "t";
    del.op = 2;
    del.__set_keys({"replica.deny_client_request", "absent"});
    auto d = meta.call_typed<resp_t>("RPC_CM_UPDATE_APP_ENV", del);
    CHECK(d.err.name() == "ERR_OK");
    CHECK(d.hint_message == "deleted keys:\n    replica.deny_client_request");
    auto d2 = meta.call_typed<resp_t>("RPC_CM_UPDATE_APP_ENV", del);
    CHECK(d2.hint_message == "no key needs to be deleted");
    idl::configuration_update_app_env_request clear;
    clear.app_name = "t";
    clear.op = 3;
    clear.__set_clear_prefix("rocksdb");
    CHECK(meta.call_typed<resp_t>("RPC_CM_UPDATE_APP_ENV", clear).hint_message ==
          "deleted keys:\n    rocksdb.usage_scenario");
    idl::configuration_update_app_env_request invalid;
    invalid.app_name = "t";
    CHECK(meta.call_typed<resp_t>("RPC_CM_UPDATE_APP_ENV", invalid).err.name() ==
          "ERR_INVALID_PARAMETERS");
    CHECK(fx.on_sim([&] {
        return fx.sim().cluster("src").state_changing_requests["RPC_CM_UPDATE_APP_ENV"];
    }) == 8);
}

TEST_CASE("sim meta: master refuses unsupported env keys") {
    sim_fixture fx(config(generation::master));
    client meta(fx.meta_port("src"));
    auto r = meta.call_typed<idl::configuration_update_app_env_response>(
        "RPC_CM_UPDATE_APP_ENV", set_env("t", "custom.key", "1"));
    CHECK(r.err.name() == "ERR_INVALID_PARAMETERS");
    CHECK(r.hint_message == "app_env 'custom.key' is not supported");
}

TEST_CASE(
    "sim meta: add duplication per generation (ERR_DUP_EXIST on master, silent reuse on 2.4/2.5)") {
    for (auto g : {generation::v2_4, generation::master}) {
        CAPTURE(generation_name(g));
        sim_fixture fx(config(g));
        client meta(fx.meta_port("src"));
        idl::duplication_add_request add;
        add.app_name = "t";
        add.remote_cluster_name = "dst";
        using resp_t = idl::duplication_add_response;
        auto r = meta.call_typed<resp_t>("RPC_CM_ADD_DUPLICATION", add);
        CHECK(r.err.name() == "ERR_OK");
        CHECK(r.appid == 1);
        CHECK(r.dupid > 1700000000);
        CHECK(bool(r.__isset.remote_app_name) == (g == generation::master));
        auto again = meta.call_typed<resp_t>("RPC_CM_ADD_DUPLICATION", add);
        CHECK(again.err.name() == (g == generation::master ? "ERR_DUP_EXIST" : "ERR_OK"));
        CHECK(again.dupid == r.dupid);
        auto self = add;
        self.remote_cluster_name = "src";
        auto s = meta.call_typed<resp_t>("RPC_CM_ADD_DUPLICATION", self);
        CHECK(s.err.name() == "ERR_INVALID_PARAMETERS");
        CHECK(s.hint == "illegal operation: adding duplication to itself");
        auto unknown = add;
        unknown.remote_cluster_name = "elsewhere";
        CHECK(meta.call_typed<resp_t>("RPC_CM_ADD_DUPLICATION", unknown).err.name() ==
              "ERR_INVALID_PARAMETERS");
        auto missing = add;
        missing.app_name = "nope";
        CHECK(meta.call_typed<resp_t>("RPC_CM_ADD_DUPLICATION", missing).err.name() ==
              "ERR_APP_NOT_EXIST");
        // Once in DS_LOG, adding with checkpoint again is an invalid start.
        REQUIRE(fx.eventually([&] {
            return fx.sim().cluster("src").dups.begin()->second.status == dup_status::log;
        }));
        auto late = meta.call_typed<resp_t>("RPC_CM_ADD_DUPLICATION", add);
        if (g == generation::master) {
            CHECK(late.err.name() == "ERR_INVALID_PARAMETERS");
        } else {
            CHECK(late.err.name() == "ERR_OK");
            CHECK(late.appid == 0);
            CHECK(late.dupid == 0);
        }
    }
}

TEST_CASE("sim meta: query and modify duplication follow the status machine") {
    for (auto g : {generation::v2_5, generation::master}) {
        CAPTURE(generation_name(g));
        sim_fixture fx(config(g));
        client meta(fx.meta_port("src"));
        idl::duplication_add_request add;
        add.app_name = "t";
        add.remote_cluster_name = "dst";
        auto added = meta.call_typed<idl::duplication_add_response>("RPC_CM_ADD_DUPLICATION", add);
        idl::duplication_query_request q;
        q.app_name = "t";
        auto r = meta.call_typed<idl::duplication_query_response>("RPC_CM_QUERY_DUPLICATION", q);
        CHECK(r.err.name() == "ERR_OK");
        CHECK(r.appid == 1);
        REQUIRE(r.entry_list.size() == 1);
        CHECK(r.entry_list[0].status == static_cast<int>(dup_status::prepare));
        CHECK(r.entry_list[0].remote == "dst");
        CHECK(bool(r.entry_list[0].__isset.fail_mode));
        CHECK_FALSE(bool(r.entry_list[0].__isset.progress));
        CHECK(bool(r.entry_list[0].__isset.partition_states) == (g == generation::master));
        q.app_name = "nope";
        CHECK(meta.call_typed<idl::duplication_query_response>("RPC_CM_QUERY_DUPLICATION", q)
                  .err.name() == "ERR_APP_NOT_EXIST");
        REQUIRE(fx.eventually([&] {
            return fx.sim().cluster("src").dups.begin()->second.status == dup_status::log;
        }));
        CHECK(fx.on_sim([&] { return fx.sim().cluster("dst").find_table("t") != nullptr; }));
        idl::duplication_modify_request m;
        m.app_name = "t";
        m.dupid = added.dupid;
        m.__set_status(static_cast<int>(dup_status::prepare));
        using mresp = idl::duplication_modify_response;
        CHECK(meta.call_typed<mresp>("RPC_CM_MODIFY_DUPLICATION", m).err.name() ==
              "ERR_INVALID_PARAMETERS");
        m.__set_status(static_cast<int>(dup_status::log));
        auto same = meta.call_typed<mresp>("RPC_CM_MODIFY_DUPLICATION", m);
        CHECK(same.err.name() == "ERR_OK");
        CHECK(same.appid == 0);
        m.__set_status(static_cast<int>(dup_status::pause));
        auto paused = meta.call_typed<mresp>("RPC_CM_MODIFY_DUPLICATION", m);
        CHECK(paused.err.name() == "ERR_OK");
        CHECK(paused.appid == 1);
        m.dupid = 42;
        CHECK(meta.call_typed<mresp>("RPC_CM_MODIFY_DUPLICATION", m).err.name() ==
              "ERR_OBJECT_NOT_FOUND");
        m.dupid = added.dupid;
        m.__set_status(static_cast<int>(dup_status::removed));
        CHECK(meta.call_typed<mresp>("RPC_CM_MODIFY_DUPLICATION", m).err.name() == "ERR_OK");
        CHECK(meta.call_typed<mresp>("RPC_CM_MODIFY_DUPLICATION", m).err.name() ==
              "ERR_OBJECT_NOT_FOUND");
        q.app_name = "t";
        CHECK(meta.call_typed<idl::duplication_query_response>("RPC_CM_QUERY_DUPLICATION", q)
                  .entry_list.empty());
        CHECK(fx.on_sim([&] {
            return fx.sim().cluster("src").state_changing_requests["RPC_CM_MODIFY_DUPLICATION"];
        }) == 6);
    }
}
