// Typed client of one Pegasus replica server: HTTP endpoints on its RPC port (separate keep-alive
// connection), remote commands over RPC_CLI_CLI_CALL, the decree RPCs, and generation detection.
// Every method: expected failures come back as error codes (see each group below).
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/replica/command_parsers.hpp>
#include <tablemigrator/replica/http_client.hpp>
#include <tablemigrator/replica/http_parsers.hpp>
#include <tablemigrator/replica/server_generation.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::replica {

struct replica_client_options {
    std::chrono::milliseconds http_timeout{10000}; // per HTTP request (admin-cli uses 10 s)
    std::chrono::milliseconds rpc_timeout{10000};  // per remote command / decree RPC
};

class replica_client {
public:
    replica_client(boost::asio::any_io_executor executor, std::string host, std::uint16_t port,
                   replica_client_options options = {});

    const std::string& host() const noexcept { return http_.host(); }
    std::uint16_t port() const noexcept { return http_.port(); }

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

private:
    boost::asio::awaitable<result<std::string>> http_get_ok(std::string target);

    replica_client_options options_;
    http_client http_;
    std::optional<http_response> last_failure_;
};

} // namespace tablemigrator::replica
