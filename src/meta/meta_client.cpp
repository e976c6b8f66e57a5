// meta_client: one retry/leader loop (call<Resp>) shared by the typed methods, which only build
// the request struct and turn the reply struct into plain results.
#include <tablemigrator/meta/meta_client.hpp>

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace tablemigrator::meta {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

// An rpc_address or its master host_port companion as an endpoint; host_port wins when set
// because master servers may name hosts rather than IPv4 addresses.
std::optional<rpc::endpoint> to_endpoint(const idl::rpc_address& addr, const idl::host_port* hp) {
    if (hp && !hp->host().empty() && hp->port() != 0)
        return rpc::endpoint{hp->host(), hp->port()};
    if (addr.is_ipv4() && addr.port() != 0) {
        const auto ip = addr.ipv4();
        return rpc::endpoint{std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xffu) +
                                 "." + std::to_string((ip >> 8) & 0xffu) + "." +
                                 std::to_string(ip & 0xffu),
                             addr.port()};
    }
    return std::nullopt;
}

std::vector<rpc::endpoint> to_endpoints(const std::vector<idl::rpc_address>& addrs,
                                        const std::vector<idl::host_port>* hps) {
    std::vector<rpc::endpoint> out;
    for (std::size_t i = 0; i < addrs.size(); ++i) {
        const idl::host_port* hp = (hps && i < hps->size()) ? &(*hps)[i] : nullptr;
        if (auto ep = to_endpoint(addrs[i], hp))
            out.push_back(std::move(*ep));
    }
    // A master reply may carry more host_ports than addresses (non-IPv4 hosts).
    if (hps)
        for (std::size_t i = addrs.size(); i < hps->size(); ++i)
            if (auto ep = to_endpoint(idl::rpc_address{}, &(*hps)[i]))
                out.push_back(std::move(*ep));
    return out;
}

// The leader address a non-leader meta puts into a query-config reply (§2.0).
std::optional<rpc::endpoint> forward_hint(const idl::query_cfg_response& r) {
    if (r.partitions.empty())
        return std::nullopt;
    const auto& p = r.partitions.front();
    return to_endpoint(p.primary, p.__isset.hp_primary ? &p.hp_primary : nullptr);
}

template <class T>
result<T> fail(const error_code& ec) {
    return result<T>(boost::system::in_place_error, ec);
}

} // namespace

meta_client::meta_client(rpc::session_pool& pool, std::vector<rpc::endpoint> metas,
                         meta_client_options options)
    : pool_(pool)
    , metas_(std::move(metas))
    , options_(options) {
    if (metas_.empty())
        throw std::invalid_argument("meta_client needs at least one meta server");
}

std::size_t meta_client::index_of(const rpc::endpoint& ep) {
    auto it = std::find(metas_.begin(), metas_.end(), ep);
    if (it != metas_.end())
        return static_cast<std::size_t>(it - metas_.begin());
    metas_.push_back(ep);
    return metas_.size() - 1;
}

