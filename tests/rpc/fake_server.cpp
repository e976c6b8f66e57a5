// fake_server: callback-style Asio (not coroutines) so that tests can drive it from handlers
// with no extra scheduling; everything runs on the test's single io_context thread.
#include "fake_server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>

#include <doctest/doctest.h>

namespace tablemigrator::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void fake_connection::send(wire::bytes b) {
    out_.push_back(std::move(b));
    write_next();
}

void fake_connection::reply_echo(const wire::request_frame& r) {
    const std::span<const std::uint8_t> args(r.body.data() + r.args_offset,
                                             r.body.size() - r.args_offset);
    send(wire::encode_response("ERR_OK", r.name + "_ACK", r.seqid, args));
}

void fake_connection::reply_error(const wire::request_frame& r, std::string_view error_name) {
    send(wire::encode_error_response(error_name, r.name + "_ACK", r.seqid));
}

void fake_connection::close_after_writes() {
    close_when_done_ = true;
    write_next();
}

void fake_connection::reset() {
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
    out_.clear();
}

void fake_connection::write_next() {
    if (writing_ || !socket_.is_open())
        return;
    if (out_.empty()) {
        if (close_when_done_) {
            boost::system::error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
        }
        return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self](boost::system::error_code ec, std::size_t) {
                          self->writing_ = false;
                          if (ec)
                              return;
                          self->out_.pop_front();
                          self->write_next();
                      });
}

fake_server::fake_server(asio::io_context& io)
    : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    on_request = [](fake_request r) { r.conn->reply_echo(r.frame); };
    accept_next();
}

fake_server::~fake_server() {
    *alive_ = false;
    stop();
}

rpc::endpoint fake_server::endpoint() const {
    return {"127.0.0.1", acceptor_.local_endpoint().port()};
}

void fake_server::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& w : conns_)
        if (auto c = w.lock())
            c->socket().close(ignored);
}

void fake_server::accept_next() {
    acceptor_.async_accept([this, alive = alive_](boost::system::error_code ec, tcp::socket s) {
        if (!*alive || ec)
            return;
        ++accepted_;
        auto c = std::make_shared<fake_connection>(std::move(s));
        conns_.push_back(c);
        read_from(c, std::make_shared<wire::request_decoder>(),
                  std::make_shared<std::vector<std::uint8_t>>(4096));
        accept_next();
    });
}

void fake_server::read_from(std::shared_ptr<fake_connection> c,
                            std::shared_ptr<wire::request_decoder> d,
                            std::shared_ptr<std::vector<std::uint8_t>> buf) {
    c->socket().async_read_some(
        asio::buffer(*buf),
        [this, alive = alive_, c, d, buf](boost::system::error_code ec, std::size_t n) {
            if (!*alive)
                return;
            if (ec) {
                ++ended_;
                return;
            }
            d->feed(std::span<const std::uint8_t>(buf->data(), n));
            while (auto f = d->next()) {
                REQUIRE_MESSAGE(f->has_value(), "fake_server: client sent an undecodable frame");
                requests_.push_back(**f);
                on_request(fake_request{std::move(**f), c});
            }
            if (c->open())
                read_from(c, d, buf);
            else
                ++ended_;
        });
}

} // namespace tablemigrator::test
