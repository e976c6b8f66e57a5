// Resolves a table the way a Pegasus application behind MetaProxy does: read <root>/<table> from
// ZooKeeper (JSON {"cluster_name","meta_addrs"}, pegasus-protocol.md §7), then query that
// cluster's meta for the partition configuration (§2.1). A --meta mode skips ZooKeeper.
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/meta/meta_client.hpp>
#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/rpc/session_pool.hpp>
#include <tablemigrator/zk/client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::load {

// The MetaProxy znode's content.
struct proxy_entry {
    std::string cluster_name;
    std::string meta_addrs; // "h:p,h:p"
};

// Parses the znode JSON: an object with string fields cluster_name and meta_addrs (a non-empty,
// valid endpoint list). Errors: client_errc::bad_json (with `why`).
result<proxy_entry> parse_proxy_entry(std::string_view json_text, std::string* why = nullptr);

// Where to send a request for one key or partition (data-plane §4).
struct key_target {
    rpc::endpoint primary;
    std::int32_t app_id = 0;
    std::int32_t partition_index = 0;
    std::int32_t thread_hash = 0;
    std::uint64_t partition_hash = 0;
};

// A table's routing as the meta last reported it.
struct table_route {
    std::string table;
    std::string cluster;    // cluster_name from ZooKeeper; "" in --meta mode
    std::string meta_addrs; // the meta list that answered
    std::int32_t app_id = 0;
    std::int32_t partition_count = 0;
    std::vector<std::optional<rpc::endpoint>> primaries; // by partition index

    // Routing for a hash key: partition_hash = CRC-64(hash_key) (the server rule for a
    // non-empty hash key), partition = hash % count, thread_hash = app_id*7919 + partition.
    // ERR_INVALID_STATE when that partition has no primary (as the Python client does), which
    // makes callers refresh.
    result<key_target> for_hash_key(std::string_view hash_key) const;
    // Routing for a whole partition (full-table scans): partition_hash = the partition index.
    result<key_target> for_partition(std::int32_t partition_index) const;

    friend bool operator==(const table_route&, const table_route&) = default;
};

// Builds a route from a meta reply. Errors: client_errc::unexpected_reply when the reply is not
// a usable configuration (partition count < 1, partition list not covering every index).
result<table_route> make_route(std::string table, std::string cluster, std::string meta_addrs,
                               const meta::table_config& cfg);

struct zk_source {
    std::string hosts; // "h:p,h:p[/chroot]"
    std::string root;  // "/pegasus/proxy": entries are <root>/<table>
    zk::connect_options connect;
};

struct resolver_options {
    meta::meta_client_options meta;
};

// One io_context thread. Holds one meta_client per distinct meta list (never evicted, like
// MetaProxy) and, in ZooKeeper mode, one ZooKeeper session opened lazily and reopened after it
// expires. The pool must outlive the resolver.
class table_resolver {
public:
    table_resolver(rpc::session_pool& pool, zk_source zk, resolver_options options = {});
    table_resolver(rpc::session_pool& pool, std::vector<rpc::endpoint> metas,
                   resolver_options options = {});
    ~table_resolver();
    table_resolver(const table_resolver&) = delete;
    table_resolver& operator=(const table_resolver&) = delete;

    // The current route of `table`. Errors: ZooKeeper errors (zk_errc, e.g. no_node for a table
    // without an entry), client_errc::bad_json for a bad entry, meta errors (query_config's,
    // e.g. ERR_OBJECT_NOT_FOUND for an unknown table), client_errc::unexpected_reply. Bounded
    // by the ZooKeeper operation timeout and the meta client's overall timeout; cancellable.
    boost::asio::awaitable<result<table_route>> resolve(std::string table);

    // The ZooKeeper proxy entry of `table` (ZooKeeper mode only; invalid_argument otherwise).
    boost::asio::awaitable<result<proxy_entry>> lookup(std::string table);

    bool uses_zookeeper() const noexcept { return zk_.has_value(); }
    // Closes the ZooKeeper session (if any). Blocks for the close round trip.
    void close();

private:
    boost::asio::awaitable<result<std::shared_ptr<zk::client>>> zk_session();
    meta::meta_client& meta_for(const std::string& meta_addrs,
                                const std::vector<rpc::endpoint>& metas);

    rpc::session_pool& pool_;
    std::optional<zk_source> zk_;
    std::vector<rpc::endpoint> direct_metas_;
    resolver_options options_;
    std::shared_ptr<zk::client> zk_client_;
    std::map<std::string, std::unique_ptr<meta::meta_client>> metas_;
};

} // namespace tablemigrator::load
