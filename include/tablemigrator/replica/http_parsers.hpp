// Sans-io parsers for the JSON bodies of the replica server's HTTP endpoints (pegasus-protocol.md
// §3.4-§3.7, §4; progress doc §4.1). Unknown members are ignored so newer servers still parse;
// a body that is not the expected JSON shape gives client_errc::bad_json.
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/replica/partition_id.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tablemigrator::replica {

// ---- GET /replica/data_version?app_id=N -------------------------------------------------------
// partition index -> data_version (a string on the wire: "1").
using data_version_map = std::map<std::int32_t, std::string>;
result<data_version_map> parse_data_version(std::string_view body);

// ---- GET /replica/duplication?appid=N ---------------------------------------------------------
struct dup_partition_status {
    bool duplicating = false;
    std::int64_t not_confirmed_mutations_num = 0;  // last_committed - meta-persisted decree
    std::int64_t not_duplicated_mutations_num = 0; // last_committed - shipped-and-acknowledged
    std::string fail_mode;                         // "FAIL_SLOW", ...
    std::optional<std::string> remote_app_name;    // master only
};
// dupid -> partition -> status.
using dup_status_map = std::map<std::int32_t, std::map<partition_id, dup_partition_status>>;
result<dup_status_map> parse_replica_duplication(std::string_view body);

// ---- GET /metrics -----------------------------------------------------------------------------
struct metrics_query {
    std::vector<std::string> with_metric_fields;                 // e.g. {"name", "value"}
    std::vector<std::string> types;                              // e.g. {"replica"}
    std::vector<std::string> ids;                                // e.g. {"replica@2.0"}
    std::vector<std::pair<std::string, std::string>> attributes; // e.g. {{"table_id", "2"}}
    std::vector<std::string> metrics;                            // exact metric names
    std::optional<bool> detail;
};
// "/metrics?..." with comma-joined, percent-encoded lists; absent lists are not sent because the
// server answers 400 for parameters it does not know but accepts any subset.
std::string metrics_target(const metrics_query& query);
// The recommended per-table duplication query (§4.1).
metrics_query table_dup_metrics_query(std::int32_t app_id);

struct metric_entity {
    std::string type; // "replica", "server", ...
    std::string id;   // "replica@2.0"
    std::map<std::string, std::string> attributes;
    std::map<std::string, std::int64_t> metrics; // metrics without an integral "value" are skipped
};
struct metrics_snapshot {
    std::string cluster;
    std::string role;
    std::string host;
    std::int64_t port = 0;
    std::uint64_t timestamp_ns = 0;
    std::vector<metric_entity> entities;
};
result<metrics_snapshot> parse_metrics(std::string_view body);

// ---- GET /version -----------------------------------------------------------------------------
struct version_info {
    std::string version;    // "Version"
    std::string git_commit; // "GitCommit"
};
result<version_info> parse_version(std::string_view body);

// ---- GET /config?name=X -----------------------------------------------------------------------
// The exact shape is UNVERIFIED (progress doc §4.1); we keep the whole object and extract "name"
// and "value" when present (a value of any scalar type is rendered as text: true -> "true").
struct config_flag {
    std::string name;
    std::optional<std::string> value;
    std::map<std::string, std::string> fields; // every scalar member, rendered as text
};
result<config_flag> parse_config(std::string_view body);

// ---- GET /updateConfig?key=value --------------------------------------------------------------
// {"update_status":"ERR_OK"} or {"update_status":"ERR_INVALID_PARAMETERS: x is not mutable"}.
struct update_config_status {
    error_code err;     // rDSN error from the name before ':'; success for ERR_OK
    std::string detail; // the text after "ERR_...: ", empty when none
};
result<update_config_status> parse_update_config(std::string_view body);

// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
std::string url_encode(std::string_view text);

} // namespace tablemigrator::replica
