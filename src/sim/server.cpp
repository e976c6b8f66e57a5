// Asio listeners, per-connection protocol sniffing (THFT vs HTTP on one port), the model driver and
// the admin HTTP endpoint (ground truth and fault controls; docs/pegasus-sim.md lists the routes).
#include "sim/server.hpp"

#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <deque>

namespace tablemigrator::sim {

namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string endpoint_info::label() const {
    return std::to_string(cluster) + (role == server_role::meta ? "/meta" : "/replica") +
           std::to_string(index);
}

struct sim_server::listener {
    endpoint_info info;
    bool is_admin = false;
    std::uint16_t port = 0;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::set<std::shared_ptr<connection>> conns;
    std::string label;
};

struct sim_server::connection {
    explicit connection(tcp::socket s)
        : socket(std::move(s)) {}
    tcp::socket socket;
    std::deque<wire::bytes> out;
    bool writing = false;
    void close() {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }
};

namespace {

// co_spawn completion that never swallows a bug: exceptions are logged loudly.
void log_exception(std::exception_ptr e) {
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        spdlog::error("pegasus-sim: coroutine failed: {}", ex.what());
    }
}

} // namespace

sim_server::sim_server(asio::io_context& io, model& m, thft_dispatch dispatch)
    : io_(io)
    , model_(m)
    , dispatch_(std::move(dispatch))
    , start_(std::chrono::steady_clock::now()) {}

sim_server::~sim_server() {
    stop_all();
}

void sim_server::sync_clock() {
    auto elapsed = std::chrono::duration_cast<sim_time>(std::chrono::steady_clock::now() - start_);
    model_.events().advance_to(elapsed);
}

status sim_server::bind(listener& l, std::uint16_t port) {
    auto acc = std::make_unique<tcp::acceptor>(io_);
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
    acc->open(ep.protocol(), ec);
    if (!ec)
        acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acc->bind(ep, ec);
    if (!ec)
        acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return ec;
    l.port = acc->local_endpoint().port();
    l.acceptor = std::move(acc);
    return {};
}

status sim_server::start(std::uint16_t admin_port) {
    auto& clusters = model_.clusters();
    for (std::size_t ci = 0; ci < clusters.size(); ++ci) {
        auto& c = *clusters[ci];
        for (auto role : {server_role::meta, server_role::replica}) {
            auto count = role == server_role::meta ? c.metas.size() : c.nodes.size();
            for (std::size_t i = 0; i < count; ++i) {
                auto l = std::make_shared<listener>();
                l->info = endpoint_info{static_cast<int>(ci), role, static_cast<int>(i)};
                l->label = c.name() + (role == server_role::meta ? "/meta" : "/replica") +
                           std::to_string(i);
                auto want = role == server_role::meta ? c.metas[i].port : c.nodes[i].port;
                if (auto st = bind(*l, want); !st) {
                    spdlog::error("pegasus-sim: cannot bind {} on port {}: {}", l->label, want,
                                  st.error().message());
                    return st;
                }
                if (role == server_role::meta)
                    c.metas[i].port = l->port;
                else
                    c.nodes[i].port = l->port;
                listeners_.push_back(l);
            }
        }
    }
    admin_ = std::make_shared<listener>();
    admin_->is_admin = true;
    admin_->label = "admin";
    if (auto st = bind(*admin_, admin_port); !st)
        return st;
    admin_port_ = admin_->port;
    start_ = std::chrono::steady_clock::now();
    model_.start();
    for (auto& l : listeners_)
        asio::co_spawn(io_, accept_loop(l), log_exception);
    asio::co_spawn(io_, accept_loop(admin_), log_exception);
    driver_timer_ = std::make_unique<asio::steady_timer>(io_);
    asio::co_spawn(io_, drive(), log_exception);
    return {};
}

void sim_server::stop_all() {
    stopped_ = true;
    if (driver_timer_)
        driver_timer_->cancel();
    auto close_l = [](listener& l) {
        boost::system::error_code ignored;
        if (l.acceptor)
            l.acceptor->close(ignored);
        for (auto& c : l.conns)
            c->close();
        l.conns.clear();
    };
    for (auto& l : listeners_)
        close_l(*l);
    if (admin_)
        close_l(*admin_);
}

asio::awaitable<void> sim_server::drive() {
    // Runs model timers on real time. Requests cancel the timer ("kick") so newly scheduled work
    // is picked up; otherwise the driver sleeps until the next due event (at most 1 s).
    while (!stopped_) {
        sync_clock();
        auto next = model_.events().next_due();
        auto wake = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        if (next)
            wake = std::min(
                wake,
                start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(*next));
        driver_timer_->expires_at(wake);
        co_await driver_timer_->async_wait(as_tuple_awaitable);
    }
}

