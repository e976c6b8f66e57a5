// load_generator: per table, a writer coroutine issues uniquely keyed PUTs (or MULTI_PUTs) at a
// set rate with a bounded number in flight, follows routing changes through routed_table, reads
// some keys back, records every acknowledged write and measures write downtime.
#pragma once

#include "load/downtime.hpp"
#include "load/record.hpp"
#include "load/resolver.hpp"
#include "load/routed_table.hpp"

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/rpc/session_pool.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tablemigrator::load {

struct load_options {
    std::vector<std::string> tables;
    double rate = 100;                              // writes per second per table
    std::chrono::milliseconds duration{0};          // 0 = until request_stop()
    std::size_t concurrency = 16;                   // writes in flight per table
    int multi_put = 0;                              // 0: PUT; k > 0: MULTI_PUT of k sort keys
    int read_every = 10;                            // read back every n-th acknowledged write
    std::chrono::milliseconds write_timeout{10000}; // per write, all retries included
    std::chrono::milliseconds stop_grace{2000};     // in-flight writes may end this long after stop
    std::chrono::milliseconds progress_interval{0}; // log a progress line per table (0 = never)
    retry_options retry;
    // Called for every acknowledged key as it is acknowledged (e.g. to stream the record).
    std::function<void(const acked_write&)> on_ack;
    // Keep acknowledged keys in memory for record(); false bounds memory on long runs (then
    // record() has the table summaries only).
    bool keep_acks = true;
};

struct table_stats {
    std::int64_t attempted = 0;       // writes started
    std::int64_t acknowledged = 0;    // writes acknowledged (each may carry several keys)
    std::int64_t failed = 0;          // writes given up at their deadline or at shutdown
    std::int64_t reads = 0;           // read-backs that returned an answer
    std::int64_t read_mismatches = 0; // ...whose value was absent or different
    std::int64_t read_failures = 0;   // read-backs that got no answer before their deadline
    std::size_t in_flight = 0;
    std::chrono::milliseconds write_downtime{0};
    bool downtime_unrecovered = false;
    std::int64_t outages = 0;
    route_stats routing;
    std::string cluster; // of the current route
};

// Key scheme: hash key "<table>-<seq>" (seq from 1, unique per write), sort key "s" (or "s<i>"
// for MULTI_PUT), value "v-<table>-<seq>[-<i>]". So every acknowledged key is distinct and a
// missing one means a lost acknowledged write.
std::string load_hash_key(const std::string& table, std::int64_t seq);

class load_generator {
public:
    // pool and resolver must outlive the generator. One io_context thread.
    load_generator(boost::asio::any_io_executor ex, rpc::session_pool& pool,
                   table_resolver& resolver, load_options options);
    ~load_generator();
    load_generator(const load_generator&) = delete;
    load_generator& operator=(const load_generator&) = delete;

    // Resolves every table (fails with the first table's error; failed_table() names it), then
    // writes until request_stop() or the configured duration, then lets in-flight writes finish
    // within stop_grace. Completes only when nothing is in flight. Call once.
    boost::asio::awaitable<status> run();

    // Stops issuing writes (idempotent; safe before run() too).
    void request_stop();

    bool running() const noexcept { return running_; }
    const std::string& failed_table() const noexcept { return failed_table_; }
    table_stats stats(const std::string& table) const;
    // Summaries (in --tables order) and every acknowledged key.
    load_record record() const;
    // "load <table>: attempted N, acknowledged N, failed N, ... write downtime X ms ..."
    std::string summary_line(const std::string& table) const;

private:
    struct table_writer;

    boost::asio::awaitable<status> drive(table_writer* w);
    boost::asio::awaitable<void> write_one(table_writer* w, std::int64_t seq);
    boost::asio::awaitable<void> wait_wake(table_writer* w,
                                           std::chrono::steady_clock::time_point until);
    boost::asio::awaitable<status> report_progress();
    table_writer* find(const std::string& table) const;

    boost::asio::any_io_executor ex_;
    rpc::session_pool& pool_;
    table_resolver& resolver_;
    load_options options_;
    std::vector<std::unique_ptr<table_writer>> writers_;
    boost::asio::steady_timer progress_timer_;
    bool stopping_ = false;
    bool running_ = false;
    std::string failed_table_;
    std::chrono::steady_clock::time_point stop_at_ = std::chrono::steady_clock::time_point::max();
};

} // namespace tablemigrator::load
