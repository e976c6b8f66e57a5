// verify: reads every acknowledged key of a load record back from a cluster, with GET (retrying
// through routed_table like the writer) or with a full-table scan (pegasus-data-plane.md §6).
#pragma once

#include "load/record.hpp"
#include "load/resolver.hpp"
#include "load/routed_table.hpp"

#include <tablemigrator/rpc/session_pool.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::load {

struct verify_options {
    bool scan = false;            // full-table scan instead of one GET per key
    std::size_t concurrency = 16; // GETs in flight
    std::int32_t scan_batch = 1000;
    std::chrono::milliseconds key_timeout{10000}; // per GET (or per scan batch), retries included
    std::vector<std::string> tables;              // empty: every table of the record
    retry_options retry;
};

struct table_verdict {
    std::string table;
    std::int64_t acknowledged = 0; // acknowledged keys in the record
    std::int64_t found = 0;        // present with the recorded value
    std::int64_t missing = 0; // absent, or present with another value (counted in mismatched too)
    std::int64_t mismatched = 0;
    std::int64_t unreadable = 0; // no answer before the deadline (neither found nor missing)
    std::int64_t write_downtime_ms = 0;
    bool downtime_unrecovered = false;
    std::string error; // non-empty: the table could not be verified at all
};

// Verifies each table in record order. Never fails as a whole: per-table problems are in the
// verdicts. The resolver and pool must outlive the call.
boost::asio::awaitable<std::vector<table_verdict>> verify(table_resolver& resolver,
                                                          rpc::session_pool& pool,
                                                          load_record record,
                                                          verify_options options);

// Exactly: "verify <table>: acknowledged N, found N, missing N" and
// "write downtime <table>: X ms", plus explanatory lines for mismatches, unreadable keys and
// errors.
std::vector<std::string> verdict_lines(const table_verdict& v);

// Nothing missing, nothing unreadable, no error.
bool verdict_ok(const table_verdict& v) noexcept;

} // namespace tablemigrator::load