asio::awaitable<void> sim_server::accept_loop(std::shared_ptr<listener> l) {
    auto* acc = l->acceptor.get();
    while (acc && acc->is_open() && l->acceptor.get() == acc) {
        auto [ec, sock] = co_await acc->async_accept(as_tuple_awaitable);
        if (ec)
            break;
        auto c = std::make_shared<connection>(std::move(sock));
        l->conns.insert(c);
        asio::co_spawn(io_, serve(l, c), log_exception);
    }
}

asio::awaitable<void> sim_server::serve(std::shared_ptr<listener> l,
                                        std::shared_ptr<connection> c) {
    wire::bytes first;
    std::array<std::uint8_t, 4096> buf{};
    auto proto = wire::connection_protocol::need_more;
    while (proto == wire::connection_protocol::need_more) {
        auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(buf), as_tuple_awaitable);
        if (ec)
            break;
        first.insert(first.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        proto = wire::sniff_protocol(first);
    }
    if (l->is_admin) {
        if (proto == wire::connection_protocol::http)
            co_await serve_http(l, c, std::move(first), true);
    } else if (proto == wire::connection_protocol::thft) {
        co_await serve_thft(l, c, std::move(first));
    } else if (proto == wire::connection_protocol::http) {
        co_await serve_http(l, c, std::move(first), false);
    }
    // Unknown signature: the real server closes the connection without a reply (§1.1).
    c->close();
    l->conns.erase(c);
}

void sim_server::send(std::shared_ptr<connection> c, wire::bytes data) {
    if (!c->socket.is_open())
        return;
    c->out.push_back(std::move(data));
    if (!c->writing) {
        c->writing = true;
        asio::co_spawn(io_, write_loop(c), log_exception);
    }
}

asio::awaitable<void> sim_server::write_loop(std::shared_ptr<connection> c) {
    while (!c->out.empty()) {
        auto data = std::move(c->out.front());
        c->out.pop_front();
        auto [ec, n] =
            co_await asio::async_write(c->socket, asio::buffer(data), as_tuple_awaitable);
        if (ec) {
            c->out.clear();
            break;
        }
    }
    c->writing = false;
}

asio::awaitable<void> sim_server::serve_thft(std::shared_ptr<listener> l,
                                             std::shared_ptr<connection> c, wire::bytes first) {
    wire::request_decoder decoder;
    decoder.feed(first);
    std::array<std::uint8_t, 16384> buf{};
    for (;;) {
        while (auto f = decoder.next()) {
            if (!*f) {
                // Malformed header: the real server logs and closes without a reply (§1.1).
                spdlog::warn("pegasus-sim {}: malformed request ({}); closing", l->label,
                             f->error().message());
                co_return;
            }
            const auto& frame = **f;
            sync_clock();
            model_.count_request(l->label, frame.name);
            auto& cl = *model_.clusters().at(static_cast<std::size_t>(l->info.cluster));
            auto reply = dispatch_(cl, l->info, frame);
            if (driver_timer_)
                driver_timer_->cancel(); // the request may have scheduled new model work
            if (!reply)
                continue;
            auto it = reply_faults_.find(frame.name);
            if (it != reply_faults_.end() && it->second.drop)
                continue;
            if (it != reply_faults_.end() && it->second.delay.count() > 0) {
                auto timer = std::make_shared<asio::steady_timer>(io_, it->second.delay);
                timer->async_wait(
                    [this, timer, c, r = std::move(*reply)](boost::system::error_code) mutable {
                        send(c, std::move(r));
                    });
                continue;
            }
            send(c, std::move(*reply));
        }
        auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(buf), as_tuple_awaitable);
        if (ec)
            co_return;
        decoder.feed(std::span<const std::uint8_t>(buf.data(), n));
    }
}

