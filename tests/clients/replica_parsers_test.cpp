// Unit tests of the sans-io replica parsers on the texts given in the protocol docs.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/replica/command_parsers.hpp>
#include <tablemigrator/replica/http_parsers.hpp>
#include <tablemigrator/replica/server_generation.hpp>

#include <doctest/doctest.h>

using namespace tablemigrator;
using namespace tablemigrator::replica;

namespace {

// progress doc §2.3, byte for byte (no trailing newline).
constexpr std::string_view query_progress_example = R"(2 processed, 0 not found
    3.0@rs1.example.com:34801@P : {
    "max_prepared_decree": 2051,
    "max_plog_decree": 2051,
    "max_plog_decree_on_disk": 2051,
    "max_plog_commit_on_disk": 2050,
    "last_committed_decree": 2051,
    "last_applied_decree": 2051,
    "last_flushed_decree": 1900,
    "last_durable_decree": 1800,
    "max_gc_decree": 1500,
    "duplications": [
        {
            "dupid": 1718000000,
            "remote_cluster_name": "target_cluster",
            "remote_app_name": "usertable",
            "replica_confirmed_decree": 2051,
            "meta_persisted_decree": 2040
        }
    ]
}
    3.1@rs1.example.com:34801@S : {
    "max_prepared_decree": 977,
    "max_plog_decree": 977,
    "max_plog_decree_on_disk": 977,
    "max_plog_commit_on_disk": 976,
    "last_committed_decree": 977,
    "last_applied_decree": 977,
    "last_flushed_decree": 900,
    "last_durable_decree": 800,
    "max_gc_decree": 700
})";

const error_code bad_json = make_error_code(client_errc::bad_json);

} // namespace

TEST_CASE("partition ids parse strictly as two decimal integers") {
    CHECK(parse_partition_id("3.5") == partition_id{3, 5});
    CHECK(parse_partition_id("12.0") == partition_id{12, 0});
    CHECK_FALSE(parse_partition_id("3"));
    CHECK_FALSE(parse_partition_id("3.5x"));
    CHECK_FALSE(parse_partition_id("-3.5"));
    CHECK_FALSE(parse_partition_id(" 3.5"));
    CHECK_FALSE(parse_partition_id("3.5.1"));
    CHECK_FALSE(parse_partition_id("99999999999.1"));
    CHECK(to_string(partition_id{7, 11}) == "7.11");
}

// ---- HTTP bodies ----------------------------------------------------------------------------

TEST_CASE("data_version: partitions map to their version strings") {
    auto r = parse_data_version(R"({"0":{"data_version":"1"},"5":{"data_version":"1"}})");
    REQUIRE(r.has_value());
    CHECK(r->size() == 2);
    CHECK(r->at(0) == "1");
    CHECK(r->at(5) == "1");
}

TEST_CASE("data_version: ignores unknown members inside a partition") {
    auto r = parse_data_version(R"({"2":{"data_version":"0","extra":3}})");
    REQUIRE(r.has_value());
    CHECK(r->at(2) == "0");
}

TEST_CASE("data_version: malformed bodies are bad_json") {
    CHECK(parse_data_version("app_id=3 not found").error() == bad_json);
    CHECK(parse_data_version(R"({"x":{"data_version":"1"}})").error() == bad_json);
    CHECK(parse_data_version(R"({"0":{"version":"1"}})").error() == bad_json);
    CHECK(parse_data_version(R"([1,2])").error() == bad_json);
    CHECK(parse_data_version(R"({"0":{"data_version":"1"})").error() == bad_json);
}

TEST_CASE("replica duplication: per dupid and partition, remote_app_name optional") {
    auto r = parse_replica_duplication(
        R"({"1718000000":{"3.0":{"duplicating":true,"not_confirmed_mutations_num":5,)"
        R"("not_duplicated_mutations_num":2,"fail_mode":"FAIL_SLOW","remote_app_name":"t"},)"
        R"("3.4":{"duplicating":false,"not_confirmed_mutations_num":0,)"
        R"("not_duplicated_mutations_num":0,"fail_mode":"FAIL_SKIP"}}})");
    REQUIRE(r.has_value());
    REQUIRE(r->count(1718000000) == 1);
    const auto& d = r->at(1718000000);
    REQUIRE(d.size() == 2);
    const auto& p0 = d.at(partition_id{3, 0});
    CHECK(p0.duplicating);
    CHECK(p0.not_confirmed_mutations_num == 5);
    CHECK(p0.not_duplicated_mutations_num == 2);
    CHECK(p0.fail_mode == "FAIL_SLOW");
    CHECK(p0.remote_app_name == "t");
    const auto& p4 = d.at(partition_id{3, 4});
    CHECK_FALSE(p4.duplicating);
    CHECK(p4.fail_mode == "FAIL_SKIP");
    CHECK_FALSE(p4.remote_app_name);
}

