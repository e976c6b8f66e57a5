// Sans-io parsers for the textual replies of remote commands (RPC_CLI_CLI_CALL): perf counters
// (pegasus-protocol.md §3.2-§3.3), server-info (§3.7) and the per-replica commands
// replica.query-progress / query-app-envs / disable-empty-write (progress doc §1-§4).
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/replica/partition_id.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::replica {

// Every server answers an unknown command with this text (frame still ERR_OK). Parsers turn it
// into client_errc::unsupported_version.
bool is_unknown_command_reply(std::string_view text);

// ---- perf-counters-by-substr ------------------------------------------------------------------
struct perf_counter {
    std::string name; // full name "<app>*<section>*<name>"
    std::string type; // NUMBER, VOLATILE_NUMBER, RATE, PERCENTILE
    double value = 0;
};

struct perf_counters_reply {
    std::string result; // "OK"
    std::int64_t timestamp = 0;
    std::string timestamp_str;
    std::vector<perf_counter> counters;

    // The counter whose full name is exactly `full_name`; never a prefix or substring match.
    const perf_counter* find_exact(std::string_view full_name) const;

    // Per-partition counters of one table: names "<app>*<section>*<counter>@<A>.<P>" whose
    // <counter> equals `counter` exactly and whose A equals app_id exactly (so app 1 never picks
    // up "dup_shipped_ops@12.3"). Keyed by partition index.
    std::map<std::int32_t, double> per_partition(std::string_view counter,
                                                 std::int32_t app_id) const;
};
result<perf_counters_reply> parse_perf_counters(std::string_view text);

// Exact full names of the counters the migrator reads on 2.4/2.5 (§3.3).
inline constexpr std::string_view pending_mutations_counter =
    "replica*eon.replica_stub*dup.pending_mutations_count";
inline constexpr std::string_view shipped_ops_counter = "dup_shipped_ops";
inline constexpr std::string_view failed_shipping_ops_counter = "dup_failed_shipping_ops";

// ---- server-info ------------------------------------------------------------------------------
struct server_info_reply {
    std::string version; // "2.4.0", "2.6.0-SNAPSHOT", ...
    std::string git_sha;
    std::string build_type; // "Release", ...
    std::string start_time;
    bool json_form = false; // master answers JSON, 2.4 plain text
};
// Accepts "Pegasus Server <ver> (<sha>) <build type>, Started at <time>" and the JSON form
// {"version","build_type","git_SHA","start_time"}; anything else is client_errc::bad_json.
result<server_info_reply> parse_server_info(std::string_view text);

// ---- per-replica command framing (progress doc §1.2) ------------------------------------------
enum class replica_role { primary, secondary, none };

struct replica_command_entry {
    partition_id pid;
    std::string node;                       // "ip:port" (2.4/2.5) or "host:port" (master)
    replica_role role = replica_role::none; // none for "not found" entries
    bool not_found = false;
    std::string result; // verbatim; may span several lines
};

struct replica_command_output {
    std::int64_t processed = 0;
    std::int64_t not_found = 0;
    std::vector<replica_command_entry> entries;
};

// "invalid arguments" -> client_errc::invalid_argument; "unknown command '...'" ->
// client_errc::unsupported_version; any other text that does not follow the framing -> bad_json.
result<replica_command_output> parse_replica_command_output(std::string_view text);

// Builds the arguments for exec_command_on_replica: one element, comma-joined ids
// ("3" for a whole table, "3.0,3.1" for partitions).
std::vector<std::string> replica_command_args(std::int32_t app_id);
std::vector<std::string> replica_command_args(const std::vector<partition_id>& pids);

// ---- replica.query-progress (master only) -----------------------------------------------------
struct dup_replica_progress {
    std::int64_t dupid = 0;
    std::string remote_cluster_name;
    std::string remote_app_name;
    // Old builds (mid-2024) named these confirmed_decree / persisted_decree; mapped here.
    std::int64_t replica_confirmed_decree = -1;
    std::int64_t meta_persisted_decree = -1;
};

// Decrees; -1 = invalid or absent (max_plog_decree_on_disk is missing on the oldest builds).
struct replica_progress {
    std::int64_t max_prepared_decree = -1;
    std::int64_t max_plog_decree = -1;
    std::int64_t max_plog_decree_on_disk = -1;
    std::int64_t max_plog_commit_on_disk = -1;
    std::int64_t last_committed_decree = -1;
    std::int64_t last_applied_decree = -1;
    std::int64_t last_flushed_decree = -1;
    std::int64_t last_durable_decree = -1;
    std::int64_t max_gc_decree = -1;
    std::vector<dup_replica_progress> duplications; // empty when the key is absent (secondaries)
};
result<replica_progress> parse_replica_progress_json(std::string_view json_text);

struct progress_entry {
    partition_id pid;
    std::string node;
    replica_role role = replica_role::none;
    bool not_found = false;
    replica_progress progress; // default when not_found
};
struct query_progress_output {
    std::int64_t processed = 0;
    std::int64_t not_found = 0;
    std::vector<progress_entry> entries;
};
result<query_progress_output> parse_query_progress(std::string_view text);

// ---- replica.query-app-envs -------------------------------------------------------------------
struct app_envs_entry {
    partition_id pid;
    std::string node;
    replica_role role = replica_role::none;
    bool not_found = false;
    std::map<std::string, std::string> envs; // "k=v,k=v" split
};
struct query_app_envs_output {
    std::int64_t processed = 0;
    std::int64_t not_found = 0;
    std::vector<app_envs_entry> entries;
};
result<query_app_envs_output> parse_query_app_envs(std::string_view text);

// ---- replica.disable-empty-write (master only) ------------------------------------------------
struct empty_write_reply {
    std::string error;            // "ok" or "ERR: invalid arguments, ..."
    std::optional<bool> disabled; // present on a query (no argument): true = empty writes disabled
    bool ok() const { return error == "ok"; }
};
result<empty_write_reply> parse_disable_empty_write(std::string_view text);

} // namespace tablemigrator::replica
