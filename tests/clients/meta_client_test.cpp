// Component tests of meta::meta_client against loopback fake meta servers (wire server half).
#include "fake_server.hpp"
#include "harness.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/meta/meta_client.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

using namespace tablemigrator;
using namespace tablemigrator::meta;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr const char* query_cfg = "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX";
constexpr const char* cluster_info_rpc = "RPC_CM_CLUSTER_INFO";

template <class Resp>
wire::bytes reply(const wire::request_frame& f, const Resp& r) {
    return wire::encode_reply(f.name + "_ACK", f.seqid, r);
}

idl::rdsn_error err(const char* name) {
    return idl::rdsn_error(std::string(name));
}

// Answers every RPC with the given error in the response struct's err field.
std::optional<wire::bytes> answer_with(const wire::request_frame& f, const char* error) {
    if (f.name == query_cfg) {
        idl::query_cfg_response r;
        r.__set_err(err(error));
        return reply(f, r);
    }
    if (f.name == cluster_info_rpc) {
        idl::configuration_cluster_info_response r;
        r.__set_err(err(error));
        return reply(f, r);
    }
    return wire::encode_error_response("ERR_HANDLER_NOT_FOUND", f.name + "_ACK", f.seqid);
}

// A leader's answers.
std::optional<wire::bytes> leader(const wire::request_frame& f) {
    if (f.name == query_cfg) {
        auto req = wire::decode_call_args<idl::query_cfg_request>(f);
        idl::query_cfg_response r;
        if (!req || req->app_name != "usertable") {
            r.__set_err(err("ERR_OBJECT_NOT_FOUND"));
            return reply(f, r);
        }
        r.__set_app_id(3);
        r.__set_partition_count(2);
        r.__set_is_stateful(true);
        std::vector<idl::partition_configuration> parts;
        for (int i = 0; i < 2; ++i) {
            idl::partition_configuration p;
            p.__set_pid(idl::gpid(3, i));
            p.__set_ballot(7 + i);
            p.__set_max_replica_count(3);
            p.__set_primary(
                idl::rpc_address::from_ipv4(10, 0, 0, static_cast<std::uint8_t>(1 + i), 34801));
            p.__set_secondaries({idl::rpc_address::from_ipv4(10, 0, 0, 9, 34801)});
            p.__set_last_committed_decree(100 + i);
            parts.push_back(p);
        }
        r.__set_partitions(parts);
        return reply(f, r);
    }
    if (f.name == cluster_info_rpc) {
        idl::configuration_cluster_info_response r;
        r.__set_keys({"meta_servers", "cluster_name", "zookeeper_hosts"});
        r.__set_values({"127.0.0.1:1", "onebox", "127.0.0.1:2181"});
        return reply(f, r);
    }
    return wire::encode_error_response("ERR_HANDLER_NOT_FOUND", f.name + "_ACK", f.seqid);
}

std::optional<wire::bytes> follower(const wire::request_frame& f) {
    return answer_with(f, "ERR_FORWARD_TO_OTHERS");
}

// A follower whose query-config replies name `hint` as the leader (§2.0).
auto follower_with_hint(rpc::endpoint hint) {
    return [hint](const wire::request_frame& f) -> std::optional<wire::bytes> {
        if (f.name != query_cfg)
            return follower(f);
        idl::query_cfg_response r;
        r.__set_err(err("ERR_FORWARD_TO_OTHERS"));
        idl::partition_configuration p;
        auto addr = idl::rpc_address::parse(hint.host + ":" + std::to_string(hint.port));
        p.__set_primary(*addr);
        r.__set_partitions({p});
        return reply(f, r);
    };
}

meta_client_options fast_options() {
    meta_client_options o;
    o.call_timeout = 2s;
    o.overall_timeout = 5s;
    o.backoff_initial = 10ms;
    o.backoff_max = 50ms;
    return o;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace

TEST_CASE("meta_client: query_config maps partitions, addresses and the app id") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server m(io, leader);
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        auto r_op = client.query_config("usertable");
        auto r = co_await std::move(r_op);
        REQUIRE(r.has_value());
        CHECK(r->app_id == 3);
        CHECK(r->partition_count == 2);
        CHECK(r->is_stateful);
        REQUIRE(r->partitions.size() == 2);
        CHECK(r->partitions[1].partition_index == 1);
        CHECK(r->partitions[1].ballot == 8);
        REQUIRE(r->partitions[1].primary.has_value());
        CHECK(r->partitions[1].primary->to_string() == "10.0.0.2:34801");
        REQUIRE(r->partitions[1].secondaries.size() == 1);
        CHECK(r->partitions[1].secondaries[0].to_string() == "10.0.0.9:34801");
        CHECK(r->partitions[0].last_committed_decree == 100);
        CHECK_FALSE(r->host_port_fields);
    });
}

