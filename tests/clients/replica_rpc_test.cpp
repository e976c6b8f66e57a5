// Component tests of replica_client's remote commands, decree RPCs and generation detection
// against a loopback fake replica server (THFT and HTTP on one port, sniffed like rDSN does).
#include "fake_server.hpp"
#include "harness.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/replica/replica_client.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

using namespace tablemigrator;
using namespace tablemigrator::replica;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr std::string_view progress_text = "1 processed, 0 not found\n"
                                           "    3.0@127.0.0.1:34801@P : {\n"
                                           "    \"max_prepared_decree\": 12,\n"
                                           "    \"last_committed_decree\": 12,\n"
                                           "    \"duplications\": [\n"
                                           "        {\n"
                                           "            \"dupid\": 5,\n"
                                           "            \"remote_cluster_name\": \"t\",\n"
                                           "            \"remote_app_name\": \"a\",\n"
                                           "            \"replica_confirmed_decree\": 11,\n"
                                           "            \"meta_persisted_decree\": 10\n"
                                           "        }\n"
                                           "    ]\n"
                                           "}";

// A scripted replica server: remote command replies by command name, plus the decree RPCs.
struct scripted_replica {
    std::map<std::string, std::string> commands; // cmd -> reply text
    std::vector<idl::command> seen;              // every command received
    std::string version_body = R"({"Version":"2.5.0","GitCommit":"abc"})";

    std::optional<wire::bytes> operator()(const wire::request_frame& f) {
        const std::string ack = f.name + "_ACK";
        if (f.name == "RPC_CLI_CLI_CALL") {
            auto cmd = wire::decode_call_args<idl::command>(f);
            if (!cmd)
                return std::nullopt;
            seen.push_back(*cmd);
            auto it = commands.find(cmd->cmd);
            const std::string text =
                it != commands.end() ? it->second : "unknown command '" + cmd->cmd + "'";
            return wire::encode_string_reply(ack, f.seqid, text);
        }
        if (f.name == "RPC_QUERY_PN_DECREE") {
            auto req = wire::decode_call_args<idl::query_replica_decree_request>(f);
            idl::query_replica_decree_response r;
            if (!req || req->pid != idl::gpid(3, 1)) {
                r.__set_err(idl::rdsn_error(std::string("ERR_OBJECT_NOT_FOUND")));
            } else {
                r.__set_last_decree(4242);
            }
            return wire::encode_reply(ack, f.seqid, r);
        }
        if (f.name == "RPC_QUERY_REPLICA_INFO") {
            idl::query_replica_info_response r;
            idl::replica_info a;
            a.__set_pid(idl::gpid(3, 0));
            a.__set_ballot(2);
            a.__set_status(2);
            a.__set_last_committed_decree(99);
            a.__set_last_prepared_decree(100);
            a.__set_last_durable_decree(50);
            a.__set_app_type("pegasus");
            a.__set_disk_tag("ssd1");
            r.__set_replicas({a});
            return wire::encode_reply(ack, f.seqid, r);
        }
        return wire::encode_error_response("ERR_HANDLER_NOT_FOUND", ack, f.seqid);
    }
};

tmtest::fake_http_reply version_route(const std::string& body, const std::string& target) {
    if (target == "/version")
        return {200, body};
    return {404, "not found"};
}

} // namespace

TEST_CASE("replica_client: perf-counters-by-substr sends the substrings and parses the counters") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script;
        script.commands["perf-counters-by-substr"] =
            R"({"result":"OK","timestamp":1,"timestamp_str":"x","counters":[)"
            R"({"name":"replica*app.pegasus*dup_shipped_ops@1.0","type":"RATE","value":2},)"
            R"({"name":"replica*app.pegasus*dup_shipped_ops@12.3","type":"RATE","value":9}]})";
        tmtest::fake_server server(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto r_op = client.perf_counters_by_substr({"dup_shipped_ops@1."});
        auto r = co_await std::move(r_op);
        REQUIRE(r.has_value());
        CHECK(r->per_partition(shipped_ops_counter, 1).size() == 1);
        REQUIRE(script.seen.size() == 1);
        CHECK(script.seen[0].cmd == "perf-counters-by-substr");
        CHECK(script.seen[0].arguments == std::vector<std::string>{"dup_shipped_ops@1."});
    });
}

