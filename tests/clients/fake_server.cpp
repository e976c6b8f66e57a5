// The fake Pegasus server: THFT via wire::request_decoder, HTTP via Beast on sniffed connections.
#include "fake_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <cstring>
#include <list>

namespace tmtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace wire = tablemigrator::wire;
using asio::ip::tcp;

struct fake_server::state {
    state(asio::io_context& io, thft_handler t, http_handler h)
        : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))
        , on_thft(std::move(t))
        , on_http(std::move(h)) {}
    tcp::acceptor acceptor;
    thft_handler on_thft;
    http_handler on_http;
    std::map<std::string, int> counts;
    int total = 0;
    std::vector<wire::request_frame> received;
    std::list<std::weak_ptr<tcp::socket>> sockets;
    bool down = false;
};

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve_http(std::shared_ptr<fake_server::state> s,
                                 std::shared_ptr<tcp::socket> sock,
                                 std::array<std::uint8_t, 4> first) {
    beast::flat_buffer buffer;
    auto dst = buffer.prepare(first.size());
    std::memcpy(dst.data(), first.data(), first.size());
    buffer.commit(first.size());
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(*sock, buffer, req, use_tuple);
        if (ec)
            co_return;
        auto reply = s->on_http ? s->on_http(std::string(req.target()))
                                : fake_http_reply{404, "no http here"};
        if (reply.close_now || reply.hang) {
            if (reply.close_now)
                sock->close();
            else {
                char byte = 0;
                co_await sock->async_read_some(asio::buffer(&byte, 1), use_tuple);
            }
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
        res.set(http::field::content_type, "text/plain");
        res.keep_alive(reply.keep_alive);
        res.body() = reply.body;
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(*sock, res, use_tuple);
        if (wec || !reply.keep_alive)
            co_return;
    }
}

asio::awaitable<void> serve_thft(std::shared_ptr<fake_server::state> s,
                                 std::shared_ptr<tcp::socket> sock,
                                 std::array<std::uint8_t, 4> first) {
    wire::request_decoder decoder;
    decoder.feed(first);
    std::array<std::uint8_t, 4096> buf{};
    for (;;) {
        while (auto next = decoder.next()) {
            if (!*next)
                co_return; // invalid input: close without a reply, like rDSN
            auto& frame = **next;
            if (s->down)
                co_return;
            ++s->counts[frame.name];
            ++s->total;
            s->received.push_back(frame);
            if (auto reply = s->on_thft(frame)) {
                auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(*reply), use_tuple);
                if (wec)
                    co_return;
            }
        }
        auto [ec, n] = co_await sock->async_read_some(asio::buffer(buf), use_tuple);
        if (ec)
            co_return;
        decoder.feed(std::span(buf.data(), n));
    }
}

asio::awaitable<void> serve(std::shared_ptr<fake_server::state> s,
                            std::shared_ptr<tcp::socket> sock) {
    std::array<std::uint8_t, 4> first{};
    auto [ec, n] = co_await asio::async_read(*sock, asio::buffer(first), use_tuple);
    if (ec)
        co_return;
    // Awaitables are named first: g++ 12 mishandles class-type temporaries in co_await.
    if (wire::sniff_protocol(first) == wire::connection_protocol::http) {
        auto op = serve_http(s, sock, first);
        co_await std::move(op);
    } else {
        auto op = serve_thft(s, sock, first);
        co_await std::move(op);
    }
}

asio::awaitable<void> accept_loop(std::shared_ptr<fake_server::state> s) {
    for (;;) {
        auto [ec, sock] = co_await s->acceptor.async_accept(use_tuple);
        if (ec)
            co_return;
        auto shared = std::make_shared<tcp::socket>(std::move(sock));
        s->sockets.push_back(shared);
        asio::co_spawn(s->acceptor.get_executor(), serve(s, shared), asio::detached);
    }
}

} // namespace

fake_server::fake_server(asio::io_context& io, thft_handler thft, http_handler http)
    : state_(std::make_shared<state>(io, std::move(thft), std::move(http))) {
    asio::co_spawn(io, accept_loop(state_), asio::detached);
}

fake_server::~fake_server() {
    shut_down();
}

std::uint16_t fake_server::port() const {
    return state_->acceptor.is_open() ? state_->acceptor.local_endpoint().port() : 0;
}

tablemigrator::rpc::endpoint fake_server::endpoint() const {
    return {"127.0.0.1", port()};
}

int fake_server::requests(const std::string& name) const {
    auto it = state_->counts.find(name);
    return it == state_->counts.end() ? 0 : it->second;
}

int fake_server::requests() const {
    return state_->total;
}

const std::vector<wire::request_frame>& fake_server::received() const {
    return state_->received;
}

void fake_server::shut_down() {
    state_->down = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& w : state_->sockets)
        if (auto s = w.lock()) {
            s->shutdown(tcp::socket::shutdown_both, ignored);
            s->close(ignored);
        }
    state_->sockets.clear();
}

std::uint16_t unused_port(asio::io_context& io) {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

} // namespace tmtest