TEST_CASE("meta_client: an app-level error is returned at once, not retried") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server a(io, leader);
        tmtest::fake_server b(io, leader);
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint(), b.endpoint()}, fast_options());
        auto r_op = client.query_config("no_such_table");
        auto r = co_await std::move(r_op);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == rdsn_errc::ERR_OBJECT_NOT_FOUND);
        CHECK(a.requests() == 1);
        CHECK(b.requests() == 0);
    });
}

TEST_CASE(
    "meta_client: ERR_FORWARD_TO_OTHERS without a hint tries the next meta and remembers it") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server a(io, follower);
        tmtest::fake_server b(io, leader);
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint(), b.endpoint()}, fast_options());
        auto info = co_await client.cluster_info();
        REQUIRE(info.has_value());
        CHECK(info->at("cluster_name") == "onebox");
        CHECK(info->at("zookeeper_hosts") == "127.0.0.1:2181");
        CHECK(client.leader() == b.endpoint());
        // The next call goes straight to the remembered leader.
        auto again1_op = client.cluster_info();
        auto again1 = co_await std::move(again1_op);
        REQUIRE(again1.has_value());
        CHECK(a.requests() == 1);
        CHECK(b.requests() == 2);
    });
}

TEST_CASE("meta_client: the query-config forward hint is dialled even when not configured") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server c(io, leader); // the real leader, not in the configured list
        tmtest::fake_server a(io, follower_with_hint(c.endpoint()));
        tmtest::fake_server b(io, follower);
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint(), b.endpoint()}, fast_options());
        auto r_op = client.query_config("usertable");
        auto r = co_await std::move(r_op);
        REQUIRE(r.has_value());
        CHECK(r->app_id == 3);
        CHECK(client.leader() == c.endpoint());
        CHECK(b.requests() == 0); // the hint was followed before the rest of the list
        CHECK(std::count(client.metas().begin(), client.metas().end(), c.endpoint()) == 1);
    });
}

TEST_CASE("meta_client: a leader that moves between calls is found again") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        bool a_leads = true;
        tmtest::fake_server a(
            io, [&](const wire::request_frame& f) { return a_leads ? leader(f) : follower(f); });
        tmtest::fake_server b(
            io, [&](const wire::request_frame& f) { return a_leads ? follower(f) : leader(f); });
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint(), b.endpoint()}, fast_options());
        auto again2_op = client.cluster_info();
        auto again2 = co_await std::move(again2_op);
        REQUIRE(again2.has_value());
        CHECK(client.leader() == a.endpoint());
        a_leads = false;
        auto again3_op = client.cluster_info();
        auto again3 = co_await std::move(again3_op);
        REQUIRE(again3.has_value());
        CHECK(client.leader() == b.endpoint());
        a_leads = true;
        auto again4_op = client.cluster_info();
        auto again4 = co_await std::move(again4_op);
        REQUIRE(again4.has_value());
        CHECK(client.leader() == a.endpoint());
        CHECK(a.requests() == 3);
        CHECK(b.requests() == 2);
    });
}

TEST_CASE("meta_client: a first meta that is down is skipped") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        const rpc::endpoint dead{"127.0.0.1", tmtest::unused_port(io)};
        tmtest::fake_server b(io, leader);
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {dead, b.endpoint()}, fast_options());
        auto r_op = client.query_config("usertable");
        auto r = co_await std::move(r_op);
        REQUIRE(r.has_value());
        CHECK(client.leader() == b.endpoint());
    });
}

TEST_CASE("meta_client: retryable errors are retried with backoff until success") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        int calls = 0;
        tmtest::fake_server a(io, [&](const wire::request_frame& f) {
            ++calls;
            if (calls == 1)
                return answer_with(f, "ERR_SERVICE_NOT_ACTIVE");
            if (calls == 2)
                return answer_with(f, "ERR_UNDER_RECOVERY");
            if (calls == 3)
                return answer_with(f, "ERR_BUSY");
            return leader(f);
        });
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint()}, fast_options());
        auto r = co_await client.cluster_info();
        REQUIRE(r.has_value());
        CHECK(calls == 4);
    });
}

