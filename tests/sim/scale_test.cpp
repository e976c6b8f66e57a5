// pegasus-sim at the required scale: 5 clusters x 1000 tables x 16 partitions in one process. The
// servers must stay responsive (every call below runs under the fixture's read deadline).
#include "sim_fixture.hpp"

#include "sim/replica_rpc.hpp"

using namespace tablemigrator;
using namespace tablemigrator::sim;
using namespace tablemigrator::sim::test;
using namespace std::chrono_literals;

namespace {

sim_config big_config() {
    sim_config cfg;
    for (int c = 0; c < 5; ++c) {
        cluster_config cc;
        cc.name = "c" + std::to_string(c);
        cc.gen = c % 2 ? generation::v2_5 : generation::master;
        cc.meta_ports = {0, 0};
        cc.replica_ports = {0, 0, 0, 0, 0};
        for (int d = 0; d < 5; ++d)
            cc.duplication_group["c" + std::to_string(d)] = d + 1;
        cc.remote_clusters["c" + std::to_string((c + 1) % 5)] = "";
        // Fast timers so the test exercises many ticks of every kind.
        cc.timing.config_sync_interval = 100ms;
        cc.timing.duplication_sync_period = 100ms;
        cc.timing.perf_counter_interval = 100ms;
        cc.timing.group_check_interval = 1000ms;
        cc.timing.checkpoint_copy_duration = 100ms;
        for (int t = 0; t < 1000; ++t) {
            table_config tc;
            tc.name = "t" + std::to_string(t);
            tc.partition_count = 16;
            tc.replica_count = 3;
            cc.tables.push_back(tc);
        }
        cfg.clusters.push_back(cc);
    }
    return cfg;
}

} // namespace

TEST_CASE("sim scale: the model advances through minutes of timers with 5 x 1000 x 16 partitions") {
    model m(big_config(), 1700000000000000);
    m.start();
    m.events().advance_to(std::chrono::seconds(60));
    auto& c0 = *m.find_cluster("c0");
    CHECK(c0.nodes[0].config_syncs == 600);
    CHECK(c0.find_table("t999")->partitions[15].empty_writes > 0);
}

TEST_CASE("sim scale: servers answer meta, replica and HTTP requests while every timer runs") {
    sim_fixture fx(big_config());
    client meta(fx.meta_port("c0"));
    idl::query_cfg_request q;
    q.app_name = "t999";
    auto r = meta.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", q);
    CHECK(r.err.name() == "ERR_OK");
    CHECK(r.partitions.size() == 16);
    auto apps = meta.call_typed<idl::configuration_list_apps_response>(
        "RPC_CM_LIST_APPS", idl::configuration_list_apps_request{});
    CHECK(apps.infos.size() == 1000);
    idl::duplication_add_request add;
    add.app_name = "t5";
    add.remote_cluster_name = "c1";
    add.__set_remote_app_name("t5_copy"); // c1 has its own t5
    CHECK(
        meta.call_typed<idl::duplication_add_response>("RPC_CM_ADD_DUPLICATION", add).err.name() ==
        "ERR_OK");
    for (int round = 0; round < 20; ++round) {
        client node(fx.replica_port("c0", round % 5));
        CHECK(node.command("perf-counters-by-substr", {"pending_mutations_count"})
                  .find("\"result\":\"OK\"") != std::string::npos);
        client http(fx.replica_port("c0", round % 5));
        CHECK(http.http_get("/replica/data_version?app_id=1").first == 200);
        std::this_thread::sleep_for(20ms);
    }
    CHECK(fx.eventually(
        [&] { return fx.sim().cluster("c0").dups.begin()->second.status == dup_status::log; }));
}
