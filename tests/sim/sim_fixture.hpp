// Test support for pegasus-sim component tests: the simulation runs on its own io_context thread
// (127.0.0.1, port 0); tests talk to it with blocking sockets whose reads time out (5 s), so a
// missing reply fails the test instead of hanging it.
#pragma once

#include "sim/simulation.hpp"

#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <future>
#include <thread>

namespace tablemigrator::sim::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class sim_fixture {
public:
    explicit sim_fixture(sim_config cfg)
        : sim_(io_, std::move(cfg)) {
        auto st = sim_.start();
        REQUIRE(st.has_value());
        thread_ = std::thread([this] { io_.run(); });
    }
    ~sim_fixture() {
        asio::post(io_, [this] {
            sim_.stop();
            io_.stop();
        });
        thread_.join();
    }
    sim_fixture(const sim_fixture&) = delete;
    sim_fixture& operator=(const sim_fixture&) = delete;

    // Runs f on the simulation's thread (the model is single-threaded) and returns its result.
    template <class F>
    auto on_sim(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io_, [&task] { task(); });
        REQUIRE(fut.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        return fut.get();
    }

    std::uint16_t meta_port(const std::string& cluster, int i = 0) {
        return on_sim(
            [&] { return sim_.cluster(cluster).metas.at(static_cast<std::size_t>(i)).port; });
    }
    std::uint16_t replica_port(const std::string& cluster, int i) {
        return on_sim(
            [&] { return sim_.cluster(cluster).nodes.at(static_cast<std::size_t>(i)).port; });
    }
    std::uint16_t admin_port() {
        return on_sim([&] { return sim_.server().admin_port(); });
    }
    simulation& sim() { return sim_; }

    // Polls cond (on the sim thread) until true or the deadline; false on deadline.
    template <class F>
    bool eventually(F cond, std::chrono::milliseconds deadline = std::chrono::seconds(15)) {
        auto until = std::chrono::steady_clock::now() + deadline;
        while (std::chrono::steady_clock::now() < until) {
            if (on_sim(cond))
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

private:
    asio::io_context io_;
    simulation sim_;
    std::thread thread_;
};

// A blocking client connection with a receive timeout.
class client {
public:
    explicit client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
        : socket_(io_) {
        boost::system::error_code ec;
        socket_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), ec);
        connected_ = !ec;
        set_timeout(timeout);
    }
    bool connected() const { return connected_; }
    void set_timeout(std::chrono::milliseconds t) {
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(t.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    bool send(const wire::bytes& b) {
        boost::system::error_code ec;
        asio::write(socket_, asio::buffer(b), ec);
        return !ec;
    }
    // Reads one response frame; an error on timeout or close.
    result<wire::response_frame> receive() {
        std::uint8_t len_buf[4];
        boost::system::error_code ec;
        asio::read(socket_, asio::buffer(len_buf), ec);
        if (ec)
            return ec;
        std::uint32_t len = (std::uint32_t{len_buf[0]} << 24) | (std::uint32_t{len_buf[1]} << 16) |
                            (std::uint32_t{len_buf[2]} << 8) | len_buf[3];
        wire::bytes frame(len_buf, len_buf + 4);
        frame.resize(len);
        asio::read(socket_, asio::buffer(frame.data() + 4, len - 4), ec);
        if (ec)
            return ec;
        return wire::decode_response_frame(frame);
    }
    template <class Req>
    result<wire::response_frame> call(std::string_view name, const Req& req,
                                      wire::request_header h = {}) {
        if (!send(wire::encode_call(h, name, ++seqid_, req)))
            return make_error_code(client_errc::connection_closed);
        return receive();
    }
    template <class Resp, class Req>
    Resp call_typed(std::string_view name, const Req& req, wire::request_header h = {}) {
        auto f = call(name, req, h);
        REQUIRE(f.has_value());
        auto r = wire::decode_reply<Resp>(*f);
        REQUIRE(r.has_value());
        return *r;
    }
    std::string command(const std::string& cmd, std::vector<std::string> args = {}) {
        idl::command c;
        c.cmd = cmd;
        c.arguments = std::move(args);
        auto f = call("RPC_CLI_CLI_CALL", c);
        REQUIRE(f.has_value());
        auto s = wire::decode_string_reply(*f);
        REQUIRE(s.has_value());
        return *s;
    }
    // One HTTP/1.1 GET on this connection: returns (status, body).
    std::pair<int, std::string> http_get(const std::string& target) {
        std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        boost::system::error_code ec;
        asio::write(socket_, asio::buffer(req), ec);
        REQUIRE_FALSE(ec);
        std::string data;
        char buf[4096];
        for (;;) {
            auto hdr_end = data.find("\r\n\r\n");
            if (hdr_end != std::string::npos) {
                auto cl = data.find("Content-Length: ");
                REQUIRE(cl != std::string::npos);
                auto len = std::stoul(data.substr(cl + 16));
                if (data.size() >= hdr_end + 4 + len) {
                    int status = std::stoi(data.substr(9, 3));
                    return {status, data.substr(hdr_end + 4, len)};
                }
            }
            auto n = socket_.read_some(asio::buffer(buf), ec);
            REQUIRE_FALSE(ec);
            data.append(buf, n);
        }
    }
    std::int32_t last_seqid() const { return seqid_; }
    std::int32_t next_seqid() { return ++seqid_; }

private:
    asio::io_context io_;
    tcp::socket socket_;
    bool connected_ = false;
    std::int32_t seqid_ = 0;
};

} // namespace tablemigrator::sim::test
