// routed_table: one table's current route plus the retry loop every data operation goes through.
// On a routing failure (ERR_INVALID_STATE, ERR_OBJECT_NOT_FOUND, ERR_PARENT_PARTITION_MISUSED,
// connection loss, timeout) it re-resolves through ZooKeeper + meta, so a MetaProxy switch to
// another cluster is followed, and resends with short backoff until the operation's deadline
// (pegasus-data-plane.md §7.6; puts are idempotent, so resending is safe).
#pragma once

#include "load/resolver.hpp"

#include <tablemigrator/core/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace tablemigrator::load {

struct retry_options {
    std::chrono::milliseconds attempt_timeout{1000};    // one RPC
    std::chrono::milliseconds backoff_initial{10};      // doubles per failed attempt...
    std::chrono::milliseconds backoff_max{200};         // ...up to this
    std::chrono::milliseconds resolve_timeout{5000};    // one re-resolution (ZooKeeper + meta)
    std::chrono::milliseconds min_refresh_interval{50}; // at most one re-resolution per interval
};

struct route_stats {
    std::int64_t refreshes = 0; // successful re-resolutions
    std::int64_t refresh_failures = 0;
    std::int64_t route_changes = 0;             // refreshes that returned a different route
    std::map<std::string, std::int64_t> errors; // failed attempts by error_label
};

class routed_table {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    // One attempt on `route` that must finish within `timeout` (the session enforces it).
    using attempt_fn = std::function<boost::asio::awaitable<status>(
        std::shared_ptr<const table_route> route, std::chrono::milliseconds timeout)>;
    // Told about every failed attempt (when it started, and why).
    using failure_fn = std::function<void(time_point attempt_start, const error_code& ec)>;

    // The resolver must outlive this object. One io_context thread.
    routed_table(table_resolver& resolver, std::string table, retry_options options);

    // Runs `attempt` until it succeeds, or fails with a give_up error (returned), or no further
    // attempt fits before `deadline` (or the hard deadline): then the last attempt's error, or
    // client_errc::timeout when none could be made. Never throws for expected failures.
    boost::asio::awaitable<status> call(attempt_fn attempt, time_point deadline,
                                        failure_fn on_failure = {});

    // Resolves now, ignoring the refresh throttle (startup). Returns the resolver's error.
    boost::asio::awaitable<status> refresh_now();

    // Shutdown: attempts are cut to end by `t` and none starts after it.
    void set_hard_deadline(time_point t) noexcept { hard_deadline_ = t; }

    std::shared_ptr<const table_route> route() const noexcept { return route_; }
    const route_stats& stats() const noexcept { return stats_; }
    const std::string& table() const noexcept { return table_; }

private:
    // Re-resolves unless the route changed since generation `seen`, another refresh is running
    // (waits for it), or the last one finished less than min_refresh_interval ago.
    boost::asio::awaitable<void> refresh_from(std::uint64_t seen, time_point end);
    // Bounded by resolve_timeout and by `end`.
    boost::asio::awaitable<status> do_refresh(time_point end);

    table_resolver& resolver_;
    std::string table_;
    retry_options options_;
    std::shared_ptr<const table_route> route_;
    std::uint64_t generation_ = 0; // bumps whenever route_ changes
    bool refreshing_ = false;
    time_point last_refresh_{};
    time_point hard_deadline_ = time_point::max();
    route_stats stats_;
};

} // namespace tablemigrator::load
