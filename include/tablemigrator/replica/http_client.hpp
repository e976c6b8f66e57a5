// HTTP/1.1 GET client for the embedded HTTP server on a Pegasus RPC port (pegasus-protocol.md
// §3.4). HTTP needs its own TCP connections (the server picks the protocol from the first four
// bytes of a connection), so this client never shares a socket with THFT traffic.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tablemigrator::replica {

struct http_response {
    unsigned status = 0;
    std::string body;
};

// One endpoint. Idle keep-alive connections are reused; concurrent calls each take their own
// connection (a new one when none is idle), so callers need no locking.
//
// Completion: get() returns the response for ANY status; callers map statuses (see
// check_status). Errors are transport failures only: client_errc::timeout when the deadline
// passes (the connection is closed), client_errc::cancelled when the caller cancels (terminal
// cancellation of the awaiting coroutine; the connection is closed), connection_closed when the
// peer closes, or the resolver/socket error. A reused connection that the server closed while
// idle is retried once on a fresh connection (GET is idempotent).
// The client must outlive every call in flight.
class http_client {
public:
    http_client(boost::asio::any_io_executor executor, std::string host, std::uint16_t port,
                std::size_t max_body_bytes = 64u * 1024u * 1024u);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    boost::asio::awaitable<result<http_response>> get(std::string target,
                                                      std::chrono::milliseconds timeout);

    // Drops every idle connection (in-flight calls keep theirs until they finish).
    void close();

    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    std::size_t idle_connections() const noexcept { return idle_.size(); }

private:
    struct connection;
    boost::asio::awaitable<result<http_response>>
    attempt(std::unique_ptr<connection>& conn, const std::string& target,
            std::chrono::steady_clock::time_point deadline, bool& response_started);

    boost::asio::any_io_executor executor_;
    std::string host_;
    std::uint16_t port_;
    std::size_t max_body_bytes_;
    std::vector<std::unique_ptr<connection>> idle_;
};

// 2xx -> success; 404 -> client_errc::http_not_found; anything else -> client_errc::http_error.
status check_status(const http_response& response);

} // namespace tablemigrator::replica