template <class Resp, class Req>
asio::awaitable<result<Resp>> meta_client::call(std::string name, Req request,
                                                std::chrono::steady_clock::time_point deadline) {
    const wire::bytes args = wire::serialize_struct(request);
    if (deadline == std::chrono::steady_clock::time_point{})
        deadline = clock::now() + options_.overall_timeout;
    auto backoff = options_.backoff_initial;
    error_code last = make_error_code(client_errc::no_leader);

    for (int round = 1;; ++round) {
        // This round: the remembered leader first, then every other meta once. A forward hint
        // is tried right after the meta that gave it.
        std::vector<std::size_t> order{leader_};
        for (std::size_t i = 0; i < metas_.size(); ++i)
            if (i != leader_)
                order.push_back(i);
        std::vector<bool> tried(metas_.size(), false);
        int forwards = 0, attempts = 0;

        for (std::size_t k = 0; k < order.size(); ++k) {
            const std::size_t idx = order[k];
            if (idx < tried.size() && tried[idx])
                continue;
            if (idx >= tried.size())
                tried.resize(idx + 1, false);
            tried[idx] = true;
            const auto now = clock::now();
            if (now >= deadline)
                break;
            const auto remaining =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
            const auto timeout = std::min(options_.call_timeout, remaining);
            const rpc::endpoint ep = metas_[idx];
            ++attempts;

            auto session = pool_.get(ep);
            // Awaitables are built in their own statement throughout this file: g++ 12 mishandles
            // class-type temporaries inside a co_await expression.
            auto op = session->call(name, wire::request_header{}, args, timeout);
            auto frame = co_await std::move(op);
            if (!frame) {
                const auto& ec = frame.error();
                if (ec == client_errc::cancelled)
                    co_return fail<Resp>(ec);
                // Debug only: the caller reports the final error once, with its context (one
                // unreachable meta must not print a line per retry).
                spdlog::debug("meta {} {} (round {}): {}", ep.to_string(), name, round,
                              ec.message());
                if (!is_retryable(ec))
                    co_return fail<Resp>(ec);
                last = ec;
                continue;
            }
            auto reply = wire::decode_reply<Resp>(*frame);
            if (!reply) {
                const auto& ec = reply.error();
                spdlog::warn("meta {} {} seqid {}: {} (frame error {})", ep.to_string(), name,
                             frame->seqid, ec.message(), frame->error_name);
                if (!is_retryable(ec))
                    co_return fail<Resp>(ec);
                last = ec;
                continue;
            }
            if constexpr (std::is_same_v<Resp, idl::query_cfg_response>) {
                for (const auto& p : reply->partitions)
                    if (p.__isset.hp_primary || p.__isset.hp_secondaries)
                        host_port_fields_seen_ = true;
            }
            const error_code app = reply->err.to_error_code();
            if (!app) {
                leader_ = idx;
                co_return std::move(*reply);
            }
            if (app == rdsn_errc::ERR_FORWARD_TO_OTHERS) {
                ++forwards;
                spdlog::debug("meta {} {} seqid {}: ERR_FORWARD_TO_OTHERS", ep.to_string(), name,
                              frame->seqid);
                if constexpr (std::is_same_v<Resp, idl::query_cfg_response>) {
                    if (auto hint = forward_hint(*reply); hint && *hint != ep) {
                        const std::size_t h = index_of(*hint);
                        if (h >= tried.size() || !tried[h])
                            order.insert(order.begin() + static_cast<std::ptrdiff_t>(k + 1), h);
                    }
                }
                if (last == client_errc::no_leader || last == rdsn_errc::ERR_FORWARD_TO_OTHERS)
                    last = make_error_code(client_errc::no_leader);
                continue;
            }
            // The meta answered as leader (only a leader gets past the forward check).
            leader_ = idx;
            spdlog::debug("meta {} {} seqid {}: {}", ep.to_string(), name, frame->seqid,
                          rdsn_error_name(app));
            if (!is_retryable(app))
                co_return fail<Resp>(app);
            last = app;
            break; // the leader is busy or starting: back off before asking it again
        }

        if constexpr (!std::is_same_v<Resp, idl::query_cfg_response>) {
            // Every meta forwarded and none named the leader (only query-config replies carry a
            // hint): a list of followers only. Learn the leader through a query-config, whose
            // forward hint the loop above follows and remembers, then try again at once.
            if (attempts > 0 && forwards == attempts && !learning_leader_) {
                learning_leader_ = true;
                const std::size_t before = leader_;
                idl::query_cfg_request probe;
                probe.__set_app_name("");
                auto probe_op =
                    call<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", probe, deadline);
                auto learnt = co_await std::move(probe_op);
                learning_leader_ = false;
                if (!learnt && learnt.error() == client_errc::cancelled)
                    co_return fail<Resp>(learnt.error());
                if (leader_ != before) {
                    spdlog::debug("meta {}: leader learnt through a query-config hint: {}", name,
                                  metas_[leader_].to_string());
                    continue;
                }
            }
        }
        const auto now = clock::now();
        if (now >= deadline)
            break;
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer timer(ex, std::min<clock::duration>(backoff, deadline - now));
        auto wait = timer.async_wait(asio::as_tuple(asio::use_awaitable));
        auto [ec] = co_await std::move(wait);
        if (ec)
            co_return fail<Resp>(make_error_code(client_errc::cancelled));
        backoff = std::min(backoff * 2, options_.backoff_max);
    }
    spdlog::debug("meta {}: giving up after {} ms: {}", name, options_.overall_timeout.count(),
                  last.message());
    co_return fail<Resp>(last);
}

// ---- typed methods --------------------------------------------------------------------------