TEST_CASE("meta_client: a persistent retryable error is returned at the overall deadline") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server a(
            io, [](const wire::request_frame& f) { return answer_with(f, "ERR_BUSY"); });
        rpc::session_pool pool(io.get_executor());
        auto opts = fast_options();
        opts.overall_timeout = 300ms;
        meta_client client(pool, {a.endpoint()}, opts);
        auto r = co_await client.cluster_info();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == rdsn_errc::ERR_BUSY);
        CHECK(a.requests() >= 2);
    });
}

TEST_CASE("meta_client: only followers answering gives no_leader at the deadline") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server a(io, follower);
        tmtest::fake_server b(io, follower);
        rpc::session_pool pool(io.get_executor());
        auto opts = fast_options();
        opts.overall_timeout = 300ms;
        meta_client client(pool, {a.endpoint(), b.endpoint()}, opts);
        auto r = co_await client.cluster_info();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::no_leader);
    });
}

TEST_CASE("meta_client: a list of followers only finds the leader through a query-config hint for any RPC") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server leader_meta(io, leader); // not configured: only the hint names it
        tmtest::fake_server a(io, follower_with_hint(leader_meta.endpoint()));
        tmtest::fake_server b(io, follower_with_hint(leader_meta.endpoint()));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint(), b.endpoint()}, fast_options());
        auto op = client.cluster_info();
        auto r = co_await std::move(op);
        REQUIRE(r.has_value());
        CHECK(r->at("cluster_name") == "onebox");
        CHECK(client.leader() == leader_meta.endpoint());
        // Remembered: the next call goes to the leader first.
        const auto before = a.requests() + b.requests();
        auto again_op = client.cluster_info();
        auto again = co_await std::move(again_op);
        REQUIRE(again.has_value());
        CHECK(a.requests() + b.requests() == before);
    });
}

TEST_CASE("meta_client: a meta that never answers times out per call and the next one is asked") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server silent(
            io, [](const wire::request_frame&) { return std::optional<wire::bytes>{}; });
        tmtest::fake_server b(io, leader);
        rpc::session_pool pool(io.get_executor());
        auto opts = fast_options();
        opts.call_timeout = 200ms;
        meta_client client(pool, {silent.endpoint(), b.endpoint()}, opts);
        auto r = co_await client.cluster_info();
        REQUIRE(r.has_value());
        CHECK(silent.requests() == 1);
        CHECK(client.leader() == b.endpoint());
    });
}

TEST_CASE("meta_client: unknown error names are preserved and not retried") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server a(
            io, [](const wire::request_frame& f) { return answer_with(f, "ERR_BRAND_NEW_THING"); });
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint()}, fast_options());
        auto r = co_await client.cluster_info();
        REQUIRE_FALSE(r.has_value());
        CHECK(rdsn_error_name(r.error()) == "ERR_BRAND_NEW_THING");
        CHECK(a.requests() == 1);
    });
}

TEST_CASE("meta_client: a frame-level ERR_HANDLER_NOT_FOUND is returned at once") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server a(io, leader);
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {a.endpoint()}, fast_options());
        auto r = co_await client.list_nodes();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == rdsn_errc::ERR_HANDLER_NOT_FOUND);
        CHECK(a.requests() == 1);
    });
}

TEST_CASE("meta_client: cancelling an in-flight call completes it with cancelled") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        tmtest::fake_server silent(
            io, [](const wire::request_frame&) { return std::optional<wire::bytes>{}; });
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {silent.endpoint()}, fast_options());
        asio::cancellation_signal signal;
        std::optional<result<std::map<std::string, std::string>>> got;
        asio::co_spawn(io, client.cluster_info(),
                       asio::bind_cancellation_slot(
                           signal.slot(),
                           [&](std::exception_ptr e, result<std::map<std::string, std::string>> r) {
                               if (e)
                                   std::rethrow_exception(e);
                               got = std::move(r);
                           }));
        while (silent.requests() == 0)
            co_await sleep_for(5ms);
        signal.emit(asio::cancellation_type::terminal);
        while (!got)
            co_await sleep_for(5ms);
        REQUIRE_FALSE(got->has_value());
        CHECK(got->error() == client_errc::cancelled);
    });
}

