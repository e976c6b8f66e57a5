// Beast-based GET client. Deadlines use beast::tcp_stream's expiry (it closes the socket when the
// deadline passes, so no operation can outlive it); cancellation relies on Beast 1.81 forwarding
// terminal cancellation to the socket operations.
#include <tablemigrator/replica/http_client.hpp>

#include <tablemigrator/async/with_timeout.hpp>
#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <spdlog/spdlog.h>

namespace tablemigrator::replica {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_idle_connections = 2;

error_code map_transport_error(const error_code& ec) {
    if (ec == beast::error::timeout)
        return make_error_code(client_errc::timeout);
    if (ec == asio::error::operation_aborted)
        return make_error_code(client_errc::cancelled);
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
        ec == http::error::partial_message)
        return make_error_code(client_errc::connection_closed);
    return ec;
}

} // namespace

struct http_client::connection {
    explicit connection(const asio::any_io_executor& ex)
        : stream(ex) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
};

http_client::http_client(asio::any_io_executor executor, std::string host, std::uint16_t port,
                         std::size_t max_body_bytes)
    : executor_(std::move(executor))
    , host_(std::move(host))
    , port_(port)
    , max_body_bytes_(max_body_bytes) {}

http_client::~http_client() = default;

void http_client::close() {
    idle_.clear();
}

asio::awaitable<result<http_response>> http_client::get(std::string target,
                                                        std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_ptr<connection> conn;
    bool reused = false;
    if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
        reused = true;
    }
    bool response_started = false;
    auto first = attempt(conn, target, deadline, response_started);
    auto r = co_await std::move(first);
    // The server may have closed an idle keep-alive connection; that is not a failure of the
    // request, so one fresh connection is tried (only when no response byte arrived).
    if (!r && reused && !response_started && r.error() == client_errc::connection_closed) {
        conn.reset();
        auto second = attempt(conn, target, deadline, response_started);
        r = co_await std::move(second);
    }
    if (r && conn && idle_.size() < max_idle_connections)
        idle_.push_back(std::move(conn));
    co_return r;
}

asio::awaitable<result<http_response>>
http_client::attempt(std::unique_ptr<connection>& conn, const std::string& target,
                     std::chrono::steady_clock::time_point deadline, bool& response_started) {
    response_started = false;
    if (!conn) {
        auto fresh = std::make_unique<connection>(executor_);
        tcp::resolver resolver(executor_);
        // Awaitables are built in their own statement throughout: g++ 12 mishandles class-type
        // temporaries (like a std::string argument) inside a co_await expression.
        // The stream's expiry does not cover name resolution, so it gets the deadline itself.
        const std::string service = std::to_string(port_);
        auto resolve =
            resolver.async_resolve(host_, service, tcp::resolver::numeric_service, use_tuple);
        auto bounded = async::with_deadline(std::move(resolve), deadline);
        auto resolved = co_await std::move(bounded);
        if (!resolved) {
            spdlog::debug("http {}:{} resolve: {}", host_, port_, resolved.error().message());
            co_return resolved.error();
        }
        auto [rec, endpoints] = std::move(*resolved);
        if (rec) {
            spdlog::debug("http {}:{} resolve failed: {}", host_, port_, rec.message());
            co_return map_transport_error(rec);
        }
        fresh->stream.expires_at(deadline);
        auto [cec, ep] = co_await fresh->stream.async_connect(endpoints, use_tuple);
        if (cec) {
            spdlog::debug("http {}:{} connect failed: {}", host_, port_, cec.message());
            co_return map_transport_error(cec);
        }
        conn = std::move(fresh);
    }
    conn->stream.expires_at(deadline);

    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host_ + ":" + std::to_string(port_));
    req.set(http::field::user_agent, "table-migrator");
    req.keep_alive(true);
    auto [wec, written] = co_await http::async_write(conn->stream, req, use_tuple);
    if (wec) {
        conn.reset();
        spdlog::debug("http GET {}:{}{} write failed: {}", host_, port_, target, wec.message());
        co_return map_transport_error(wec);
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body_bytes_);
    auto [rdec, read] = co_await http::async_read(conn->stream, conn->buffer, parser, use_tuple);
    response_started = parser.got_some();
    if (rdec) {
        conn.reset();
        spdlog::debug("http GET {}:{}{} read failed: {}", host_, port_, target, rdec.message());
        co_return map_transport_error(rdec);
    }
    auto res = parser.release();
    if (!res.keep_alive())
        conn.reset();
    else
        conn->stream.expires_never();
    co_return http_response{res.result_int(), std::move(res.body())};
}

status check_status(const http_response& response) {
    if (response.status >= 200 && response.status < 300)
        return {};
    if (response.status == 404)
        return make_error_code(client_errc::http_not_found);
    return make_error_code(client_errc::http_error);
}

} // namespace tablemigrator::replica
