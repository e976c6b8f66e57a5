// The fake HTTP responder. Its coroutines share the state through a shared_ptr so that the
// io_context may be torn down with them still suspended.
#include "fake_http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <list>

namespace tmtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

struct fake_http_server::state {
    explicit state(asio::io_context& io, handler h)
        : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))
        , on_request(std::move(h)) {}
    tcp::acceptor acceptor;
    handler on_request;
    int accepted = 0;
    std::vector<std::string> targets;
    std::list<std::weak_ptr<beast::tcp_stream>> streams;
};

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve(std::shared_ptr<fake_http_server::state> s,
                            std::shared_ptr<beast::tcp_stream> stream) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(*stream, buffer, req, use_tuple);
        if (ec)
            co_return;
        const std::string target(req.target());
        s->targets.push_back(target);
        auto reply = s->on_request(target);
        if (reply.close_now) {
            stream->socket().close();
            co_return;
        }
        if (reply.hang) {
            // Wait until the client gives up (its close ends this read) or the test ends.
            char byte = 0;
            co_await stream->async_read_some(asio::buffer(&byte, 1), use_tuple);
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
        res.set(http::field::content_type, "text/plain");
        res.keep_alive(reply.keep_alive);
        res.body() = reply.body;
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(*stream, res, use_tuple);
        if (wec || !reply.keep_alive) {
            stream->socket().close();
            co_return;
        }
    }
}

asio::awaitable<void> accept_loop(std::shared_ptr<fake_http_server::state> s) {
    for (;;) {
        auto [ec, sock] = co_await s->acceptor.async_accept(use_tuple);
        if (ec)
            co_return;
        ++s->accepted;
        auto stream = std::make_shared<beast::tcp_stream>(std::move(sock));
        s->streams.push_back(stream);
        asio::co_spawn(s->acceptor.get_executor(), serve(s, stream), asio::detached);
    }
}

} // namespace

fake_http_server::fake_http_server(asio::io_context& io, handler h)
    : state_(std::make_shared<state>(io, std::move(h))) {
    asio::co_spawn(io, accept_loop(state_), asio::detached);
}

fake_http_server::~fake_http_server() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    drop_connections();
}

std::uint16_t fake_http_server::port() const {
    return state_->acceptor.local_endpoint().port();
}
int fake_http_server::connections_accepted() const {
    return state_->accepted;
}
const std::vector<std::string>& fake_http_server::targets() const {
    return state_->targets;
}

void fake_http_server::drop_connections() {
    for (auto& w : state_->streams)
        if (auto s = w.lock()) {
            boost::system::error_code ignored;
            s->socket().shutdown(tcp::socket::shutdown_both, ignored);
            s->socket().close(ignored);
        }
    state_->streams.clear();
}

} // namespace tmtest
