// Typed client of one Pegasus replica server: HTTP endpoints on its RPC port (separate keep-alive
// connection), remote commands over RPC_CLI_CLI_CALL, the decree RPCs, and generation detection.
// Every method: expected failures come back as error codes (see each group below).
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/replica/command_parsers.hpp>
#include <tablemigrator/replica/http_client.hpp>
#include <tablemigrator/replica/http_parsers.hpp>
#include <tablemigrator/replica/server_generation.hpp>
#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/rpc/session_pool.hpp>
#include <tablemigrator/wire/frame.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::replica {

// One replica of RPC_QUERY_REPLICA_INFO (progress doc §5.3).
struct replica_info_entry {
    partition_id pid;
    std::int64_t ballot = 0;
    std::int32_t status = 0; // partition_status
    std::int64_t last_committed_decree = 0;
    std::int64_t last_prepared_decree = 0;
    std::int64_t last_durable_decree = 0;
    std::string app_type;
    std::string disk_tag;
};

struct replica_client_options {
    std::chrono::milliseconds http_timeout{10000}; // per HTTP request (admin-cli uses 10 s)
    std::chrono::milliseconds rpc_timeout{10000};  // per remote command / decree RPC
};

class replica_client {
public:
    // RPCs go through the pool's session for `ep`; HTTP uses its own connections to the same
    // host and port. The pool and the client must outlive every call.
    replica_client(boost::asio::any_io_executor executor, rpc::session_pool& pool, rpc::endpoint ep,
                   replica_client_options options = {});

    const rpc::endpoint& endpoint() const noexcept { return ep_; }
    const std::string& host() const noexcept { return ep_.host; }
    std::uint16_t port() const noexcept { return ep_.port; }

    // ---- HTTP (pegasus-protocol.md §3.4-§3.7, §4) ---------------------------------------------
    // Errors: client_errc::http_not_found for 404 (a legitimate answer, e.g. "no replica of this
    // app here"; the status and body stay readable through last_http_failure()),
    // client_errc::http_error for other non-2xx statuses, client_errc::bad_json for bodies that
    // do not parse, and the transport errors of http_client::get (timeout, cancelled, ...).
    boost::asio::awaitable<result<data_version_map>> data_version(std::int32_t app_id);
    boost::asio::awaitable<result<dup_status_map>> duplication(std::int32_t app_id);
    boost::asio::awaitable<result<metrics_snapshot>> metrics(metrics_query query);
    boost::asio::awaitable<result<version_info>> version();
    boost::asio::awaitable<result<config_flag>> config(std::string name);
    // The rDSN error named in update_status (e.g. ERR_INVALID_PARAMETERS for a flag that is not
    // mutable, ERR_OBJECT_NOT_FOUND for an unknown flag) is the error returned.
    boost::asio::awaitable<status> update_config(std::string key, std::string value);
    // Raw GET: any status is a value; only transport failures are errors.
    boost::asio::awaitable<result<http_response>> http_get(std::string target);

    // The status and body of the latest non-2xx answer (for messages and logs).
    const std::optional<http_response>& last_http_failure() const noexcept { return last_failure_; }

    // ---- remote commands (RPC_CLI_CLI_CALL, one attempt each) ---------------------------------
    // Errors: the session's errors (client_errc::timeout, cancelled, connection errors), a frame
    // error (e.g. ERR_HANDLER_NOT_FOUND), decode_failed; then the parser's: bad_json for text
    // that is not the expected reply, client_errc::unsupported_version for
    // "unknown command '...'" (the command does not exist in this server generation),
    // client_errc::invalid_argument for "invalid arguments".
    boost::asio::awaitable<result<std::string>> remote_command(std::string cmd,
                                                               std::vector<std::string> args);
    boost::asio::awaitable<result<perf_counters_reply>>
    perf_counters_by_substr(std::vector<std::string> substrings);
    boost::asio::awaitable<result<server_info_reply>> server_info();
    // replica.query-progress for every replica of a table on this node, or for given partitions
    // (an empty list is client_errc::invalid_argument: the server would report every replica).
    boost::asio::awaitable<result<query_progress_output>> query_progress(std::int32_t app_id);
    boost::asio::awaitable<result<query_progress_output>>
    query_progress(std::vector<partition_id> pids);
    boost::asio::awaitable<result<query_app_envs_output>> query_app_envs(std::int32_t app_id);
    boost::asio::awaitable<result<query_app_envs_output>>
    query_app_envs(std::vector<partition_id> pids);
    // replica.disable-empty-write: nullopt queries, true/false sets (node-wide, in memory).
    // A reply whose "error" is not "ok" is client_errc::invalid_argument.
    boost::asio::awaitable<result<empty_write_reply>>
    disable_empty_write(std::optional<bool> disable);

    // ---- decree RPCs (progress doc §5.3) --------------------------------------------------------
    // RPC_QUERY_PN_DECREE: the replica's last committed decree; its `err` is the error returned
    // (ERR_OBJECT_NOT_FOUND when the partition is not hosted here).
    boost::asio::awaitable<result<std::int64_t>> query_pn_decree(partition_id pid);
    // RPC_QUERY_REPLICA_INFO: every replica on the node, closing ones included.
    boost::asio::awaitable<result<std::vector<replica_info_entry>>> query_replica_info();

    // ---- generation -----------------------------------------------------------------------------
    // server-info first (RPC), then GET /version. unknown when a server answered but its version
    // is not recognised; the first error when neither answered.
    boost::asio::awaitable<result<server_generation>> detect_generation();

private:
    boost::asio::awaitable<result<std::string>> http_get_ok(std::string target);
    boost::asio::awaitable<result<wire::response_frame>> rpc_call(std::string name,
                                                                  wire::bytes args);

    rpc::session_pool& pool_;
    rpc::endpoint ep_;
    replica_client_options options_;
    http_client http_;
    std::optional<http_response> last_failure_;
};

} // namespace tablemigrator::replica