TEST_CASE("replica duplication: missing counters or bad keys are bad_json") {
    CHECK(parse_replica_duplication(R"({"1":{"3.0":{"duplicating":true}}})").error() == bad_json);
    CHECK(
        parse_replica_duplication(
            R"({"1":{"3":{"duplicating":true,"not_confirmed_mutations_num":0,"not_duplicated_mutations_num":0}}})")
            .error() == bad_json);
    CHECK(parse_replica_duplication("no primary for app [appid=3]").error() == bad_json);
}

TEST_CASE("metrics: entities with attributes and integer metrics") {
    auto r = parse_metrics(
        R"({"cluster":"c1","role":"replica","host":"h","port":34801,"timestamp_ns":1700000000000000000,)"
        R"("entities":[{"type":"replica","id":"replica@2.0","attributes":{"table_id":"2","partition_id":"0"},)"
        R"("metrics":[{"name":"dup_pending_mutations","value":0},{"name":"dup_shipped_successful_requests","value":1234},)"
        R"({"name":"p_lat","p50":1.5}]},{"type":"server","id":"server","metrics":[]}]})");
    REQUIRE(r.has_value());
    CHECK(r->cluster == "c1");
    CHECK(r->role == "replica");
    CHECK(r->port == 34801);
    CHECK(r->timestamp_ns == 1700000000000000000ull);
    REQUIRE(r->entities.size() == 2);
    const auto& e = r->entities[0];
    CHECK(e.type == "replica");
    CHECK(e.id == "replica@2.0");
    CHECK(e.attributes.at("table_id") == "2");
    CHECK(e.metrics.at("dup_shipped_successful_requests") == 1234);
    CHECK(e.metrics.at("dup_pending_mutations") == 0);
    CHECK(e.metrics.count("p_lat") == 0);
    CHECK(r->entities[1].metrics.empty());
}

TEST_CASE("metrics: a body without entities or an error JSON is bad_json") {
    CHECK(parse_metrics(R"({"error_message":"unknown field k=v"})").error() == bad_json);
    CHECK(parse_metrics(R"({"entities":[{"type":"replica"}]})").error() == bad_json);
    CHECK(parse_metrics("{").error() == bad_json);
}

TEST_CASE("metrics target: the recommended per-table query") {
    CHECK(metrics_target(table_dup_metrics_query(2)) ==
          "/metrics?with_metric_fields=name,value&types=replica&attributes=table_id,2&metrics="
          "dup_pending_mutations,dup_shipped_successful_requests,dup_shipped_failed_requests,"
          "dup_confirmed_mutations");
    metrics_query q;
    CHECK(metrics_target(q) == "/metrics");
    q.ids = {"replica@2.0"};
    q.detail = false;
    CHECK(metrics_target(q) == "/metrics?ids=replica%402.0&detail=false");
}

TEST_CASE("version: Version and GitCommit") {
    auto r = parse_version(R"({"Version":"2.5.0","GitCommit":"abc123"})");
    REQUIRE(r.has_value());
    CHECK(r->version == "2.5.0");
    CHECK(r->git_commit == "abc123");
    CHECK(parse_version(R"({"GitCommit":"abc"})").error() == bad_json);
}

TEST_CASE("config: name and value extracted, any scalar rendered as text") {
    auto r = parse_config(
        R"({"name":"empty_write_disabled","section":"replication","type":"FV_BOOL","value":false,"tags":["x"]})");
    REQUIRE(r.has_value());
    CHECK(r->name == "empty_write_disabled");
    CHECK(r->value == "false");
    CHECK(r->fields.at("section") == "replication");
    CHECK(r->fields.count("tags") == 0);
    auto s = parse_config(R"({"name":"config_sync_interval_ms","value":"30000"})");
    REQUIRE(s.has_value());
    CHECK(s->value == "30000");
    CHECK(parse_config("ERR_OBJECT_NOT_FOUND").error() == bad_json);
}