TEST_CASE("replica_client: query-progress for a table and for partitions") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script;
        script.commands["replica.query-progress"] = std::string(progress_text);
        tmtest::fake_server server(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto r = co_await client.query_progress(3);
        REQUIRE(r.has_value());
        REQUIRE(r->entries.size() == 1);
        CHECK(r->entries[0].progress.duplications.at(0).replica_confirmed_decree == 11);
        auto p_op = client.query_progress(std::vector<partition_id>{{3, 0}, {3, 2}});
        auto p = co_await std::move(p_op);
        REQUIRE(p.has_value());
        REQUIRE(script.seen.size() == 2);
        CHECK(script.seen[0].arguments == std::vector<std::string>{"3"});
        CHECK(script.seen[1].arguments == std::vector<std::string>{"3.0,3.2"});
        // An empty list would ask for every replica on the node: refused before sending.
        auto none_op = client.query_progress(std::vector<partition_id>{});
        auto none = co_await std::move(none_op);
        REQUIRE_FALSE(none.has_value());
        CHECK(none.error() == client_errc::invalid_argument);
        CHECK(script.seen.size() == 2);
    });
}

TEST_CASE("replica_client: commands a 2.4 server lacks are unsupported_version") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script; // knows no command at all
        tmtest::fake_server server(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto p = co_await client.query_progress(3);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error() == client_errc::unsupported_version);
        auto d_op = client.disable_empty_write(std::nullopt);
        auto d = co_await std::move(d_op);
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error() == client_errc::unsupported_version);
    });
}

TEST_CASE("replica_client: disable-empty-write query, set and refusal") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script;
        script.commands["replica.disable-empty-write"] =
            "{\n  \"error\": \"ok\",\n  \"replica.disable-empty-write\": \"false\"\n}";
        tmtest::fake_server server(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto q_op = client.disable_empty_write(std::nullopt);
        auto q = co_await std::move(q_op);
        REQUIRE(q.has_value());
        CHECK(q->disabled == false);
        auto set = co_await client.disable_empty_write(true);
        REQUIRE(set.has_value());
        CHECK(script.seen.at(0).arguments.empty());
        CHECK(script.seen.at(1).arguments == std::vector<std::string>{"true"});
        script.commands["replica.disable-empty-write"] =
            "{\n  \"error\": \"ERR: invalid arguments, 'x' is not a boolean\"\n}";
        auto bad = co_await client.disable_empty_write(false);
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error() == client_errc::invalid_argument);
    });
}

TEST_CASE("replica_client: query-app-envs entries") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script;
        script.commands["replica.query-app-envs"] =
            "1 processed, 1 not found\n    3.0@127.0.0.1:34801@P : rocksdb.usage_scenario=normal\n"
            "    3.1@127.0.0.1:34801 : not found";
        tmtest::fake_server server(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto r_op = client.query_app_envs(std::vector<partition_id>{{3, 0}, {3, 1}});
        auto r = co_await std::move(r_op);
        REQUIRE(r.has_value());
        REQUIRE(r->entries.size() == 2);
        CHECK(r->entries[0].envs.at("rocksdb.usage_scenario") == "normal");
        CHECK(r->entries[1].not_found);
    });
}