// ---- request encoding and reply mapping of the other RPCs ---------------------------------------

namespace {

// A master-generation leader for the table/duplication RPCs; records decoded requests.
struct scripted_meta {
    std::vector<idl::configuration_update_app_env_request> env_updates;
    std::vector<idl::duplication_add_request> adds;
    std::vector<idl::duplication_modify_request> modifies;
    std::vector<wire::request_frame> add_frames;

    std::optional<wire::bytes> operator()(const wire::request_frame& f) {
        if (f.name == "RPC_CM_LIST_NODES") {
            idl::configuration_list_nodes_response r;
            idl::node_info a;
            a.__set_status(1);
            a.__set_node(idl::rpc_address::from_ipv4(10, 0, 0, 1, 34801));
            a.__set_hp_node(idl::host_port("rs1.example.com", 34801));
            idl::node_info b;
            b.__set_status(2);
            b.__set_node(idl::rpc_address::from_ipv4(10, 0, 0, 2, 34801));
            r.__set_infos({a, b});
            return reply(f, r);
        }
        if (f.name == "RPC_CM_LIST_APPS") {
            idl::configuration_list_apps_response r;
            idl::app_info a;
            a.__set_status(1);
            a.__set_app_type("pegasus");
            a.__set_app_name("usertable");
            a.__set_app_id(3);
            a.__set_partition_count(8);
            a.__set_envs({{"replica.deny_client_request", "timeout*write"}});
            a.__set_max_replica_count(3);
            a.__set_duplicating(true);
            r.__set_infos({a});
            return reply(f, r);
        }
        if (f.name == "RPC_CM_UPDATE_APP_ENV") {
            env_updates.push_back(
                *wire::decode_call_args<idl::configuration_update_app_env_request>(f));
            idl::configuration_update_app_env_response r;
            if (env_updates.back().app_name != "usertable") {
                r.__set_err(err("ERR_APP_NOT_EXIST"));
                r.__set_hint_message("app cannot be found");
            } else if (env_updates.back().op == 2) {
                r.__set_hint_message("deleted keys:\n    replica.deny_client_request");
            }
            return reply(f, r);
        }
        if (f.name == "RPC_CM_ADD_DUPLICATION") {
            add_frames.push_back(f);
            adds.push_back(*wire::decode_call_args<idl::duplication_add_request>(f));
            idl::duplication_add_response r;
            if (adds.size() > 1) {
                r.__set_err(err("ERR_DUP_EXIST"));
            }
            r.__set_appid(3);
            r.__set_dupid(1700000000);
            r.__set_remote_app_name("usertable_copy");
            return reply(f, r);
        }
        if (f.name == "RPC_CM_QUERY_DUPLICATION") {
            idl::duplication_query_response r;
            r.__set_appid(3);
            idl::duplication_entry e;
            e.__set_dupid(1700000000);
            e.__set_status(3);
            e.__set_remote("target");
            e.__set_create_ts(1700000000123);
            e.__set_fail_mode(0);
            idl::duplication_partition_state st;
            st.__set_confirmed_decree(10);
            st.__set_last_committed_decree(12);
            e.__set_partition_states({{0, st}});
            idl::duplication_entry old;
            old.__set_dupid(1600000000);
            old.__set_status(4);
            old.__set_remote("other");
            r.__set_entry_list({e, old});
            return reply(f, r);
        }
        if (f.name == "RPC_CM_MODIFY_DUPLICATION") {
            modifies.push_back(*wire::decode_call_args<idl::duplication_modify_request>(f));
            idl::duplication_modify_response r;
            r.__set_appid(3);
            return reply(f, r);
        }
        if (f.name == query_cfg) {
            idl::query_cfg_response r;
            r.__set_app_id(3);
            r.__set_partition_count(1);
            idl::partition_configuration p;
            p.__set_pid(idl::gpid(3, 0));
            p.__set_primary(idl::rpc_address::from_ipv4(10, 0, 0, 1, 34801));
            p.__set_hp_primary(idl::host_port("rs1.example.com", 34801));
            p.__set_secondaries({idl::rpc_address::from_ipv4(10, 0, 0, 2, 34801)});
            p.__set_hp_secondaries({idl::host_port("rs2.example.com", 34801)});
            r.__set_partitions({p});
            return reply(f, r);
        }
        return wire::encode_error_response("ERR_HANDLER_NOT_FOUND", f.name + "_ACK", f.seqid);
    }
};

bool contains(const wire::bytes& hay, std::initializer_list<std::uint8_t> needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

} // namespace

TEST_CASE("meta_client: master host_port fields win over rpc_address and are noticed") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_meta script;
        tmtest::fake_server m(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        auto op = client.query_config(std::string("usertable"));
        auto r = co_await std::move(op);
        REQUIRE(r.has_value());
        CHECK(r->host_port_fields);
        CHECK(client.host_port_fields_seen());
        REQUIRE(r->partitions.at(0).primary.has_value());
        CHECK(r->partitions.at(0).primary->to_string() == "rs1.example.com:34801");
        REQUIRE(r->partitions.at(0).secondaries.size() == 1);
        CHECK(r->partitions.at(0).secondaries[0].to_string() == "rs2.example.com:34801");
    });
}