asio::awaitable<result<table_config>>
meta_client::query_config(std::string app_name, std::vector<std::int32_t> partition_indices) {
    idl::query_cfg_request req;
    req.__set_app_name(app_name);
    req.__set_partition_indices(partition_indices);
    auto op = call<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    table_config out;
    out.app_id = r->app_id;
    out.partition_count = r->partition_count;
    out.is_stateful = r->is_stateful;
    for (const auto& p : r->partitions) {
        partition_config pc;
        pc.app_id = p.pid.app_id();
        pc.partition_index = p.pid.partition_index();
        pc.ballot = p.ballot;
        pc.max_replica_count = p.max_replica_count;
        pc.primary = to_endpoint(p.primary, p.__isset.hp_primary ? &p.hp_primary : nullptr);
        pc.secondaries =
            to_endpoints(p.secondaries, p.__isset.hp_secondaries ? &p.hp_secondaries : nullptr);
        pc.last_drops =
            to_endpoints(p.last_drops, p.__isset.hp_last_drops ? &p.hp_last_drops : nullptr);
        pc.last_committed_decree = p.last_committed_decree;
        pc.partition_flags = p.partition_flags;
        if (p.__isset.hp_primary || p.__isset.hp_secondaries || p.__isset.hp_last_drops)
            out.host_port_fields = true;
        out.partitions.push_back(std::move(pc));
    }
    co_return out;
}

asio::awaitable<result<std::map<std::string, std::string>>> meta_client::cluster_info() {
    auto op = call<idl::configuration_cluster_info_response>(
        "RPC_CM_CLUSTER_INFO", idl::configuration_cluster_info_request{});
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    if (r->keys.size() != r->values.size()) {
        spdlog::warn("meta {} RPC_CM_CLUSTER_INFO: {} keys but {} values", leader().to_string(),
                     r->keys.size(), r->values.size());
        co_return make_error_code(client_errc::unexpected_reply);
    }
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < r->keys.size(); ++i)
        out[r->keys[i]] = r->values[i];
    co_return out;
}

