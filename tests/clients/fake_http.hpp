// A tiny Beast HTTP/1.1 responder on 127.0.0.1:0 for client tests: a handler maps each request
// target to a status and body, or tells the server to hang (never answer) or to close at once.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tmtest {

struct fake_http_reply {
    unsigned status = 200;
    std::string body;
    bool hang = false;      // read the request, never answer
    bool close_now = false; // close the connection without answering
    bool keep_alive = true; // false: answer with "Connection: close" and close
};

class fake_http_server {
public:
    using handler = std::function<fake_http_reply(const std::string& target)>;

    fake_http_server(boost::asio::io_context& io, handler h);
    ~fake_http_server();

    std::uint16_t port() const;
    int connections_accepted() const;
    const std::vector<std::string>& targets() const; // every request target, in arrival order
    // Closes every open connection (keep-alive ones included) and keeps accepting.
    void drop_connections();

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace tmtest
