// A loopback fake Pegasus server on 127.0.0.1:0 built on the wire module's server half: THFT
// requests go to a handler that returns the reply frame bytes (or nothing: no reply at all), and
// connections that start with "GET " are served by an optional HTTP handler, as a real server
// sniffs the first four bytes of each connection (pegasus-protocol.md §1.1).
#pragma once

#include "fake_http.hpp"

#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/wire/frame.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tmtest {

class fake_server {
public:
    using thft_handler = std::function<std::optional<tablemigrator::wire::bytes>(
        const tablemigrator::wire::request_frame&)>;
    using http_handler = fake_http_server::handler;

    fake_server(boost::asio::io_context& io, thft_handler thft, http_handler http = {});
    ~fake_server();

    std::uint16_t port() const;
    tablemigrator::rpc::endpoint endpoint() const;
    // Requests received per RPC name, and in total.
    int requests(const std::string& name) const;
    int requests() const;
    const std::vector<tablemigrator::wire::request_frame>& received() const;
    // Stops accepting and closes every connection: the server is "down" from now on.
    void shut_down();

    struct state;

private:
    std::shared_ptr<state> state_;
};

// A port on 127.0.0.1 with nothing listening (bound, then closed).
std::uint16_t unused_port(boost::asio::io_context& io);

} // namespace tmtest
