// Sans-io tests of simulated replica remote commands and HTTP endpoints, per generation.
#include "sim/model.hpp"
#include "sim/replica_service.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace tablemigrator::sim;
using namespace std::chrono_literals;

namespace {

struct fixture {
    explicit fixture(generation g)
        : m(make(g), 1700000000000000) {
        auto& c = *m.find_cluster("src");
        std::uint16_t port = 34801;
        for (auto& n : c.nodes)
            n.port = port++;
        m.start();
        m.events().advance_to(m.now()); // start-up work due at time 0 (perf-counter snapshot)
    }
    static sim_config make(generation g) {
        auto cfg = parse_config(R"({"clusters": [
            {"name": "src", "replica_servers": 2, "duplication_group": {"src": 1, "dst": 2},
             "tables": [{"name": "t", "partition_count": 4, "replica_count": 1}]},
            {"name": "dst", "replica_servers": 1, "duplication_group": {"src": 1, "dst": 2}}]})");
        REQUIRE(cfg.has_value());
        for (auto& c : cfg->clusters)
            c.gen = g;
        return *cfg;
    }
    cluster_state& src() { return *m.find_cluster("src"); }
    model m;
};

} // namespace

TEST_CASE("sim replica: unknown commands answer the real text; master-only commands are gated") {
    fixture f24(generation::v2_4);
    CHECK(replica_remote_command(f24.src(), 0, "nope", {}) == "unknown command 'nope'");
    CHECK(replica_remote_command(f24.src(), 0, "replica.query-progress", {}) ==
          "unknown command 'replica.query-progress'");
    CHECK(replica_remote_command(f24.src(), 0, "replica.disable-empty-write", {}) ==
          "unknown command 'replica.disable-empty-write'");
    CHECK(
        replica_remote_command(f24.src(), 0, "server-info", {}).rfind("Pegasus Server 2.4.0", 0) ==
        0);
    fixture fm(generation::master);
    auto info = boost::json::parse(replica_remote_command(fm.src(), 0, "server-info", {}));
    CHECK(info.as_object().contains("version"));
}

TEST_CASE("sim replica: perf counters match by substring on 2.4/2.5 and are absent on master") {
    fixture f(generation::v2_5);
    auto out =
        replica_remote_command(f.src(), 0, "perf-counters-by-substr", {"pending_mutations_count"});
    auto j = boost::json::parse(out).as_object();
    CHECK(j.at("result") == "OK");
    auto& counters = j.at("counters").as_array();
    REQUIRE(counters.size() == 1);
    CHECK(counters[0].at("name") == "replica*eon.replica_stub*dup.pending_mutations_count");
    CHECK(counters[0].at("type") == "VOLATILE_NUMBER");
    CHECK(out.find("\"value\":0.0") != std::string::npos);
    fixture fm(generation::master);
    auto jm = boost::json::parse(replica_remote_command(fm.src(), 0, "perf-counters-by-substr",
                                                        {"pending_mutations_count"}));
    CHECK(jm.at("counters").as_array().empty());
}

TEST_CASE("sim replica: query-progress uses the exact per-replica framing (master)") {
    fixture f(generation::master);
    auto& c = f.src();
    auto* t = c.find_table("t");
    // Node 0 hosts primaries of partitions with (app_id + p) % 2 == 0: app 1 -> p 1, 3.
    auto out = replica_remote_command(c, 0, "replica.query-progress", {"1.1,1.0", "1"});
    CHECK(out.rfind("2 processed, 1 not found\n    1.0@localhost:34801 : not found\n"
                    "    1.1@localhost:34801@P : {\n    \"max_prepared_decree\": 0,\n",
                    0) == 0);
    CHECK(out.find("\n}\n    1.3@localhost:34801@P : {") != std::string::npos);
    CHECK(out.back() == '}');
    CHECK(out.find("duplications") == std::string::npos);
    c.add_duplication(*t, "dst", "t", 0, true);
    f.m.events().advance_to(11s);
    out = replica_remote_command(c, 0, "replica.query-progress", {"1.1"});
    CHECK(out.find("    \"duplications\": [\n        {\n            \"dupid\": ") !=
          std::string::npos);
    CHECK(out.find("\"remote_cluster_name\": \"dst\",") != std::string::npos);
    CHECK(replica_remote_command(c, 0, "replica.query-progress", {","}) == "invalid arguments");
}

TEST_CASE("sim replica: disable-empty-write speaks nlohmann dump(2)") {
    fixture f(generation::master);
    auto& c = f.src();
    CHECK(replica_remote_command(c, 0, "replica.disable-empty-write", {}) ==
          "{\n  \"error\": \"ok\",\n  \"replica.disable-empty-write\": \"false\"\n}");
    CHECK(replica_remote_command(c, 0, "replica.disable-empty-write", {"TRUE"}) ==
          "{\n  \"error\": \"ok\"\n}");
    CHECK(c.nodes[0].empty_write_disabled);
    CHECK(replica_remote_command(c, 0, "replica.disable-empty-write", {"x"}) ==
          "{\n  \"error\": \"ERR: invalid arguments, 'x' is not a boolean\"\n}");
}

TEST_CASE("sim replica: query-app-envs never shows the deny env") {
    fixture f(generation::v2_4);
    auto out = replica_remote_command(f.src(), 0, "replica.query-app-envs", {"1"});
    CHECK(out ==
          "2 processed, 0 not found\n    1.1@127.0.0.1:34801@P : rocksdb.usage_scenario=normal"
          "\n    1.3@127.0.0.1:34801@P : rocksdb.usage_scenario=normal");
}

