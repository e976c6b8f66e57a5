// Component tests: meta_client and replica_client against pegasus-sim (in-process, same
// io_context), per emulated server generation. They check that the clients and the simulator
// agree on the wire, independently of the hand-written fakes of the other client tests.
#include "harness.hpp"

#include "sim/simulation.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/meta/meta_client.hpp>
#include <tablemigrator/replica/replica_client.hpp>

using namespace tablemigrator;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

sim::sim_config config(sim::generation g) {
    auto cfg = sim::parse_config(R"({"clusters": [
        {"name": "src", "meta_servers": 2, "replica_servers": 3,
         "duplication_group": {"src": 1, "dst": 2}, "remote_clusters": {"dst": ""},
         "tables": [{"name": "t", "partition_count": 4, "replica_count": 3}],
         "timing": {"checkpoint_copy_ms": 100, "duplication_sync_period_ms": 200}},
        {"name": "dst", "replica_servers": 2, "duplication_group": {"src": 1, "dst": 2}}]})");
    REQUIRE(cfg.has_value());
    for (auto& c : cfg->clusters)
        c.gen = g;
    return *cfg;
}

meta::meta_client_options fast() {
    meta::meta_client_options o;
    o.call_timeout = 2s;
    o.overall_timeout = 5s;
    o.backoff_initial = 10ms;
    o.backoff_max = 100ms;
    return o;
}

replica::server_generation expected(sim::generation g) {
    switch (g) {
    case sim::generation::v2_4:
        return replica::server_generation::v2_4;
    case sim::generation::v2_5:
        return replica::server_generation::v2_5;
    case sim::generation::master:
        return replica::server_generation::master;
    }
    return replica::server_generation::unknown;
}

} // namespace

TEST_CASE("sim interop: meta_client reads cluster, nodes, tables and config on every generation") {
    for (auto g : {sim::generation::v2_4, sim::generation::v2_5, sim::generation::master}) {
        CAPTURE(sim::generation_name(g));
        tmtest::run_async([g](asio::io_context& io) -> asio::awaitable<void> {
            sim::simulation s(io, config(g));
            REQUIRE(s.start().has_value());
            auto& src = s.cluster("src");
            // The follower first: the client must find the leader itself.
            std::vector<rpc::endpoint> metas{{"127.0.0.1", src.metas.at(1).port},
                                             {"127.0.0.1", src.metas.at(0).port}};
            rpc::session_pool pool(io.get_executor());
            meta::meta_client client(pool, metas, fast());

            auto info_op = client.cluster_info();
            auto info = co_await std::move(info_op);
            REQUIRE(info.has_value());
            CHECK(info->at("cluster_name") == "src");
            CHECK(info->count("zookeeper_hosts") == 1);

            auto nodes_op = client.list_nodes(meta::node_status::invalid);
            auto nodes = co_await std::move(nodes_op);
            REQUIRE(nodes.has_value());
            CHECK(nodes->size() == 3);

            auto cfg_op = client.query_config(std::string("t"));
            auto cfg = co_await std::move(cfg_op);
            REQUIRE(cfg.has_value());
            CHECK(cfg->partition_count == 4);
            REQUIRE(cfg->partitions.size() == 4);
            for (const auto& p : cfg->partitions)
                CHECK(p.primary.has_value());
            CHECK(cfg->host_port_fields == (g == sim::generation::master));

            auto missing_op = client.query_config(std::string("nope"));
            auto missing = co_await std::move(missing_op);
            REQUIRE_FALSE(missing.has_value());
            CHECK(missing.error() == rdsn_errc::ERR_OBJECT_NOT_FOUND);

            auto set_op = client.set_app_envs(std::string("t"),
                                              {{"replica.deny_client_request", "timeout*write"}});
            auto set = co_await std::move(set_op);
            REQUIRE(set.has_value());
            auto apps_op = client.list_apps(meta::app_status::invalid);
            auto apps = co_await std::move(apps_op);
            REQUIRE(apps.has_value());
            REQUIRE(apps->size() == 1);
            CHECK(apps->at(0).envs.at("replica.deny_client_request") == "timeout*write");
            auto del_op = client.del_app_envs(std::string("t"), {"replica.deny_client_request"});
            REQUIRE((co_await std::move(del_op)).has_value());

            auto bad_op = client.set_app_envs(std::string("t"),
                                              {{"replica.deny_client_request", "sometimes*write"}});
            auto bad = co_await std::move(bad_op);
            REQUIRE_FALSE(bad.has_value());
            CHECK(bad.error() == rdsn_errc::ERR_INVALID_PARAMETERS);
            s.stop();
        });
    }
}

