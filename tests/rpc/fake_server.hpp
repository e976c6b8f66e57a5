// A loopback THFT server for rpc tests, built on wire::request_decoder and wire::encode_response
// (no second codec). Each decoded request goes to a test-supplied handler that decides what the
// connection does: reply now, hold the request and reply later, send raw bytes, close or reset.
#pragma once

#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/wire/frame.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace tablemigrator::test {

class fake_connection : public std::enable_shared_from_this<fake_connection> {
public:
    explicit fake_connection(boost::asio::ip::tcp::socket s)
        : socket_(std::move(s)) {}

    // Queues raw bytes (written in order).
    void send(wire::bytes b);
    // ERR_OK reply whose result field 0 carries the request's args wrapper (so the client can
    // recognise its own request in the payload).
    void reply_echo(const wire::request_frame& r);
    void reply_error(const wire::request_frame& r, std::string_view error_name);
    // Graceful close after pending writes; reset() sends RST at once (SO_LINGER 0).
    void close_after_writes();
    void reset();
    bool open() const { return socket_.is_open(); }

    boost::asio::ip::tcp::socket& socket() { return socket_; }

private:
    void write_next();
    boost::asio::ip::tcp::socket socket_;
    std::deque<wire::bytes> out_;
    bool writing_ = false;
    bool close_when_done_ = false;
};

struct fake_request {
    wire::request_frame frame;
    std::shared_ptr<fake_connection> conn;
};

class fake_server {
public:
    // Binds 127.0.0.1 on an ephemeral port and starts accepting.
    explicit fake_server(boost::asio::io_context& io);
    ~fake_server();

    rpc::endpoint endpoint() const;
    // Called for every decoded request. Default: reply_echo.
    std::function<void(fake_request)> on_request;

    std::size_t connections_accepted() const { return accepted_; }
    // Connections whose peer closed (EOF or error seen by the server's reader).
    std::size_t connections_ended() const { return ended_; }
    const std::vector<wire::request_frame>& requests() const { return requests_; }
    // Stops accepting and closes every connection.
    void stop();

private:
    void accept_next();
    void read_from(std::shared_ptr<fake_connection> c, std::shared_ptr<wire::request_decoder> d,
                   std::shared_ptr<std::vector<std::uint8_t>> buf);

    boost::asio::ip::tcp::acceptor acceptor_;
    std::vector<std::weak_ptr<fake_connection>> conns_;
    std::vector<wire::request_frame> requests_;
    std::size_t accepted_ = 0;
    std::size_t ended_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace tablemigrator::test