TEST_CASE("updateConfig: ERR_OK is success, not-mutable and not-found map to rDSN errors") {
    auto ok = parse_update_config("{\"update_status\":\"ERR_OK\"}\n");
    REQUIRE(ok.has_value());
    CHECK_FALSE(ok->err);
    CHECK(ok->detail.empty());

    auto nm = parse_update_config(
        R"({"update_status":"ERR_INVALID_PARAMETERS: group_check_interval_ms is not mutable"})");
    REQUIRE(nm.has_value());
    CHECK(nm->err == rdsn_errc::ERR_INVALID_PARAMETERS);
    CHECK(nm->detail == "group_check_interval_ms is not mutable");

    auto nf = parse_update_config(R"({"update_status":"ERR_OBJECT_NOT_FOUND: foo is not found"})");
    REQUIRE(nf.has_value());
    CHECK(nf->err == rdsn_errc::ERR_OBJECT_NOT_FOUND);

    CHECK(parse_update_config(R"({"status":"ERR_OK"})").error() == bad_json);
    CHECK(parse_update_config(R"({"update_status":"fine"})").error() == bad_json);
}

// ---- remote commands ------------------------------------------------------------------------

TEST_CASE("perf counters: exact-name lookup never matches by prefix") {
    auto r = parse_perf_counters(
        R"({"result":"OK","timestamp":1700000000,"timestamp_str":"2023-11-14 22:13:20","counters":[)"
        R"({"name":"replica*eon.replica_stub*dup.pending_mutations_count","type":"VOLATILE_NUMBER","value":42},)"
        R"({"name":"replica*app.pegasus*dup_shipped_ops@1.0","type":"RATE","value":0.5},)"
        R"({"name":"replica*app.pegasus*dup_shipped_ops@1.1","type":"RATE","value":0},)"
        R"({"name":"replica*app.pegasus*dup_shipped_ops@12.3","type":"RATE","value":7},)"
        R"({"name":"replica*app.pegasus*dup_shipped_ops@10.0","type":"RATE","value":9},)"
        R"({"name":"replica*app.pegasus*dup_failed_shipping_ops@1.0","type":"RATE","value":3}]})");
    REQUIRE(r.has_value());
    CHECK(r->timestamp == 1700000000);
    REQUIRE(r->counters.size() == 6);
    const auto* pending = r->find_exact(pending_mutations_counter);
    REQUIRE(pending);
    CHECK(pending->value == 42);
    CHECK(pending->type == "VOLATILE_NUMBER");
    CHECK(r->find_exact("replica*app.pegasus*dup_shipped_ops@1") == nullptr);
    CHECK(r->find_exact("dup.pending_mutations_count") == nullptr);

    auto app1 = r->per_partition(shipped_ops_counter, 1);
    REQUIRE(app1.size() == 2);
    CHECK(app1.at(0) == 0.5);
    CHECK(app1.at(1) == 0);
    auto app12 = r->per_partition(shipped_ops_counter, 12);
    REQUIRE(app12.size() == 1);
    CHECK(app12.at(3) == 7);
    CHECK(r->per_partition(failed_shipping_ops_counter, 1).size() == 1);
    CHECK(r->per_partition("shipping_ops", 1).empty());
}

TEST_CASE("perf counters: empty list, malformed JSON, unknown command") {
    auto r =
        parse_perf_counters(R"({"result":"OK","timestamp":1,"timestamp_str":"x","counters":[]})");
    REQUIRE(r.has_value());
    CHECK(r->counters.empty());
    CHECK(parse_perf_counters(R"({"result":"OK","counters":[{"name":"x"}]})").error() == bad_json);
    CHECK(parse_perf_counters(R"({"result":"OK","counters":)").error() == bad_json);
    CHECK(parse_perf_counters("unknown command 'perf-counters-by-substr'").error() ==
          client_errc::unsupported_version);
    CHECK(parse_perf_counters(R"({"result":"ERROR: bad"})").error() ==
          client_errc::unexpected_reply);
}

