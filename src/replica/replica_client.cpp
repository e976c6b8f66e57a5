// replica_client: HTTP endpoints, remote commands and decree RPCs of one replica server.
#include <tablemigrator/replica/replica_client.hpp>

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <spdlog/spdlog.h>

namespace tablemigrator::replica {

namespace asio = boost::asio;

namespace {

// Log lines carry at most this much of a server body.
std::string_view excerpt(std::string_view body) {
    return body.substr(0, 200);
}

} // namespace

replica_client::replica_client(asio::any_io_executor executor, rpc::session_pool& pool,
                               rpc::endpoint ep, replica_client_options options)
    : pool_(pool)
    , ep_(std::move(ep))
    , options_(options)
    , http_(std::move(executor), ep_.host, ep_.port) {}

asio::awaitable<result<http_response>> replica_client::http_get(std::string target) {
    // Built in its own statement: g++ 12 mishandles class-type temporaries (the by-value string)
    // inside a co_await expression; the same pattern is used for every call below.
    auto op = http_.get(target, options_.http_timeout);
    auto r = co_await std::move(op);
    if (!r)
        spdlog::warn("replica {}:{} GET {} failed: {}", host(), port(), target,
                     r.error().message());
    co_return r;
}

asio::awaitable<result<std::string>> replica_client::http_get_ok(std::string target) {
    auto op = http_get(target);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    if (auto st = check_status(*r); !st) {
        // 404 is often an expected answer ("no replica of this app here"), so it is debug only.
        if (st.error() == client_errc::http_not_found)
            spdlog::debug("replica {}:{} GET {}: 404 {}", host(), port(), target, excerpt(r->body));
        else
            spdlog::warn("replica {}:{} GET {}: HTTP {} {}", host(), port(), target, r->status,
                         excerpt(r->body));
        last_failure_ = std::move(*r);
        co_return st.error();
    }
    co_return std::move(r->body);
}

namespace {

template <class T>
result<T> log_parse(result<T> parsed, const replica_client& c, std::string_view target,
                    std::string_view body) {
    if (!parsed)
        spdlog::warn("replica {}:{} GET {}: unexpected body ({}): {}", c.host(), c.port(), target,
                     parsed.error().message(), excerpt(body));
    return parsed;
}

} // namespace

asio::awaitable<result<data_version_map>> replica_client::data_version(std::int32_t app_id) {
    const auto target = "/replica/data_version?app_id=" + std::to_string(app_id);
    auto op = http_get_ok(target);
    auto body = co_await std::move(op);
    if (!body)
        co_return body.error();
    co_return log_parse(parse_data_version(*body), *this, target, *body);
}

asio::awaitable<result<dup_status_map>> replica_client::duplication(std::int32_t app_id) {
    // The parameter is "appid" here, unlike data_version's "app_id" (§3.6).
    const auto target = "/replica/duplication?appid=" + std::to_string(app_id);
    auto op = http_get_ok(target);
    auto body = co_await std::move(op);
    if (!body)
        co_return body.error();
    co_return log_parse(parse_replica_duplication(*body), *this, target, *body);
}

asio::awaitable<result<metrics_snapshot>> replica_client::metrics(metrics_query query) {
    const auto target = metrics_target(query);
    auto op = http_get_ok(target);
    auto body = co_await std::move(op);
    if (!body)
        co_return body.error();
    co_return log_parse(parse_metrics(*body), *this, target, *body);
}

asio::awaitable<result<version_info>> replica_client::version() {
    const std::string target = "/version";
    auto op = http_get_ok(target);
    auto body = co_await std::move(op);
    if (!body)
        co_return body.error();
    co_return log_parse(parse_version(*body), *this, target, *body);
}

asio::awaitable<result<config_flag>> replica_client::config(std::string name) {
    const auto target = "/config?name=" + url_encode(name);
    auto op = http_get_ok(target);
    auto body = co_await std::move(op);
    if (!body)
        co_return body.error();
    co_return log_parse(parse_config(*body), *this, target, *body);
}

asio::awaitable<status> replica_client::update_config(std::string key, std::string value) {
    const auto target = "/updateConfig?" + url_encode(key) + "=" + url_encode(value);
    auto op = http_get_ok(target);
    auto body = co_await std::move(op);
    if (!body)
        co_return body.error();
    auto parsed = log_parse(parse_update_config(*body), *this, target, *body);
    if (!parsed)
        co_return parsed.error();
    if (parsed->err) {
        spdlog::warn("replica {}:{} updateConfig {}={} refused: {} {}", host(), port(), key, value,
                     rdsn_error_name(parsed->err), parsed->detail);
        co_return parsed->err;
    }
    co_return status{};
}

// ---- RPCs ---------------------------------------------------------------------------------

asio::awaitable<result<wire::response_frame>> replica_client::rpc_call(std::string name,
                                                                       wire::bytes args) {
    auto session = pool_.get(ep_);
    // Replica admin RPCs carry gpid 0.0 like the Go client's remote commands.
    auto op = session->call(name, wire::request_header{}, std::move(args), options_.rpc_timeout);
    auto frame = co_await std::move(op);
    if (!frame)
        spdlog::warn("replica {} {}: {}", ep_.to_string(), name, frame.error().message());
    co_return frame;
}

asio::awaitable<result<std::string>> replica_client::remote_command(std::string cmd,
                                                                    std::vector<std::string> args) {
    idl::command req;
    req.__set_cmd(cmd);
    req.__set_arguments(args);
    auto op = rpc_call("RPC_CLI_CLI_CALL", wire::serialize_struct(req));
    auto frame = co_await std::move(op);
    if (!frame)
        co_return frame.error();
    auto text = wire::decode_string_reply(*frame);
    if (!text)
        spdlog::warn("replica {} RPC_CLI_CLI_CALL '{}' seqid {}: {} (frame error {})",
                     ep_.to_string(), cmd, frame->seqid, text.error().message(), frame->error_name);
    co_return text;
}

namespace {

template <class T>
result<T> log_command(result<T> parsed, const rpc::endpoint& ep, std::string_view cmd,
                      std::string_view text) {
    if (!parsed) {
        if (parsed.error() == client_errc::unsupported_version)
            spdlog::info("replica {}: command '{}' unknown to this server", ep.to_string(), cmd);
        else
            spdlog::warn("replica {} command '{}': {}: {}", ep.to_string(), cmd,
                         parsed.error().message(), excerpt(text));
    }
    return parsed;
}

} // namespace

asio::awaitable<result<perf_counters_reply>>
replica_client::perf_counters_by_substr(std::vector<std::string> substrings) {
    auto op = remote_command("perf-counters-by-substr", std::move(substrings));
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    co_return log_command(parse_perf_counters(*text), ep_, "perf-counters-by-substr", *text);
}

asio::awaitable<result<server_info_reply>> replica_client::server_info() {
    auto op = remote_command("server-info", {});
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    co_return log_command(parse_server_info(*text), ep_, "server-info", *text);
}

asio::awaitable<result<query_progress_output>> replica_client::query_progress(std::int32_t app_id) {
    auto op = remote_command("replica.query-progress", replica_command_args(app_id));
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    co_return log_command(parse_query_progress(*text), ep_, "replica.query-progress", *text);
}

asio::awaitable<result<query_progress_output>>
replica_client::query_progress(std::vector<partition_id> pids) {
    if (pids.empty())
        co_return make_error_code(client_errc::invalid_argument);
    auto op = remote_command("replica.query-progress", replica_command_args(pids));
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    co_return log_command(parse_query_progress(*text), ep_, "replica.query-progress", *text);
}

asio::awaitable<result<query_app_envs_output>> replica_client::query_app_envs(std::int32_t app_id) {
    auto op = remote_command("replica.query-app-envs", replica_command_args(app_id));
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    co_return log_command(parse_query_app_envs(*text), ep_, "replica.query-app-envs", *text);
}

asio::awaitable<result<query_app_envs_output>>
replica_client::query_app_envs(std::vector<partition_id> pids) {
    if (pids.empty())
        co_return make_error_code(client_errc::invalid_argument);
    auto op = remote_command("replica.query-app-envs", replica_command_args(pids));
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    co_return log_command(parse_query_app_envs(*text), ep_, "replica.query-app-envs", *text);
}

asio::awaitable<result<empty_write_reply>>
replica_client::disable_empty_write(std::optional<bool> disable) {
    std::vector<std::string> args;
    if (disable)
        args.emplace_back(*disable ? "true" : "false");
    auto op = remote_command("replica.disable-empty-write", std::move(args));
    auto text = co_await std::move(op);
    if (!text)
        co_return text.error();
    auto parsed =
        log_command(parse_disable_empty_write(*text), ep_, "replica.disable-empty-write", *text);
    if (!parsed)
        co_return parsed.error();
    if (!parsed->ok()) {
        spdlog::warn("replica {} replica.disable-empty-write refused: {}", ep_.to_string(),
                     parsed->error);
        co_return make_error_code(client_errc::invalid_argument);
    }
    co_return std::move(*parsed);
}

asio::awaitable<result<std::int64_t>> replica_client::query_pn_decree(partition_id pid) {
    idl::query_replica_decree_request req;
    req.__set_pid(idl::gpid(pid.app_id, pid.partition_index));
    // node1 only when our endpoint is an IPv4 literal. hp_node1 is never sent: a pre-master
    // server cannot skip a host_port field it does not know (pegasus-protocol.md §1.7).
    if (auto addr = idl::rpc_address::parse(ep_.to_string()))
        req.__set_node1(*addr);
    auto op = rpc_call("RPC_QUERY_PN_DECREE", wire::serialize_struct(req));
    auto frame = co_await std::move(op);
    if (!frame)
        co_return frame.error();
    auto reply = wire::decode_reply<idl::query_replica_decree_response>(*frame);
    if (!reply) {
        spdlog::warn("replica {} RPC_QUERY_PN_DECREE seqid {}: {}", ep_.to_string(), frame->seqid,
                     reply.error().message());
        co_return reply.error();
    }
    if (auto err = reply->err.to_error_code()) {
        spdlog::debug("replica {} RPC_QUERY_PN_DECREE {} seqid {}: {}", ep_.to_string(),
                      to_string(pid), frame->seqid, reply->err.name());
        co_return err;
    }
    co_return reply->last_decree;
}

asio::awaitable<result<std::vector<replica_info_entry>>> replica_client::query_replica_info() {
    idl::query_replica_info_request req;
    if (auto addr = idl::rpc_address::parse(ep_.to_string()))
        req.__set_node1(*addr);
    auto op = rpc_call("RPC_QUERY_REPLICA_INFO", wire::serialize_struct(req));
    auto frame = co_await std::move(op);
    if (!frame)
        co_return frame.error();
    auto reply = wire::decode_reply<idl::query_replica_info_response>(*frame);
    if (!reply) {
        spdlog::warn("replica {} RPC_QUERY_REPLICA_INFO seqid {}: {}", ep_.to_string(),
                     frame->seqid, reply.error().message());
        co_return reply.error();
    }
    if (auto err = reply->err.to_error_code()) {
        spdlog::warn("replica {} RPC_QUERY_REPLICA_INFO seqid {}: {}", ep_.to_string(),
                     frame->seqid, reply->err.name());
        co_return err;
    }
    std::vector<replica_info_entry> out;
    for (const auto& r : reply->replicas)
        out.push_back({partition_id{r.pid.app_id(), r.pid.partition_index()}, r.ballot, r.status,
                       r.last_committed_decree, r.last_prepared_decree, r.last_durable_decree,
                       r.app_type, r.disk_tag});
    co_return out;
}

asio::awaitable<result<server_generation>> replica_client::detect_generation() {
    auto info_op = server_info();
    auto info = co_await std::move(info_op);
    if (info) {
        const auto g = generation_from_server_info(*info);
        if (g != server_generation::unknown)
            co_return g;
    }
    auto version_op = version();
    auto ver = co_await std::move(version_op);
    if (ver)
        co_return generation_from_version(ver->version);
    if (info)
        co_return server_generation::unknown;
    co_return info.error();
}

} // namespace tablemigrator::replica