asio::awaitable<result<std::vector<node_entry>>> meta_client::list_nodes(node_status status) {
    idl::configuration_list_nodes_request req;
    req.__set_status(static_cast<std::int32_t>(status));
    auto op = call<idl::configuration_list_nodes_response>("RPC_CM_LIST_NODES", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    std::vector<node_entry> out;
    for (const auto& n : r->infos) {
        if (n.__isset.hp_node)
            host_port_fields_seen_ = true;
        auto ep = to_endpoint(n.node, n.__isset.hp_node ? &n.hp_node : nullptr);
        if (!ep) {
            spdlog::warn("meta {} RPC_CM_LIST_NODES: skipping a node without address",
                         leader().to_string());
            continue;
        }
        out.push_back({std::move(*ep), static_cast<node_status>(n.status)});
    }
    co_return out;
}

asio::awaitable<result<std::vector<app_entry>>> meta_client::list_apps(app_status status) {
    idl::configuration_list_apps_request req;
    req.__set_status(static_cast<std::int32_t>(status));
    auto op = call<idl::configuration_list_apps_response>("RPC_CM_LIST_APPS", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    std::vector<app_entry> out;
    for (const auto& a : r->infos) {
        app_entry e;
        e.app_id = a.app_id;
        e.app_name = a.app_name;
        e.app_type = a.app_type;
        e.status = static_cast<app_status>(a.status);
        e.partition_count = a.partition_count;
        e.max_replica_count = a.max_replica_count;
        e.is_stateful = a.is_stateful;
        e.envs.insert(a.envs.begin(), a.envs.end());
        e.duplicating = a.__isset.duplicating && a.duplicating;
        e.create_second = a.create_second;
        e.drop_second = a.drop_second;
        e.expire_second = a.expire_second;
        e.init_partition_count = a.init_partition_count;
        out.push_back(std::move(e));
    }
    co_return out;
}

asio::awaitable<result<std::string>> meta_client::update_app_envs(app_env_update update) {
    idl::configuration_update_app_env_request req;
    req.__set_app_name(update.app_name);
    req.__set_op(static_cast<std::int32_t>(update.op));
    switch (update.op) {
    case app_env_op::set:
        if (update.keys.empty() || update.keys.size() != update.values.size())
            co_return make_error_code(client_errc::invalid_argument);
        req.__set_keys(update.keys);
        req.__set_values(update.values);
        break;
    case app_env_op::del:
        if (update.keys.empty())
            co_return make_error_code(client_errc::invalid_argument);
        req.__set_keys(update.keys);
        break;
    case app_env_op::clear:
        req.__set_clear_prefix(update.clear_prefix);
        break;
    default:
        co_return make_error_code(client_errc::invalid_argument);
    }
    auto op = call<idl::configuration_update_app_env_response>("RPC_CM_UPDATE_APP_ENV", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    co_return std::move(r->hint_message);
}

asio::awaitable<result<std::string>>
meta_client::set_app_envs(std::string app_name, std::map<std::string, std::string> envs) {
    app_env_update u;
    u.app_name = std::move(app_name);
    u.op = app_env_op::set;
    for (auto& [k, v] : envs) {
        u.keys.push_back(k);
        u.values.push_back(v);
    }
    auto op = update_app_envs(std::move(u));
    co_return co_await std::move(op);
}

asio::awaitable<result<std::string>> meta_client::del_app_envs(std::string app_name,
                                                               std::vector<std::string> keys) {
    app_env_update u;
    u.app_name = std::move(app_name);
    u.op = app_env_op::del;
    u.keys = std::move(keys);
    auto op = update_app_envs(std::move(u));
    co_return co_await std::move(op);
}

asio::awaitable<result<std::string>> meta_client::clear_app_envs(std::string app_name,
                                                                 std::string prefix) {
    app_env_update u;
    u.app_name = std::move(app_name);
    u.op = app_env_op::clear;
    u.clear_prefix = std::move(prefix);
    auto op = update_app_envs(std::move(u));
    co_return co_await std::move(op);
}

asio::awaitable<result<add_duplication_result>>
meta_client::add_duplication(add_duplication_request request) {
    idl::duplication_add_request req;
    req.__set_app_name(request.app_name);
    req.__set_remote_cluster_name(request.remote_cluster);
    // Always on the wire: a server whose IDL default differs must not guess (§2.6).
    req.__set_is_duplicating_checkpoint(request.checkpoint);
    if (request.remote_app_name)
        req.__set_remote_app_name(*request.remote_app_name);
    if (request.remote_replica_count)
        req.__set_remote_replica_count(*request.remote_replica_count);
    auto op = call<idl::duplication_add_response>("RPC_CM_ADD_DUPLICATION", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    add_duplication_result out;
    out.appid = r->appid;
    out.dupid = r->dupid;
    if (r->__isset.hint)
        out.hint = r->hint;
    if (r->__isset.remote_app_name)
        out.remote_app_name = r->remote_app_name;
    if (r->__isset.remote_replica_count)
        out.remote_replica_count = r->remote_replica_count;
    co_return out;
}

asio::awaitable<result<duplication_list>> meta_client::query_duplication(std::string app_name) {
    idl::duplication_query_request req;
    req.__set_app_name(app_name);
    auto op = call<idl::duplication_query_response>("RPC_CM_QUERY_DUPLICATION", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    duplication_list out;
    out.appid = r->appid;
    for (const auto& e : r->entry_list) {
        duplication_info d;
        d.dupid = e.dupid;
        d.status = static_cast<duplication_status>(e.status);
        d.remote = e.remote;
        d.create_ts = e.create_ts;
        if (e.__isset.fail_mode)
            d.fail_mode = static_cast<duplication_fail_mode>(e.fail_mode);
        if (e.__isset.remote_app_name)
            d.remote_app_name = e.remote_app_name;
        if (e.__isset.remote_replica_count)
            d.remote_replica_count = e.remote_replica_count;
        if (e.__isset.partition_states) {
            std::map<std::int32_t, duplication_partition_state> states;
            for (const auto& [pidx, st] : e.partition_states)
                states[pidx] = {st.confirmed_decree, st.last_committed_decree};
            d.partition_states = std::move(states);
        }
        out.entries.push_back(std::move(d));
    }
    co_return out;
}

asio::awaitable<result<std::int32_t>>
meta_client::modify_duplication(std::string app_name, std::int32_t dupid,
                                std::optional<duplication_status> status,
                                std::optional<duplication_fail_mode> fail_mode) {
    idl::duplication_modify_request req;
    req.__set_app_name(app_name);
    req.__set_dupid(dupid);
    if (status)
        req.__set_status(static_cast<std::int32_t>(*status));
    if (fail_mode)
        req.__set_fail_mode(static_cast<std::int32_t>(*fail_mode));
    auto op = call<idl::duplication_modify_response>("RPC_CM_MODIFY_DUPLICATION", req);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    co_return r->appid;
}

} // namespace tablemigrator::meta