TEST_CASE("meta_client: list_nodes and list_apps map addresses, statuses and envs") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_meta script;
        tmtest::fake_server m(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        auto nodes_op = client.list_nodes(node_status::invalid);
        auto nodes = co_await std::move(nodes_op);
        REQUIRE(nodes.has_value());
        REQUIRE(nodes->size() == 2);
        CHECK(nodes->at(0).address.to_string() == "rs1.example.com:34801");
        CHECK(nodes->at(0).status == node_status::alive);
        CHECK(nodes->at(1).address.to_string() == "10.0.0.2:34801");
        CHECK(nodes->at(1).status == node_status::unalive);
        auto apps_op = client.list_apps(app_status::available);
        auto apps = co_await std::move(apps_op);
        REQUIRE(apps.has_value());
        REQUIRE(apps->size() == 1);
        CHECK(apps->at(0).app_id == 3);
        CHECK(apps->at(0).status == app_status::available);
        CHECK(apps->at(0).duplicating);
        CHECK(apps->at(0).envs.at("replica.deny_client_request") == "timeout*write");
        // The status filter went on the wire.
        auto req =
            wire::decode_call_args<idl::configuration_list_apps_request>(m.received().back());
        REQUIRE(req.has_value());
        CHECK(req->status == 1);
    });
}

TEST_CASE("meta_client: update_app_envs set, del and clear requests and hints") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_meta script;
        tmtest::fake_server m(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        std::map<std::string, std::string> envs{{"replica.deny_client_request", "timeout*write"}};
        auto set_op = client.set_app_envs(std::string("usertable"), envs);
        auto set = co_await std::move(set_op);
        REQUIRE(set.has_value());
        CHECK(set->empty());
        std::vector<std::string> keys{"replica.deny_client_request"};
        auto del_op = client.del_app_envs(std::string("usertable"), keys);
        auto del = co_await std::move(del_op);
        REQUIRE(del.has_value());
        CHECK(del->starts_with("deleted keys:"));
        auto clear_op = client.clear_app_envs(std::string("usertable"), std::string("replica"));
        REQUIRE((co_await std::move(clear_op)).has_value());
        auto missing_op = client.set_app_envs(std::string("nope"), envs);
        auto missing = co_await std::move(missing_op);
        REQUIRE_FALSE(missing.has_value());
        CHECK(missing.error() == rdsn_errc::ERR_APP_NOT_EXIST);

        REQUIRE(script.env_updates.size() == 4);
        const auto& s = script.env_updates[0];
        CHECK(s.op == 1);
        CHECK(s.keys == std::vector<std::string>{"replica.deny_client_request"});
        CHECK(s.values == std::vector<std::string>{"timeout*write"});
        CHECK_FALSE(bool(s.__isset.clear_prefix));
        CHECK(script.env_updates[1].op == 2);
        CHECK_FALSE(bool(script.env_updates[1].__isset.values));
        CHECK(script.env_updates[2].op == 3);
        CHECK(script.env_updates[2].clear_prefix == "replica");
        CHECK_FALSE(bool(script.env_updates[2].__isset.keys));

        // A malformed update never reaches the server.
        app_env_update bad;
        bad.app_name = "usertable";
        bad.keys = {"a", "b"};
        bad.values = {"1"};
        auto bad_op = client.update_app_envs(bad);
        auto refused = co_await std::move(bad_op);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == client_errc::invalid_argument);
        CHECK(script.env_updates.size() == 4);
    });
}