TEST_CASE("server-info: 2.4 plain text") {
    auto r = parse_server_info(
        "Pegasus Server 2.4.0 (a1b2c3d4) Release, Started at 2023-01-02 03:04:05");
    REQUIRE(r.has_value());
    CHECK(r->version == "2.4.0");
    CHECK(r->git_sha == "a1b2c3d4");
    CHECK(r->build_type == "Release");
    CHECK(r->start_time == "2023-01-02 03:04:05");
    CHECK_FALSE(r->json_form);
    CHECK(generation_from_server_info(*r) == server_generation::v2_4);
}

TEST_CASE("server-info: master JSON") {
    auto r = parse_server_info(
        R"({"build_type":"Release","git_SHA":"deadbeef","start_time":"2026-01-01 00:00:00","version":"2.6.0-SNAPSHOT"})");
    REQUIRE(r.has_value());
    CHECK(r->version == "2.6.0-SNAPSHOT");
    CHECK(r->git_sha == "deadbeef");
    CHECK(r->json_form);
    CHECK(generation_from_server_info(*r) == server_generation::master);
    CHECK(parse_server_info("hello").error() == bad_json);
}

TEST_CASE("generation: from version strings") {
    CHECK(generation_from_version("2.4.0") == server_generation::v2_4);
    CHECK(generation_from_version("v2.5.0") == server_generation::v2_5);
    CHECK(generation_from_version("2.5.1-rc1") == server_generation::v2_5);
    CHECK(generation_from_version("2.6.0-SNAPSHOT") == server_generation::master);
    CHECK(generation_from_version("3.0.0") == server_generation::master);
    CHECK(generation_from_version("2.3.0") == server_generation::unknown);
    CHECK(generation_from_version("2.4x") == server_generation::unknown);
    CHECK(generation_from_version("2.45.0") == server_generation::master);
    CHECK(generation_from_version("") == server_generation::unknown);
    CHECK(generation_from_version("abc") == server_generation::unknown);
}

TEST_CASE("generation: from reply shapes") {
    CHECK(generation_from_evidence({}) == server_generation::unknown);
    generation_evidence e;
    e.hp_fields_seen = true;
    CHECK(generation_from_evidence(e) == server_generation::master);
    generation_evidence q;
    q.query_progress_known = true;
    CHECK(generation_from_evidence(q) == server_generation::master);
    CHECK(to_string(server_generation::v2_5) == "2.5");
}

TEST_CASE("query-progress: the documented example parses byte-exact") {
    auto r = parse_query_progress(query_progress_example);
    REQUIRE(r.has_value());
    CHECK(r->processed == 2);
    CHECK(r->not_found == 0);
    REQUIRE(r->entries.size() == 2);
    const auto& p = r->entries[0];
    CHECK(p.pid == partition_id{3, 0});
    CHECK(p.node == "rs1.example.com:34801");
    CHECK(p.role == replica_role::primary);
    CHECK_FALSE(p.not_found);
    CHECK(p.progress.max_prepared_decree == 2051);
    CHECK(p.progress.max_plog_decree == 2051);
    CHECK(p.progress.max_plog_decree_on_disk == 2051);
    CHECK(p.progress.max_plog_commit_on_disk == 2050);
    CHECK(p.progress.last_committed_decree == 2051);
    CHECK(p.progress.last_applied_decree == 2051);
    CHECK(p.progress.last_flushed_decree == 1900);
    CHECK(p.progress.last_durable_decree == 1800);
    CHECK(p.progress.max_gc_decree == 1500);
    REQUIRE(p.progress.duplications.size() == 1);
    const auto& d = p.progress.duplications[0];
    CHECK(d.dupid == 1718000000);
    CHECK(d.remote_cluster_name == "target_cluster");
    CHECK(d.remote_app_name == "usertable");
    CHECK(d.replica_confirmed_decree == 2051);
    CHECK(d.meta_persisted_decree == 2040);

    const auto& s = r->entries[1];
    CHECK(s.pid == partition_id{3, 1});
    CHECK(s.role == replica_role::secondary);
    CHECK(s.progress.last_committed_decree == 977);
    CHECK(s.progress.max_gc_decree == 700);
    CHECK(s.progress.duplications.empty());
}