asio::awaitable<void> sim_server::serve_http(std::shared_ptr<listener> l,
                                             std::shared_ptr<connection> c, wire::bytes first,
                                             bool admin) {
    boost::beast::flat_buffer buffer;
    auto mb = buffer.prepare(first.size());
    asio::buffer_copy(mb, asio::buffer(first));
    buffer.commit(first.size());
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(c->socket, buffer, req, as_tuple_awaitable);
        if (ec)
            co_return;
        sync_clock();
        http_request hr{std::string(req.method_string()), std::string(req.target())};
        http_reply reply;
        if (admin) {
            reply = admin_http(hr);
        } else {
            auto& cl = *model_.clusters().at(static_cast<std::size_t>(l->info.cluster));
            std::string path(req.target().substr(0, req.target().find('?')));
            model_.count_request(l->label, "HTTP " + path);
            reply = l->info.role == server_role::meta ? meta_http(cl, l->info.index, hr)
                                                      : replica_http(cl, l->info.index, hr);
        }
        if (driver_timer_)
            driver_timer_->cancel();
        http::response<http::string_body> res;
        res.version(req.version());
        res.result(static_cast<unsigned>(reply.status));
        res.set(http::field::content_type, admin ? "application/json" : "text/plain");
        if (!reply.location.empty())
            res.set(http::field::location, reply.location);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(reply.body);
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(c->socket, res, as_tuple_awaitable);
        if (wec || !req.keep_alive())
            co_return;
    }
}

sim_server::listener* sim_server::find(int cluster, server_role role, int index) {
    for (auto& l : listeners_)
        if (l->info.cluster == cluster && l->info.role == role && l->info.index == index)
            return l.get();
    return nullptr;
}

status sim_server::stop_server(int cluster, server_role role, int index) {
    auto* l = find(cluster, role, index);
    if (!l)
        return make_error_code(client_errc::invalid_argument);
    boost::system::error_code ignored;
    if (l->acceptor)
        l->acceptor->close(ignored);
    l->acceptor.reset();
    for (auto& c : l->conns)
        c->close();
    l->conns.clear();
    auto& cl = *model_.clusters().at(static_cast<std::size_t>(cluster));
    if (role == server_role::replica) {
        cl.stop_node(index);
    } else {
        cl.metas.at(static_cast<std::size_t>(index)).alive = false;
        // A surviving meta takes over leadership (a real one after the ZooKeeper session expires).
        if (cl.leader == index)
            for (std::size_t i = 0; i < cl.metas.size(); ++i)
                if (cl.metas[i].alive) {
                    cl.leader = static_cast<int>(i);
                    break;
                }
    }
    return {};
}

status sim_server::restart_server(int cluster, server_role role, int index) {
    auto* l = find(cluster, role, index);
    if (!l)
        return make_error_code(client_errc::invalid_argument);
    if (l->acceptor)
        return {}; // already running
    if (auto st = bind(*l, l->port); !st)
        return st;
    sync_clock();
    auto& cl = *model_.clusters().at(static_cast<std::size_t>(cluster));
    if (role == server_role::replica)
        cl.restart_node(index);
    else
        cl.metas.at(static_cast<std::size_t>(index)).alive = true;
    for (auto& sp : listeners_)
        if (sp.get() == l)
            asio::co_spawn(io_, accept_loop(sp), log_exception);
    if (driver_timer_)
        driver_timer_->cancel();
    return {};
}

void sim_server::close_connections(std::optional<int> cluster) {
    for (auto& l : listeners_) {
        if (cluster && l->info.cluster != *cluster)
            continue;
        for (auto& c : l->conns)
            c->close();
        l->conns.clear();
    }
}

void sim_server::set_reply_fault(const std::string& rpc, std::optional<reply_fault> f) {
    if (f)
        reply_faults_[rpc] = *f;
    else
        reply_faults_.erase(rpc);
}

std::string sim_server::ports_json() const {
    json::object clusters;
    for (const auto& c : model_.clusters()) {
        json::array metas, replicas;
        for (const auto& m : c->metas)
            metas.push_back(m.port);
        for (const auto& n : c->nodes)
            replicas.push_back(n.port);
        clusters[c->name()] = json::object{{"generation", generation_name(c->gen())},
                                           {"meta", std::move(metas)},
                                           {"replica", std::move(replicas)},
                                           {"meta_list", c->meta_list()},
                                           {"leader", c->leader}};
    }
    return json::serialize(json::object{{"admin", admin_port_}, {"clusters", std::move(clusters)}});
}

