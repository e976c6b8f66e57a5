// replica_client: HTTP endpoints, remote commands and decree RPCs of one replica server.
#include <tablemigrator/replica/replica_client.hpp>

#include <tablemigrator/core/error.hpp>

#include <spdlog/spdlog.h>

namespace tablemigrator::replica {

namespace asio = boost::asio;

namespace {

// Log lines carry at most this much of a server body.
std::string_view excerpt(std::string_view body) { return body.substr(0, 200); }

} // namespace

replica_client::replica_client(asio::any_io_executor executor, std::string host, std::uint16_t port,
                               replica_client_options options)
    : options_(options), http_(std::move(executor), std::move(host), port) {}

asio::awaitable<result<http_response>> replica_client::http_get(std::string target) {
    // Built in its own statement: g++ 12 mishandles class-type temporaries (the by-value string)
    // inside a co_await expression; the same pattern is used for every call below.
    auto op = http_.get(target, options_.http_timeout);
    auto r = co_await std::move(op);
    if (!r)
        spdlog::warn("replica {}:{} GET {} failed: {}", host(), port(), target, r.error().message());
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

} // namespace tablemigrator::replica
