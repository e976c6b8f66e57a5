// Typed client of a Pegasus meta-server group: finds and remembers the leader, follows
// ERR_FORWARD_TO_OTHERS (and the leader hint of query-config replies), and retries transient
// failures with backoff under an overall deadline (pegasus-protocol.md §2.0).
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/meta/types.hpp>
#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/rpc/session_pool.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::meta {

struct meta_client_options {
    std::chrono::milliseconds call_timeout{10000};    // one attempt against one meta
    std::chrono::milliseconds overall_timeout{60000}; // every attempt of one method together
    std::chrono::milliseconds backoff_initial{100};   // between rounds over the meta list
    std::chrono::milliseconds backoff_max{2000};
};

// Error behaviour of every method:
// - the application error inside the reply struct (`err`) is the error returned, e.g.
//   rdsn_errc::ERR_OBJECT_NOT_FOUND for an unknown table in query_config, ERR_APP_NOT_EXIST,
//   ERR_DUP_EXIST, ERR_INVALID_PARAMETERS (unknown names are preserved by rdsn_error_from_name);
// - ERR_FORWARD_TO_OTHERS moves on to the next meta (or the hinted leader) at once;
//   retryable errors (core is_retryable: ERR_SERVICE_NOT_ACTIVE, ERR_UNDER_RECOVERY, ERR_BUSY,
//   timeouts, connection failures) are retried with backoff until overall_timeout; then the last
//   such error is returned (client_errc::no_leader if every meta only forwarded);
// - any other error (a frame error such as ERR_HANDLER_NOT_FOUND, decode_failed) is returned at
//   once; client_errc::cancelled when the caller is cancelled (terminal cancellation).
// Failures are logged with the meta endpoint, the RPC name and the seqid when one is known.
// One io_context thread; the pool and the client must outlive every call.
class meta_client {
public:
    // `metas` must not be empty (std::invalid_argument: a caller bug).
    meta_client(rpc::session_pool& pool, std::vector<rpc::endpoint> metas,
                meta_client_options options = {});

    // RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX; empty indices = all partitions.
    boost::asio::awaitable<result<table_config>>
    query_config(std::string app_name, std::vector<std::int32_t> partition_indices = {});
    // RPC_CM_CLUSTER_INFO as key -> value (cluster_name, zookeeper_hosts, meta_servers, ...).
    boost::asio::awaitable<result<std::map<std::string, std::string>>> cluster_info();
    // RPC_CM_LIST_NODES (node_status::invalid = alive and dead nodes).
    boost::asio::awaitable<result<std::vector<node_entry>>>
    list_nodes(node_status status = node_status::invalid);
    // RPC_CM_LIST_APPS with envs (app_status::invalid = no filter).
    boost::asio::awaitable<result<std::vector<app_entry>>>
    list_apps(app_status status = app_status::invalid);
    // RPC_CM_UPDATE_APP_ENV; returns the server's hint message (may be empty).
    boost::asio::awaitable<result<std::string>> update_app_envs(app_env_update update);
    boost::asio::awaitable<result<std::string>>
    set_app_envs(std::string app_name, std::map<std::string, std::string> envs);
    boost::asio::awaitable<result<std::string>> del_app_envs(std::string app_name,
                                                             std::vector<std::string> keys);
    boost::asio::awaitable<result<std::string>> clear_app_envs(std::string app_name,
                                                               std::string prefix);
    // RPC_CM_ADD_DUPLICATION.
    boost::asio::awaitable<result<add_duplication_result>>
    add_duplication(add_duplication_request request);
    // RPC_CM_QUERY_DUPLICATION.
    boost::asio::awaitable<result<duplication_list>> query_duplication(std::string app_name);
    // RPC_CM_MODIFY_DUPLICATION; returns appid (0 when nothing changed, §2.8).
    boost::asio::awaitable<result<std::int32_t>>
    modify_duplication(std::string app_name, std::int32_t dupid,
                       std::optional<duplication_status> status,
                       std::optional<duplication_fail_mode> fail_mode);

    // The meta that answered last as leader (initially the first configured one).
    const rpc::endpoint& leader() const noexcept { return metas_[leader_]; }
    // The configured metas plus any leader learnt from a forward hint.
    const std::vector<rpc::endpoint>& metas() const noexcept { return metas_; }
    // True once a reply carried master-only hp_* fields (generation evidence).
    bool host_port_fields_seen() const noexcept { return host_port_fields_seen_; }

private:
    // The retry/leader loop shared by every method (defined in the .cpp, its only user).
    // `deadline` defaults (epoch) to now + overall_timeout.
    template <class Resp, class Req>
    boost::asio::awaitable<result<Resp>> call(std::string name, Req request,
                                              std::chrono::steady_clock::time_point deadline = {});
    std::size_t index_of(const rpc::endpoint& ep); // appends unknown endpoints

    rpc::session_pool& pool_;
    std::vector<rpc::endpoint> metas_;
    meta_client_options options_;
    std::size_t leader_ = 0;
    bool host_port_fields_seen_ = false;
    bool learning_leader_ = false; // a leader probe is in flight (never nest them)
};

} // namespace tablemigrator::meta
