// The record of a load run: every acknowledged write (table, key, value, time, cluster) and each
// table's summary, in a line format that a later `pegasus-load verify` process reads back.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::load {

// One write that came back ERR_OK with update_response.error == 0.
struct acked_write {
    std::string table;
    std::int64_t unix_ms = 0; // when the acknowledgement arrived
    std::string cluster;      // cluster_name the route came from ("" in --meta mode)
    std::string hash_key;
    std::string sort_key;
    std::string value;
    friend bool operator==(const acked_write&, const acked_write&) = default;
};

struct table_summary {
    std::string table;
    std::int64_t attempted = 0; // writes started (each with its own deadline)
    std::int64_t acknowledged = 0;
    std::int64_t failed = 0;            // gave up at the write deadline (or at shutdown)
    std::int64_t write_downtime_ms = 0; // the longest interval without any completed write
    bool downtime_unrecovered = false;  // the run ended inside that interval
    friend bool operator==(const table_summary&, const table_summary&) = default;
};

struct load_record {
    std::vector<table_summary> tables; // in --tables order
    std::vector<acked_write> acks;     // in acknowledgement order
    friend bool operator==(const load_record&, const load_record&) = default;
};

// Field escaping of the line format: bytes outside 0x21..0x7e and '%' and '~' become %XX, the
// empty string is "~". Every field is therefore one non-empty token without spaces.
std::string escape_field(std::string_view raw);
// invalid_argument for a bad escape.
result<std::string> unescape_field(std::string_view field);

// Format (one item per line, fields separated by one space):
//   pegasus-load-record 1
//   table <name> attempted <n> acknowledged <n> failed <n> downtime_ms <n> unrecovered <0|1>
//   ack <table> <unix_ms> <cluster> <hash_key> <sort_key> <value>
void write_record(std::ostream& out, const load_record& r);
// The pieces of write_record, for a record streamed while the run goes on: the header first,
// ack lines as writes are acknowledged, table lines at the end (lines may come in any order).
void write_record_header(std::ostream& out);
void write_ack_line(std::ostream& out, const acked_write& a);
void write_table_line(std::ostream& out, const table_summary& t);
// A last line without its newline is ignored: the writer was killed in the middle of it.
// Errors: client_errc::invalid_argument with "line N: why" in `why`.
result<load_record> parse_record(std::string_view text, std::string* why = nullptr);

// File helpers: write to FILE.tmp then rename, so a reader never sees half a record.
status save_record_file(const std::string& path, const load_record& r, std::string* why = nullptr);
result<load_record> load_record_file(const std::string& path, std::string* why = nullptr);

} // namespace tablemigrator::load