TEST_CASE(
    "meta_client: add_duplication always writes the checkpoint flag; ERR_DUP_EXIST is returned") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_meta script;
        tmtest::fake_server m(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        add_duplication_request req;
        req.app_name = "usertable";
        req.remote_cluster = "target";
        req.checkpoint = true; // the IDL default: must still be on the wire
        auto add_op = client.add_duplication(req);
        auto added = co_await std::move(add_op);
        REQUIRE(added.has_value());
        CHECK(added->appid == 3);
        CHECK(added->dupid == 1700000000);
        CHECK(added->remote_app_name == "usertable_copy");
        REQUIRE(script.adds.size() == 1);
        CHECK(bool(script.adds[0].__isset.is_duplicating_checkpoint));
        CHECK(script.adds[0].is_duplicating_checkpoint);
        CHECK_FALSE(bool(script.adds[0].__isset.remote_app_name));
        CHECK_FALSE(bool(script.adds[0].__isset.remote_replica_count));
        // Field 3, type BOOL, value 1: 02 00 03 01.
        CHECK(contains(script.add_frames[0].body, {0x02, 0x00, 0x03, 0x01}));

        req.checkpoint = false;
        req.remote_app_name = "usertable_copy";
        req.remote_replica_count = 2;
        auto again_op = client.add_duplication(req);
        auto again = co_await std::move(again_op);
        REQUIRE_FALSE(again.has_value());
        CHECK(again.error() == rdsn_errc::ERR_DUP_EXIST);
        CHECK(contains(script.add_frames[1].body, {0x02, 0x00, 0x03, 0x00}));
        CHECK(script.adds[1].remote_app_name == "usertable_copy");
        CHECK(script.adds[1].remote_replica_count == 2);
    });
}

TEST_CASE("meta_client: query_duplication maps entries and partition states") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_meta script;
        tmtest::fake_server m(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        auto op = client.query_duplication(std::string("usertable"));
        auto r = co_await std::move(op);
        REQUIRE(r.has_value());
        CHECK(r->appid == 3);
        REQUIRE(r->entries.size() == 2);
        const auto& e = r->entries[0];
        CHECK(e.dupid == 1700000000);
        CHECK(e.status == duplication_status::log);
        CHECK(e.remote == "target");
        CHECK(e.create_ts == 1700000000123);
        CHECK(e.fail_mode == duplication_fail_mode::fail_slow);
        REQUIRE(e.partition_states.has_value());
        CHECK(e.partition_states->at(0).confirmed_decree == 10);
        CHECK(e.partition_states->at(0).last_committed_decree == 12);
        CHECK(r->entries[1].status == duplication_status::pause);
        CHECK_FALSE(r->entries[1].partition_states.has_value());
        CHECK_FALSE(r->entries[1].fail_mode.has_value());
    });
}

TEST_CASE("meta_client: modify_duplication sends only the fields given") {
    tmtest::run_async([](asio::io_context& io) -> asio::awaitable<void> {
        scripted_meta script;
        tmtest::fake_server m(io, std::ref(script));
        rpc::session_pool pool(io.get_executor());
        meta_client client(pool, {m.endpoint()}, fast_options());
        auto op1 = client.modify_duplication(std::string("usertable"), 1700000000,
                                             duplication_status::removed, std::nullopt);
        auto r1 = co_await std::move(op1);
        REQUIRE(r1.has_value());
        CHECK(*r1 == 3);
        auto op2 = client.modify_duplication(std::string("usertable"), 1700000000, std::nullopt,
                                             duplication_fail_mode::fail_skip);
        REQUIRE((co_await std::move(op2)).has_value());
        REQUIRE(script.modifies.size() == 2);
        CHECK(script.modifies[0].dupid == 1700000000);
        CHECK(bool(script.modifies[0].__isset.status));
        CHECK(script.modifies[0].status == 5);
        CHECK_FALSE(bool(script.modifies[0].__isset.fail_mode));
        CHECK_FALSE(bool(script.modifies[1].__isset.status));
        CHECK(script.modifies[1].fail_mode == 1);
    });
}
