// table_resolver: ZooKeeper proxy entry -> meta list -> query_config -> table_route.
#include "load/resolver.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/key.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace tablemigrator::load {

namespace asio = boost::asio;

result<proxy_entry> parse_proxy_entry(std::string_view json_text, std::string* why) {
    auto bad = [why](std::string what) -> result<proxy_entry> {
        if (why)
            *why = std::move(what);
        return make_error_code(client_errc::bad_json);
    };
    boost::system::error_code ec;
    auto v = boost::json::parse(json_text, ec);
    if (ec)
        return bad("not JSON: " + ec.message());
    const auto* obj = v.if_object();
    if (!obj)
        return bad("not a JSON object");
    const auto* name = obj->if_contains("cluster_name");
    const auto* addrs = obj->if_contains("meta_addrs");
    if (!name || !name->is_string())
        return bad("missing string field cluster_name");
    if (!addrs || !addrs->is_string())
        return bad("missing string field meta_addrs");
    proxy_entry e{std::string(name->as_string()), std::string(addrs->as_string())};
    if (auto list = rpc::parse_endpoint_list(e.meta_addrs); !list)
        return bad("meta_addrs is not a host:port list: '" + e.meta_addrs + "'");
    return e;
}

result<key_target> table_route::for_hash_key(std::string_view hash_key) const {
    const auto hash = wire::crc64(hash_key);
    auto t = for_partition(wire::partition_index(hash, partition_count));
    if (t)
        t->partition_hash = hash;
    return t;
}

result<key_target> table_route::for_partition(std::int32_t partition_index) const {
    if (partition_index < 0 || partition_index >= partition_count ||
        static_cast<std::size_t>(partition_index) >= primaries.size())
        return make_error_code(client_errc::invalid_argument);
    const auto& p = primaries[static_cast<std::size_t>(partition_index)];
    if (!p)
        return make_error_code(rdsn_errc::ERR_INVALID_STATE);
    key_target t;
    t.primary = *p;
    t.app_id = app_id;
    t.partition_index = partition_index;
    t.thread_hash = wire::thread_hash(app_id, partition_index);
    t.partition_hash = static_cast<std::uint64_t>(partition_index);
    return t;
}

result<table_route> make_route(std::string table, std::string cluster, std::string meta_addrs,
                               const meta::table_config& cfg) {
    if (cfg.partition_count < 1 || cfg.app_id <= 0)
        return make_error_code(client_errc::unexpected_reply);
    table_route r;
    r.table = std::move(table);
    r.cluster = std::move(cluster);
    r.meta_addrs = std::move(meta_addrs);
    r.app_id = cfg.app_id;
    r.partition_count = cfg.partition_count;
    r.primaries.resize(static_cast<std::size_t>(cfg.partition_count));
    std::vector<bool> seen(r.primaries.size(), false);
    for (const auto& p : cfg.partitions) {
        if (p.partition_index < 0 || p.partition_index >= cfg.partition_count)
            return make_error_code(client_errc::unexpected_reply);
        const auto i = static_cast<std::size_t>(p.partition_index);
        seen[i] = true;
        // A partition whose ballot is not positive is not ready (split child, data-plane §5.4).
        if (p.ballot > 0)
            r.primaries[i] = p.primary;
    }
    for (bool s : seen)
        if (!s)
            return make_error_code(client_errc::unexpected_reply);
    return r;
}

table_resolver::table_resolver(rpc::session_pool& pool, zk_source zk, resolver_options options)
    : pool_(pool)
    , zk_(std::move(zk))
    , options_(options) {}

table_resolver::table_resolver(rpc::session_pool& pool, std::vector<rpc::endpoint> metas,
                               resolver_options options)
    : pool_(pool)
    , direct_metas_(std::move(metas))
    , options_(options) {}

table_resolver::~table_resolver() {
    close();
}

void table_resolver::close() {
    if (zk_client_) {
        zk_client_->close();
        zk_client_.reset();
    }
}

meta::meta_client& table_resolver::meta_for(const std::string& meta_addrs,
                                            const std::vector<rpc::endpoint>& metas) {
    auto it = metas_.find(meta_addrs);
    if (it == metas_.end())
        it = metas_
                 .emplace(meta_addrs,
                          std::make_unique<meta::meta_client>(pool_, metas, options_.meta))
                 .first;
    return *it->second;
}

asio::awaitable<result<std::shared_ptr<zk::client>>> table_resolver::zk_session() {
    if (zk_client_) {
        auto st = zk_client_->state();
        if (st != zk::session_state::expired && st != zk::session_state::auth_failed &&
            st != zk::session_state::closed)
            co_return zk_client_;
        spdlog::warn("pegasus-load: ZooKeeper session {}, opening a new one", zk::to_string(st));
        auto old = std::move(zk_client_);
        old->close();
    }
    auto ex = co_await asio::this_coro::executor;
    auto op = zk::client::connect(ex, zk_->hosts, zk_->connect);
    auto c = co_await std::move(op);
    if (!c)
        co_return c.error();
    // Another resolve may have connected meanwhile: keep the first session.
    if (zk_client_) {
        (*c)->close();
        co_return zk_client_;
    }
    zk_client_ = *c;
    co_return zk_client_;
}

asio::awaitable<result<proxy_entry>> table_resolver::lookup(std::string table) {
    if (!zk_)
        co_return make_error_code(client_errc::invalid_argument);
    auto session_op = zk_session();
    auto session = co_await std::move(session_op);
    if (!session)
        co_return session.error();
    std::string path = zk_->root;
    if (path.empty() || path.back() != '/')
        path += '/';
    path += table;
    auto get_op = (*session)->get(path);
    auto node = co_await std::move(get_op);
    if (!node) {
        spdlog::debug("pegasus-load: ZooKeeper get {}: {}", path, node.error().message());
        co_return node.error();
    }
    std::string why;
    auto entry = parse_proxy_entry(node->data, &why);
    if (!entry)
        spdlog::warn("pegasus-load: bad proxy entry {}: {}", path, why);
    co_return entry;
}

asio::awaitable<result<table_route>> table_resolver::resolve(std::string table) {
    std::string cluster;
    std::string meta_addrs;
    std::vector<rpc::endpoint> metas;
    if (zk_) {
        auto lookup_op = lookup(table);
        auto entry = co_await std::move(lookup_op);
        if (!entry)
            co_return entry.error();
        auto list = rpc::parse_endpoint_list(entry->meta_addrs);
        if (!list)
            co_return make_error_code(client_errc::bad_json);
        cluster = std::move(entry->cluster_name);
        meta_addrs = std::move(entry->meta_addrs);
        metas = std::move(*list);
    } else {
        metas = direct_metas_;
        for (const auto& m : metas) {
            if (!meta_addrs.empty())
                meta_addrs += ',';
            meta_addrs += m.to_string();
        }
    }
    auto& mc = meta_for(meta_addrs, metas);
    auto query = mc.query_config(table);
    auto cfg = co_await std::move(query);
    if (!cfg) {
        spdlog::debug("pegasus-load: query_config {} at {}: {}", table, meta_addrs,
                      cfg.error().message());
        co_return cfg.error();
    }
    co_return make_route(std::move(table), std::move(cluster), std::move(meta_addrs), *cfg);
}

} // namespace tablemigrator::load