TEST_CASE("sim replica: HTTP data_version and duplication follow the real status codes") {
    fixture f(generation::v2_5);
    auto& c = f.src();
    CHECK(replica_http(c, 0, {"GET", "/replica/data_version"}).status == 400);
    CHECK(replica_http(c, 0, {"GET", "/replica/data_version?app_id=x"}).body == "invalid app_id=x");
    CHECK(replica_http(c, 0, {"GET", "/replica/data_version?app_id=9"}).status == 404);
    auto ok = replica_http(c, 0, {"GET", "/replica/data_version?app_id=1"});
    CHECK(ok.status == 200);
    CHECK(ok.body == R"({"1":{"data_version":"1"},"3":{"data_version":"1"}})");
    auto none = replica_http(c, 0, {"GET", "/replica/duplication?appid=1"});
    CHECK(none.status == 404);
    CHECK(none.body == "no duplication assigned for app [appid=1]");
    CHECK(replica_http(c, 0, {"GET", "/nothing/here"}).body ==
          "service not found for \"/nothing/here\"");
    CHECK(replica_http(c, 0, {"GET", "/version?a=1&a=2"}).status == 400);
}

TEST_CASE("sim replica: /updateConfig config_sync_interval_ms per generation") {
    fixture f24(generation::v2_4);
    auto r = replica_http(f24.src(), 0, {"GET", "/updateConfig?config_sync_interval_ms=5000"});
    CHECK(r.body.find("ERR_OK") == std::string::npos);
    CHECK(f24.src().nodes[0].config_sync_interval == 30s);
    CHECK(replica_http(f24.src(), 0, {"GET", "/updateConfig?empty_write_disabled=true"}).body ==
          "{\"update_status\":\"ERR_OK\"}\n");
    fixture f25(generation::v2_5);
    CHECK(replica_http(f25.src(), 0, {"GET", "/updateConfig?config_sync_interval_ms=5000"}).body ==
          "{\"update_status\":\"ERR_OK\"}\n");
    CHECK(f25.src().nodes[0].config_sync_interval == 5s);
}

TEST_CASE("sim replica: /metrics filters and rejects unknown params") {
    fixture f(generation::master);
    auto& c = f.src();
    auto bad = replica_http(c, 0, {"GET", "/metrics?foo=bar"});
    CHECK(bad.status == 400);
    CHECK(bad.body == R"({"error_message":"unknown field foo=bar"})");
    auto r = replica_http(c, 0,
                          {"GET", "/metrics?with_metric_fields=name,value&types=replica&"
                                  "attributes=table_id,1&metrics=dup_pending_mutations"});
    REQUIRE(r.status == 200);
    auto j = boost::json::parse(r.body).as_object();
    auto& ents = j.at("entities").as_array();
    CHECK(ents.size() == 2);
    CHECK(ents[0].at("metrics").as_array().size() == 1);
    CHECK(j.at("cluster") == "src");
    fixture f24(generation::v2_4);
    CHECK(replica_http(f24.src(), 0, {"GET", "/metrics"}).status == 404);
}

TEST_CASE("sim replica: the generations' progress signals report the same numbers") {
    for (auto g : {generation::v2_5, generation::master}) {
        CAPTURE(generation_name(g));
        fixture f(g);
        auto& c = f.src();
        auto* t = c.find_table("t");
        c.add_duplication(*t, "dst", "t", 0, true);
        f.m.events().advance_to(std::chrono::seconds(13)); // DS_LOG after the 10 s sync + copy
        REQUIRE(c.dups.begin()->second.status == dup_status::log);
        c.fault.stall_shipping = true;
        for (int i = 0; i < 5; ++i) {
            write_op op;
            op.key = "k" + std::to_string(i);
            op.value = "v";
            c.apply_write(*t, 1, "RPC_RRDB_RRDB_PUT", {op}, 30); // partition 1: primary node 0
        }
        f.m.events().advance_to(std::chrono::seconds(20)); // duplication sync + perf snapshot
        auto dup =
            boost::json::parse(replica_http(c, 0, {"GET", "/replica/duplication?appid=1"}).body);
        auto dupid = std::to_string(c.dups.begin()->first);
        auto not_dup_p1 = dup.at(dupid).at("1.1").at("not_duplicated_mutations_num").as_int64();
        auto not_dup_p3 = dup.at(dupid).at("1.3").at("not_duplicated_mutations_num").as_int64();
        CHECK(not_dup_p1 >= 5);
        if (g == generation::master) {
            auto m = boost::json::parse(
                replica_http(c, 0,
                             {"GET", "/metrics?ids=replica@1.1&metrics=dup_pending_mutations"})
                    .body);
            CHECK(
                m.at("entities").as_array()[0].at("metrics").as_array()[0].at("value").as_int64() ==
                not_dup_p1);
            auto progress = replica_remote_command(c, 0, "replica.query-progress", {"1.1"});
            auto lc = t->partitions[1].last_committed;
            auto confirmed = c.dups.begin()->second.partitions[1].confirmed;
            CHECK(lc - confirmed == not_dup_p1);
            CHECK(progress.find("\"last_committed_decree\": " + std::to_string(lc)) !=
                  std::string::npos);
            CHECK(progress.find("\"replica_confirmed_decree\": " + std::to_string(confirmed)) !=
                  std::string::npos);
        } else {
            auto pc = boost::json::parse(replica_remote_command(c, 0, "perf-counters-by-substr",
                                                                {"pending_mutations_count"}));
            CHECK(pc.at("counters").as_array()[0].at("value").as_double() ==
                  static_cast<double>(not_dup_p1 + not_dup_p3));
        }
    }
}
