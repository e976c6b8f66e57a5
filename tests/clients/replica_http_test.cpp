// Component tests of replica_client's HTTP methods against the loopback fake HTTP responder.
#include "fake_http.hpp"
#include "harness.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/replica/replica_client.hpp>

using namespace tablemigrator;
using namespace tablemigrator::replica;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

tmtest::fake_http_reply replica_routes(const std::string& target) {
    if (target == "/replica/data_version?app_id=3")
        return {200, R"({"0":{"data_version":"1"},"2":{"data_version":"1"}})"};
    if (target == "/replica/data_version?app_id=4")
        return {404, "app_id=4 not found"};
    if (target == "/replica/data_version?app_id=5")
        return {500, "internal error"};
    if (target == "/replica/data_version?app_id=6")
        return {200, R"({"0":{"data_version":)"};
    if (target == "/replica/duplication?appid=3")
        return {200, R"({"1700000000":{"3.0":{"duplicating":true,"not_confirmed_mutations_num":1,)"
                     R"("not_duplicated_mutations_num":0,"fail_mode":"FAIL_SLOW"}}})"};
    if (target == "/version")
        return {200, R"({"Version":"2.5.0","GitCommit":"0123abc"})"};
    if (target.starts_with(
            "/metrics?with_metric_fields=name,value&types=replica&attributes=table_id,3"))
        return {200,
                R"({"cluster":"c","role":"replica","host":"h","port":1,"timestamp_ns":5,)"
                R"("entities":[{"type":"replica","id":"replica@3.0","attributes":{"table_id":"3"},)"
                R"("metrics":[{"name":"dup_pending_mutations","value":7}]}]})"};
    if (target == "/updateConfig?empty_write_disabled=true")
        return {200, "{\"update_status\":\"ERR_OK\"}\n"};
    if (target == "/updateConfig?group_check_interval_ms=1")
        return {
            200,
            R"({"update_status":"ERR_INVALID_PARAMETERS: group_check_interval_ms is not mutable"})"};
    if (target == "/config?name=empty_write_disabled")
        return {200, R"({"name":"empty_write_disabled","section":"replication","value":"true"})"};
    return {404, "service not found for \"" + target + "\""};
}

} // namespace

TEST_CASE("replica_client: data_version parses the per-partition versions") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, replica_routes);
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, {"127.0.0.1", server.port()});
        auto r = co_await client.data_version(3);
        REQUIRE(r.has_value());
        CHECK(r->size() == 2);
        CHECK(r->at(2) == "1");
    });
}

TEST_CASE("replica_client: 404 is http_not_found with the body readable, 500 is http_error") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, replica_routes);
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, {"127.0.0.1", server.port()});
        auto nf = co_await client.data_version(4);
        REQUIRE_FALSE(nf.has_value());
        CHECK(nf.error() == client_errc::http_not_found);
        REQUIRE(client.last_http_failure().has_value());
        CHECK(client.last_http_failure()->status == 404);
        CHECK(client.last_http_failure()->body == "app_id=4 not found");
        auto err = co_await client.data_version(5);
        REQUIRE_FALSE(err.has_value());
        CHECK(err.error() == client_errc::http_error);
        CHECK(client.last_http_failure()->status == 500);
    });
}

TEST_CASE("replica_client: a malformed JSON body is bad_json") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, replica_routes);
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, {"127.0.0.1", server.port()});
        auto r = co_await client.data_version(6);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::bad_json);
    });
}

TEST_CASE("replica_client: duplication, version, metrics and config over one connection") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, replica_routes);
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, {"127.0.0.1", server.port()});
        auto dup = co_await client.duplication(3);
        REQUIRE(dup.has_value());
        CHECK(dup->at(1700000000).at(partition_id{3, 0}).not_confirmed_mutations_num == 1);
        auto ver = co_await client.version();
        REQUIRE(ver.has_value());
        CHECK(ver->version == "2.5.0");
        auto m = co_await client.metrics(table_dup_metrics_query(3));
        REQUIRE(m.has_value());
        REQUIRE(m->entities.size() == 1);
        CHECK(m->entities[0].metrics.at("dup_pending_mutations") == 7);
        auto cfg_op = client.config("empty_write_disabled");
        auto cfg = co_await std::move(cfg_op);
        REQUIRE(cfg.has_value());
        CHECK(cfg->value == "true");
        CHECK(server.connections_accepted() == 1);
    });
}

TEST_CASE("replica_client: updateConfig success and a not-mutable flag") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_http_server server(io, replica_routes);
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, {"127.0.0.1", server.port()});
        auto ok_op = client.update_config("empty_write_disabled", "true");
        auto ok = co_await std::move(ok_op);
        CHECK(ok.has_value());
        auto refused_op = client.update_config("group_check_interval_ms", "1");
        auto refused = co_await std::move(refused_op);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == rdsn_errc::ERR_INVALID_PARAMETERS);
    });
}