TEST_CASE("sim interop: a meta list naming only a follower still reaches the leader for every RPC") {
    for (auto g : {sim::generation::v2_4, sim::generation::master}) {
        CAPTURE(sim::generation_name(g));
        tmtest::run_async([g](asio::io_context& io) -> asio::awaitable<void> {
            sim::simulation s(io, config(g));
            REQUIRE(s.start().has_value());
            auto& src = s.cluster("src");
            std::vector<rpc::endpoint> metas{{"127.0.0.1", src.metas.at(1).port}}; // the follower
            rpc::session_pool pool(io.get_executor());
            meta::meta_client client(pool, metas, fast());
            auto info_op = client.cluster_info();
            auto info = co_await std::move(info_op);
            REQUIRE(info.has_value());
            CHECK(info->at("cluster_name") == "src");
            CHECK(client.leader().port == src.metas.at(0).port);
            auto apps_op = client.list_apps(meta::app_status::invalid);
            auto apps = co_await std::move(apps_op);
            REQUIRE(apps.has_value());
            CHECK(apps->size() == 1);
            s.stop();
        });
    }
}

TEST_CASE("sim interop: duplication add, query and removal") {
    for (auto g : {sim::generation::v2_4, sim::generation::master}) {
        CAPTURE(sim::generation_name(g));
        tmtest::run_async([g](asio::io_context& io) -> asio::awaitable<void> {
            sim::simulation s(io, config(g));
            REQUIRE(s.start().has_value());
            auto& src = s.cluster("src");
            rpc::session_pool pool(io.get_executor());
            meta::meta_client client(pool, {{"127.0.0.1", src.metas.at(0).port}}, fast());
            meta::add_duplication_request req;
            req.app_name = "t";
            req.remote_cluster = "dst";
            auto add_op = client.add_duplication(req);
            auto added = co_await std::move(add_op);
            REQUIRE(added.has_value());
            CHECK(added->dupid > 0);
            auto q_op = client.query_duplication(std::string("t"));
            auto q = co_await std::move(q_op);
            REQUIRE(q.has_value());
            REQUIRE(q->entries.size() == 1);
            CHECK(q->entries[0].dupid == added->dupid);
            CHECK(q->entries[0].remote == "dst");
            auto rm_op = client.modify_duplication(std::string("t"), added->dupid,
                                                   meta::duplication_status::removed, std::nullopt);
            auto rm = co_await std::move(rm_op);
            CHECK(rm.has_value());
            s.stop();
        });
    }
}

TEST_CASE("sim interop: replica_client detects the generation and reads data_version") {
    for (auto g : {sim::generation::v2_4, sim::generation::v2_5, sim::generation::master}) {
        CAPTURE(sim::generation_name(g));
        tmtest::run_async([g](asio::io_context& io) -> asio::awaitable<void> {
            sim::simulation s(io, config(g));
            REQUIRE(s.start().has_value());
            auto& src = s.cluster("src");
            rpc::session_pool pool(io.get_executor());
            meta::meta_client meta(pool, {{"127.0.0.1", src.metas.at(0).port}}, fast());
            auto cfg_op = meta.query_config(std::string("t"));
            auto cfg = co_await std::move(cfg_op);
            REQUIRE(cfg.has_value());
            for (const auto& node : src.nodes) {
                replica::replica_client client(io.get_executor(), pool, {"127.0.0.1", node.port});
                auto gen_op = client.detect_generation();
                auto gen = co_await std::move(gen_op);
                REQUIRE(gen.has_value());
                CHECK(*gen == expected(g));
                auto dv_op = client.data_version(cfg->app_id);
                auto dv = co_await std::move(dv_op);
                REQUIRE(dv.has_value());
                CHECK_FALSE(dv->empty());
                for (const auto& [pidx, v] : *dv)
                    CHECK(v == "1");
                auto progress_op = client.query_progress(cfg->app_id);
                auto progress = co_await std::move(progress_op);
                if (g == sim::generation::master) {
                    REQUIRE(progress.has_value());
                    CHECK(progress->entries.size() == dv->size());
                } else {
                    REQUIRE_FALSE(progress.has_value());
                    CHECK(progress.error() == client_errc::unsupported_version);
                }
            }
            s.stop();
        });
    }
}