namespace {

std::int64_t to_ms(sim_time t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

json::object cluster_truth(cluster_state& c) {
    json::object o;
    json::object reqs;
    for (const auto& [k, v] : c.state_changing_requests)
        reqs[k] = v;
    o["state_changing_requests"] = std::move(reqs);
    json::array effects;
    json::object tables;
    auto unix_of = [&](sim_time t) {
        return (c.owner().unix_us() - (c.owner().now() - t).count()) / 1000;
    };
    for (const auto& e : c.env_effects) {
        effects.push_back(json::object{{"table", e.table},
                                       {"node", e.node},
                                       {"value", e.value},
                                       {"at_ms", to_ms(e.at)},
                                       {"unix_ms", e.unix_ms}});
        auto& t = tables[e.table];
        if (!t.is_object())
            t = json::object();
        auto kind = e.value.rfind("reconfig", 0) == 0  ? "reconfig_effective"
                    : e.value.rfind("timeout", 0) == 0 ? "deny_effective"
                                                       : "deny_removed";
        auto& per_node = t.as_object()[kind];
        if (!per_node.is_object())
            per_node = json::object();
        per_node.as_object()[std::to_string(e.node)] = e.unix_ms;
    }
    o["env_effects"] = std::move(effects);
    json::array freezes;
    std::map<std::int32_t, std::pair<bool, std::int64_t>> acked; // app -> (all acked, max unix ms)
    for (const auto& [gpid, f] : c.freezes) {
        auto* t = c.find_table(gpid.first);
        json::object fo{{"app_id", gpid.first},
                        {"partition", gpid.second},
                        {"table", t ? t->name : std::string()},
                        {"last_decree", f.last_decree},
                        {"frozen_at_ms", to_ms(f.frozen_at)},
                        {"frozen_unix_ms", unix_of(f.frozen_at)}};
        fo["acked_at_ms"] = f.acked_at ? json::value(to_ms(*f.acked_at)) : json::value(nullptr);
        fo["acked_unix_ms"] =
            f.acked_unix_ms ? json::value(*f.acked_unix_ms) : json::value(nullptr);
        freezes.push_back(std::move(fo));
        auto& a = acked.try_emplace(gpid.first, true, 0).first->second;
        a.first = a.first && f.acked_unix_ms.has_value();
        if (f.acked_unix_ms)
            a.second = std::max(a.second, *f.acked_unix_ms);
    }
    for (const auto& [app, a] : acked) {
        auto* t = c.find_table(app);
        if (!t)
            continue;
        auto& to = tables[t->name];
        if (!to.is_object())
            to = json::object();
        to.as_object()["last_mutation_acked_unix_ms"] =
            a.first ? json::value(a.second) : json::value(nullptr);
    }
    o["freezes"] = std::move(freezes);
    o["tables"] = std::move(tables);
    json::array violations;
    for (const auto& v : c.routing_violations)
        violations.push_back(json::string(v));
    o["routing_violations"] = std::move(violations);
    return o;
}

json::object cluster_state_json(cluster_state& c) {
    json::object tables;
    for (const auto& [id, t] : c.tables) {
        json::array parts;
        for (const auto& p : t.partitions)
            parts.push_back(json::object{{"index", p.index},
                                         {"primary", p.primary},
                                         {"last_committed", p.last_committed},
                                         {"empty_writes", p.empty_writes},
                                         {"keys", p.data.size()}});
        json::object envs;
        for (const auto& [k, v] : t.envs)
            envs[k] = v;
        tables[t.name] = json::object{
            {"app_id", id}, {"partitions", std::move(parts)}, {"envs", std::move(envs)}};
    }
    json::array dups;
    for (const auto& [dupid, d] : c.dups) {
        json::array parts;
        for (const auto& p : d.partitions)
            parts.push_back(json::object{{"confirmed", p.confirmed},
                                         {"meta_confirmed", p.meta_confirmed},
                                         {"shipped_rpcs", p.shipped_rpcs}});
        dups.push_back(json::object{{"dupid", dupid},
                                    {"app_id", d.app_id},
                                    {"status", dup_status_name(d.status)},
                                    {"remote", d.remote_cluster},
                                    {"partitions", std::move(parts)}});
    }
    json::array nodes;
    for (const auto& n : c.nodes)
        nodes.push_back(json::object{{"port", n.port},
                                     {"alive", n.alive},
                                     {"config_sync_interval_ms", to_ms(n.config_sync_interval)},
                                     {"config_syncs", n.config_syncs}});
    return json::object{{"name", c.name()},
                        {"generation", generation_name(c.gen())},
                        {"leader", c.leader},
                        {"tables", std::move(tables)},
                        {"duplications", std::move(dups)},
                        {"nodes", std::move(nodes)}};
}

} // namespace

http_reply sim_server::admin_http(const http_request& req) {
    std::string path;
    std::vector<std::pair<std::string, std::string>> params;
    if (!parse_http_target(req.target, path, params))
        return {400, R"({"error":"duplicate parameter"})", {}};
    auto param = [&](std::string_view k) -> std::optional<std::string> {
        for (const auto& [pk, pv] : params)
            if (pk == k)
                return pv;
        return std::nullopt;
    };
    auto err = [](int code, std::string msg) {
        return http_reply{code, json::serialize(json::object{{"error", msg}}), {}};
    };
    auto ok = [] { return http_reply{200, R"({"result":"ok"})", {}}; };
    // Cluster by name (or index); all clusters when absent and allowed.
    auto cluster_idx = [&]() -> std::optional<int> {
        auto name = param("cluster");
        if (!name)
            return std::nullopt;
        auto& cs = model_.clusters();
        for (std::size_t i = 0; i < cs.size(); ++i)
            if (cs[i]->name() == *name)
                return static_cast<int>(i);
        return -1;
    };
    auto ci = cluster_idx();
    if (ci && *ci < 0)
        return err(404, "unknown cluster");
    if (path == "/ports")
        return {200, ports_json(), {}};
    if (path == "/truth" || path == "/state") {
        json::object o;
        for (std::size_t i = 0; i < model_.clusters().size(); ++i) {
            if (ci && *ci != static_cast<int>(i))
                continue;
            auto& c = *model_.clusters()[i];
            o[c.name()] = path == "/truth" ? cluster_truth(c) : cluster_state_json(c);
        }
        return {200, json::serialize(o), {}};
    }
    if (path == "/requests") {
        json::object o;
        auto server = param("server");
        for (const auto& [label, per_sec] : model_.request_counts()) {
            if (server && *server != label)
                continue;
            json::object secs;
            for (const auto& [sec, rpcs] : per_sec) {
                json::object r;
                for (const auto& [name, n] : rpcs)
                    r[name] = n;
                secs[std::to_string(sec)] = std::move(r);
            }
            o[label] = std::move(secs);
        }
        return {200, json::serialize(o), {}};
    }
    auto role_index = [&](server_role& role, int& index) -> bool {
        auto r = param("role");
        auto i = param("index");
        if (!r || !i || !ci)
            return false;
        if (*r == "meta")
            role = server_role::meta;
        else if (*r == "replica")
            role = server_role::replica;
        else
            return false;
        try {
            index = std::stoi(*i);
        } catch (...) {
            return false;
        }
        return true;
    };
    if (path == "/fault/stop" || path == "/fault/restart") {
        server_role role{};
        int index = 0;
        if (!role_index(role, index))
            return err(400, "need cluster, role=meta|replica and index");
        sync_clock();
        auto st = path == "/fault/stop" ? stop_server(*ci, role, index)
                                        : restart_server(*ci, role, index);
        if (!st)
            return err(400, st.error().message());
        return ok();
    }
    if (path == "/fault/leader") {
        auto i = param("index");
        if (!ci || !i)
            return err(400, "need cluster and index");
        auto& c = *model_.clusters()[static_cast<std::size_t>(*ci)];
        int idx = std::atoi(i->c_str());
        if (idx < 0 || idx >= static_cast<int>(c.metas.size()))
            return err(400, "bad index");
        c.leader = idx;
        return ok();
    }
    if (path == "/fault/shipping") {
        if (!ci)
            return err(400, "need cluster");
        auto& c = *model_.clusters()[static_cast<std::size_t>(*ci)];
        if (auto s = param("stall"))
            c.fault.stall_shipping = *s == "true";
        if (auto s = param("slowdown"))
            c.fault.shipping_slowdown = std::max(1e-3, std::atof(s->c_str()));
        return ok();
    }
    if (path == "/fault/env_delay") {
        auto ms = param("ms");
        if (!ci || !ms)
            return err(400, "need cluster and ms");
        model_.clusters()[static_cast<std::size_t>(*ci)]->fault.env_propagation_delay =
            std::chrono::milliseconds(std::atoll(ms->c_str()));
        return ok();
    }
    if (path == "/fault/reply") {
        auto rpc = param("rpc");
        if (!rpc)
            return err(400, "need rpc");
        if (param("clear")) {
            set_reply_fault(*rpc, std::nullopt);
            return ok();
        }
        reply_fault f;
        if (auto d = param("delay_ms"))
            f.delay = std::chrono::milliseconds(std::atoll(d->c_str()));
        if (auto d = param("drop"))
            f.drop = *d == "true";
        set_reply_fault(*rpc, f);
        return ok();
    }
    if (path == "/fault/close_connections") {
        close_connections(ci);
        return ok();
    }
    return err(404, "unknown admin path " + path);
}

} // namespace tablemigrator::sim