TEST_CASE("query-progress: framing keeps multi-line results verbatim") {
    auto r = parse_replica_command_output(query_progress_example);
    REQUIRE(r.has_value());
    REQUIRE(r->entries.size() == 2);
    CHECK(r->entries[0].result.starts_with("{\n    \"max_prepared_decree\": 2051,\n"));
    CHECK(r->entries[1].result.ends_with("\"max_gc_decree\": 700\n}"));
}

TEST_CASE("query-progress: old field names confirmed_decree/persisted_decree are mapped") {
    constexpr std::string_view old = "1 processed, 0 not found\n"
                                     "    5.2@10.0.0.1:34801@P : {\n"
                                     "    \"max_prepared_decree\": 10,\n"
                                     "    \"max_plog_decree\": 10,\n"
                                     "    \"max_plog_commit_on_disk\": 9,\n"
                                     "    \"last_committed_decree\": 10,\n"
                                     "    \"last_applied_decree\": 10,\n"
                                     "    \"last_flushed_decree\": 5,\n"
                                     "    \"last_durable_decree\": 5,\n"
                                     "    \"max_gc_decree\": 1,\n"
                                     "    \"duplications\": [\n"
                                     "        {\n"
                                     "            \"dupid\": 1,\n"
                                     "            \"remote_cluster_name\": \"c\",\n"
                                     "            \"remote_app_name\": \"t\",\n"
                                     "            \"confirmed_decree\": 8,\n"
                                     "            \"persisted_decree\": 6\n"
                                     "        }\n"
                                     "    ]\n"
                                     "}";
    auto r = parse_query_progress(old);
    REQUIRE(r.has_value());
    REQUIRE(r->entries.size() == 1);
    const auto& p = r->entries[0].progress;
    CHECK(p.max_plog_decree_on_disk == -1); // absent in the oldest builds
    REQUIRE(p.duplications.size() == 1);
    CHECK(p.duplications[0].replica_confirmed_decree == 8);
    CHECK(p.duplications[0].meta_persisted_decree == 6);
}

TEST_CASE("query-progress: not found entries and the empty answer") {
    auto r = parse_query_progress("0 processed, 2 not found\n"
                                  "    3.0@rs1:34801 : not found\n"
                                  "    3.1@rs1:34801 : not found");
    REQUIRE(r.has_value());
    CHECK(r->not_found == 2);
    REQUIRE(r->entries.size() == 2);
    CHECK(r->entries[0].not_found);
    CHECK(r->entries[0].role == replica_role::none);
    CHECK(r->entries[1].pid == partition_id{3, 1});

    auto empty = parse_query_progress("0 processed, 0 not found");
    REQUIRE(empty.has_value());
    CHECK(empty->entries.empty());
}

TEST_CASE("query-progress: invalid arguments, unknown command, garbage") {
    CHECK(parse_query_progress("invalid arguments").error() == client_errc::invalid_argument);
    CHECK(parse_query_progress("unknown command 'replica.query-progress'").error() ==
          client_errc::unsupported_version);
    CHECK(parse_query_progress("").error() == bad_json);
    CHECK(parse_query_progress("2 processed").error() == bad_json);
    CHECK(parse_query_progress("1 processed, 0 not found\n    3.0@n@P : {\"x\": 1}").error() ==
          bad_json);
    CHECK(parse_query_progress("1 processed, 0 not found\n    3.0@n@P : {").error() == bad_json);
    CHECK(parse_query_progress("1 processed, 0 not found\n{").error() == bad_json);
    CHECK(parse_query_progress("1 processed, 0 not found\n    3.0 node : {}").error() == bad_json);
}

