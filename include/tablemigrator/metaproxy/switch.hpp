// The MetaProxy switch for one table: point `<root>/<table>` in ZooKeeper at the target cluster
// (compare-and-set on the version read), then deny the source with `reconfig*all`.
// Decisions are pure functions (unit-tested); switch_table() only carries them out.
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/zk/client.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::metaproxy {

// The znode value MetaProxy reads (pegasus-protocol.md §7).
struct proxy_entry {
    std::string cluster_name;
    std::string meta_addrs; // "h1:p1,h2:p2"
};

// client_errc::bad_json unless it is an object with string fields cluster_name and meta_addrs.
result<proxy_entry> parse_entry(std::string_view json);
// {"cluster_name":"...","meta_addrs":"..."} with JSON escaping.
std::string serialize_entry(const proxy_entry& e);

// Entries of a comma-separated list, trimmed, empties dropped.
std::vector<std::string> split_list(std::string_view list);
// Same addresses regardless of order and spacing.
bool same_meta_list(std::string_view a, std::string_view b);
// "<root>/<table>" without a doubled slash.
std::string entry_path(std::string_view root, std::string_view table);
// The cluster's zookeeper_hosts ("h1:2181, h2:2181") as one connect string for the C client,
// which takes the whole list (unlike the Go migrator's library, pegasus-protocol.md §8.10),
// with an optional chroot appended ("/pegasus" -> "h1:2181,h2:2181/pegasus").
std::string zk_connect_string(std::string_view zookeeper_hosts, std::string_view chroot = {});

struct switch_request {
    std::string table;
    std::string root;                    // MetaProxy's ZooKeeper root, e.g. "/pegasus/proxy"
    std::string source_cluster;          // cluster_name from the source's cluster info
    std::string target_cluster;          // cluster_name from the target's cluster info
    std::string expected_target_cluster; // -c
    std::string target_meta_addrs;       // -m
    bool create_missing = false;         // create the entry (and its parents) when missing
    // Bound on re-reading the entry after a write whose result is unknown (connection loss).
    std::chrono::milliseconds verify_timeout{15'000};
};

struct switch_outcome {
    enum class state {
        unchanged,        // we did not change the entry
        switched,         // the entry names the target (our write was acknowledged or verified)
        already_switched, // it already named the target cluster and meta list: no write
        unknown,          // a write may have happened and could not be verified, or someone
                          // changed the entry after our write: look at it before going on
    };
    state entry_state = state::unchanged;
    bool reconfig_set = false;
    error_code error; // empty on success
    std::string message;
    std::vector<std::string> warnings;
};

const char* to_string(switch_outcome::state s) noexcept;

// --- pure decisions -----------------------------------------------------------------------

// Checks that need no I/O: names present, target name == -c, a non-empty meta list.
status validate_request(const switch_request& req, std::string& message);
// Warnings that do not stop the switch (MetaProxy rejects a meta list of fewer than two).
std::vector<std::string> request_warnings(const switch_request& req);

enum class action { write, create, already_switched, refuse };
struct decision {
    action what = action::refuse;
    error_code error;
    std::string message;
};
// current: the entry's data, nullopt when the znode does not exist.
decision decide(const switch_request& req, const std::optional<std::string>& current);

// After a write whose result is unknown: what the entry we read back says about it.
enum class observation { ours, untouched, changed_by_other };
// old_data nullopt: we were creating the entry. observed nullopt: the entry does not exist.
observation classify_observation(const std::optional<zk::node>& observed,
                                 const std::optional<std::string>& old_data,
                                 std::int32_t old_version, std::string_view new_data);

// --- the coroutine ------------------------------------------------------------------------

using zk_connector = std::function<boost::asio::awaitable<result<std::shared_ptr<zk::client>>>()>;
using reconfig_fn = std::function<boost::asio::awaitable<status>()>;

struct switch_hooks {
    // Runs once the session is open, before the entry is first read (tests inject outages).
    std::function<boost::asio::awaitable<void>(zk::client&)> before_read;
    // Runs between reading the entry and writing it (tests inject concurrent writers, outages).
    std::function<boost::asio::awaitable<void>(zk::client&)> before_write;
};

// Reads, decides, writes with compare-and-set, reads back, then calls set_reconfig (also when
// the entry was already switched, so a re-run completes an interrupted switch). Never throws for
// expected failures: the outcome says where it stopped and in which state the entry is.
// A connection loss during the first read is retried (nothing is written yet); one during the
// write is resolved by re-reading (reconnecting through `connect`
// if the session expired) and, when the entry is provably untouched, writing again.
boost::asio::awaitable<switch_outcome> switch_table(zk_connector connect, switch_request req,
                                                    reconfig_fn set_reconfig,
                                                    switch_hooks hooks = {});

} // namespace tablemigrator::metaproxy
