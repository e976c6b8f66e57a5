// The Asio side of pegasus-sim: one listener per simulated meta/replica server (THFT and HTTP
// sniffed on the same port, §1.1), an admin HTTP listener, the driver that runs the model's timers
// on real time, and the fault switches (stop/restart servers, delay/drop replies, close
// connections).
#pragma once

#include "sim/model.hpp"
#include "sim/replica_service.hpp"

#include <tablemigrator/wire/frame.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace tablemigrator::sim {

namespace asio = boost::asio;

enum class server_role { meta, replica };

// One simulated server process (a meta or a replica node).
struct endpoint_info {
    int cluster = 0;
    server_role role = server_role::meta;
    int index = 0;
    std::string label() const; // e.g. "src/replica1"
};

// What a THFT request produces: reply bytes, or nothing (dropped: no reply at all).
using thft_dispatch = std::function<std::optional<wire::bytes>(cluster_state&, const endpoint_info&,
                                                               const wire::request_frame&)>;

struct reply_fault {
    std::chrono::milliseconds delay{0};
    bool drop = false;
};

class sim_server {
public:
    // `dispatch` handles THFT requests (meta and replica RPCs); HTTP goes to
    // replica_http/meta_http.
    sim_server(asio::io_context& io, model& m, thft_dispatch dispatch);
    ~sim_server();
    sim_server(const sim_server&) = delete;
    sim_server& operator=(const sim_server&) = delete;

    // Binds every listener (port 0 = any), fills the model's ports, starts the model and the
    // driver. Errors: the bind error (e.g. address in use).
    status start(std::uint16_t admin_port);
    void stop_all();

    std::uint16_t admin_port() const noexcept { return admin_port_; }
    std::string ports_json() const;

    // Fault controls (also reachable through the admin endpoint).
    status stop_server(int cluster, server_role role, int index);
    status restart_server(int cluster, server_role role, int index);
    void close_connections(std::optional<int> cluster);
    void set_reply_fault(const std::string& rpc, std::optional<reply_fault> f);

    // Runs due model timers now (requests call this before touching the model).
    void sync_clock();

private:
    struct listener;
    struct connection;

    asio::awaitable<void> accept_loop(std::shared_ptr<listener> l);
    asio::awaitable<void> serve(std::shared_ptr<listener> l, std::shared_ptr<connection> c);
    asio::awaitable<void> serve_thft(std::shared_ptr<listener> l, std::shared_ptr<connection> c,
                                     wire::bytes first);
    asio::awaitable<void> serve_http(std::shared_ptr<listener> l, std::shared_ptr<connection> c,
                                     wire::bytes first, bool admin);
    asio::awaitable<void> drive();
    void send(std::shared_ptr<connection> c, wire::bytes data);
    asio::awaitable<void> write_loop(std::shared_ptr<connection> c);
    status bind(listener& l, std::uint16_t port);
    listener* find(int cluster, server_role role, int index);
    http_reply admin_http(const http_request& req);

    asio::io_context& io_;
    model& model_;
    thft_dispatch dispatch_;
    std::vector<std::shared_ptr<listener>> listeners_;
    std::shared_ptr<listener> admin_;
    std::uint16_t admin_port_ = 0;
    std::map<std::string, reply_fault> reply_faults_;
    std::chrono::steady_clock::time_point start_;
    std::unique_ptr<asio::steady_timer> driver_timer_;
    bool stopped_ = false;
};

} // namespace tablemigrator::sim