TEST_CASE("query-app-envs: v2.4 and master entries") {
    auto v24 = parse_query_app_envs("1 processed, 0 not found\n"
                                    "    3.0@10.0.0.1:34801@P : rocksdb.usage_scenario=normal");
    REQUIRE(v24.has_value());
    REQUIRE(v24->entries.size() == 1);
    CHECK(v24->entries[0].node == "10.0.0.1:34801");
    CHECK(v24->entries[0].envs.at("rocksdb.usage_scenario") == "normal");

    auto head = parse_query_app_envs(
        "2 processed, 0 not found\n"
        "    3.0@rs1.example.com:34801@P : "
        "rocksdb.num_levels=6,rocksdb.usage_scenario=normal,rocksdb.write_buffer_size=67108864\n"
        "    3.1@rs1.example.com:34801@S : "
        "rocksdb.num_levels=6,rocksdb.usage_scenario=normal,rocksdb.write_buffer_size=67108864");
    REQUIRE(head.has_value());
    REQUIRE(head->entries.size() == 2);
    CHECK(head->entries[1].role == replica_role::secondary);
    CHECK(head->entries[1].envs.size() == 3);
    CHECK(head->entries[1].envs.at("rocksdb.write_buffer_size") == "67108864");
    CHECK(parse_query_app_envs("invalid arguments").error() == client_errc::invalid_argument);
}

TEST_CASE("replica command args: whole table or comma-joined partitions") {
    CHECK(replica_command_args(3) == std::vector<std::string>{"3"});
    CHECK(replica_command_args(std::vector<partition_id>{{3, 0}, {3, 1}}) ==
          std::vector<std::string>{"3.0,3.1"});
}

TEST_CASE("disable-empty-write: query, set, errors, unknown command") {
    auto q = parse_disable_empty_write(
        "{\n  \"error\": \"ok\",\n  \"replica.disable-empty-write\": \"false\"\n}");
    REQUIRE(q.has_value());
    CHECK(q->ok());
    CHECK(q->disabled == false);
    auto set = parse_disable_empty_write("{\n  \"error\": \"ok\"\n}");
    REQUIRE(set.has_value());
    CHECK(set->ok());
    CHECK_FALSE(set->disabled);
    auto bad = parse_disable_empty_write(
        "{\n  \"error\": \"ERR: invalid arguments, 'x' is not a boolean\"\n}");
    REQUIRE(bad.has_value());
    CHECK_FALSE(bad->ok());
    CHECK(parse_disable_empty_write("unknown command 'replica.disable-empty-write'").error() ==
          client_errc::unsupported_version);
    CHECK(parse_disable_empty_write("{\"x\":1}").error() == bad_json);
}

TEST_CASE("parsers: every truncation of a valid reply is an error value, never a crash") {
    const std::string dup =
        R"({"1":{"3.0":{"duplicating":true,"not_confirmed_mutations_num":1,"not_duplicated_mutations_num":0,"fail_mode":"FAIL_SLOW"}}})";
    const std::string metrics =
        R"({"cluster":"c","entities":[{"type":"replica","id":"replica@2.0","attributes":{"table_id":"2"},"metrics":[{"name":"m","value":1}]}]})";
    const std::string counters =
        R"({"result":"OK","timestamp":1,"timestamp_str":"x","counters":[{"name":"a*b*c@1.0","type":"RATE","value":1}]})";
    const std::string text(query_progress_example);
    for (std::size_t n = 0; n < text.size(); ++n) {
        // Some prefixes end exactly between entries and are valid; none may throw.
        CHECK_NOTHROW((void)parse_query_progress(text.substr(0, n)));
        CHECK_NOTHROW((void)parse_query_app_envs(text.substr(0, n)));
    }
    for (std::size_t n = 0; n + 1 < dup.size(); ++n)
        CHECK_FALSE(parse_replica_duplication(dup.substr(0, n)).has_value());
    for (std::size_t n = 0; n + 1 < metrics.size(); ++n)
        CHECK_FALSE(parse_metrics(metrics.substr(0, n)).has_value());
    for (std::size_t n = 0; n + 1 < counters.size(); ++n)
        CHECK_FALSE(parse_perf_counters(counters.substr(0, n)).has_value());
    // Valid JSON of the wrong shape everywhere.
    for (const char* wrong : {"[]", "1", "\"s\"", "null", "{\"a\":[1,{}]}"}) {
        CHECK_FALSE(parse_data_version(wrong).has_value());
        CHECK_FALSE(parse_metrics(wrong).has_value());
        CHECK_FALSE(parse_version(wrong).has_value());
        CHECK_FALSE(parse_update_config(wrong).has_value());
        CHECK_FALSE(parse_perf_counters(wrong).has_value());
        CHECK_FALSE(parse_disable_empty_write(wrong).has_value());
        CHECK_FALSE(parse_replica_progress_json(wrong).has_value());
    }
}