TEST_CASE("replica_client: decree RPCs") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script;
        tmtest::fake_server server(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto d_op = client.query_pn_decree({3, 1});
        auto d = co_await std::move(d_op);
        REQUIRE(d.has_value());
        CHECK(*d == 4242);
        auto missing_op = client.query_pn_decree({3, 7});
        auto missing = co_await std::move(missing_op);
        REQUIRE_FALSE(missing.has_value());
        CHECK(missing.error() == rdsn_errc::ERR_OBJECT_NOT_FOUND);
        auto info = co_await client.query_replica_info();
        REQUIRE(info.has_value());
        REQUIRE(info->size() == 1);
        CHECK(info->at(0).pid == partition_id{3, 0});
        CHECK(info->at(0).last_committed_decree == 99);
        CHECK(info->at(0).disk_tag == "ssd1");
    });
}

TEST_CASE("replica_client: a remote command without a reply times out") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server silent(
            io, [](const wire::request_frame&) { return std::optional<wire::bytes>{}; });
        rpc::session_pool pool(io.get_executor());
        replica_client_options opts;
        opts.rpc_timeout = 200ms;
        replica_client client(io.get_executor(), pool, silent.endpoint(), opts);
        auto r = co_await client.server_info();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::timeout);
    });
}

TEST_CASE("replica_client: generation from server-info text (2.4) and JSON (master)") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica v24;
        v24.commands["server-info"] =
            "Pegasus Server 2.4.0 (abcdef0) Release, Started at 2023-01-01 00:00:00";
        scripted_replica master;
        master.commands["server-info"] =
            R"({"version":"2.6.0-SNAPSHOT","build_type":"Release","git_SHA":"x","start_time":"y"})";
        tmtest::fake_server a(io, std::ref(v24));
        tmtest::fake_server b(io, std::ref(master));
        rpc::session_pool pool(io.get_executor());
        replica_client ca(io.get_executor(), pool, a.endpoint());
        replica_client cb(io.get_executor(), pool, b.endpoint());
        auto ga = co_await ca.detect_generation();
        REQUIRE(ga.has_value());
        CHECK(*ga == server_generation::v2_4);
        auto gb = co_await cb.detect_generation();
        REQUIRE(gb.has_value());
        CHECK(*gb == server_generation::master);
    });
}

TEST_CASE("replica_client: generation falls back to GET /version on the same port") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_replica script;
        script.commands["server-info"] = "something unexpected";
        tmtest::fake_server server(io, std::ref(script), [](const std::string& target) {
            return version_route(R"({"Version":"2.5.0","GitCommit":"abc"})", target);
        });
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, server.endpoint());
        auto g = co_await client.detect_generation();
        REQUIRE(g.has_value());
        CHECK(*g == server_generation::v2_5);
    });
}

TEST_CASE("replica_client: generation detection on a dead server returns the error") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        rpc::session_pool pool(io.get_executor());
        replica_client_options opts;
        opts.rpc_timeout = 1s;
        opts.http_timeout = 1s;
        replica_client client(io.get_executor(), pool, {"127.0.0.1", tmtest::unused_port(io)},
                              opts);
        auto g = co_await client.detect_generation();
        REQUIRE_FALSE(g.has_value());
        CHECK(is_retryable(g.error()));
    });
}

TEST_CASE("replica_client: cancelling an in-flight remote command completes it with cancelled") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server silent(
            io, [](const wire::request_frame&) { return std::optional<wire::bytes>{}; });
        rpc::session_pool pool(io.get_executor());
        replica_client client(io.get_executor(), pool, silent.endpoint());
        asio::cancellation_signal signal;
        std::optional<result<query_progress_output>> got;
        auto op = client.query_progress(3);
        asio::co_spawn(
            io, std::move(op),
            asio::bind_cancellation_slot(
                signal.slot(), [&](std::exception_ptr e, result<query_progress_output> r) {
                    if (e)
                        std::rethrow_exception(e);
                    got = std::move(r);
                }));
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex);
        while (silent.requests() == 0) {
            t.expires_after(5ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        signal.emit(asio::cancellation_type::terminal);
        while (!got) {
            t.expires_after(5ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        REQUIRE_FALSE(got->has_value());
        CHECK(got->error() == client_errc::cancelled);
    });
}
