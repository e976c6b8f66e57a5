// pegasus-sim configuration: clusters, servers, tables, duplication targets and timing knobs, read
// from a JSON file (format documented in docs/pegasus-sim.md) and overridable from the command
// line.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::sim {

// The server generation a cluster emulates (pegasus-protocol.md header: 2.4 = v2.4.0, 2.5 = v2.5.0,
// master = the post-2.5 HEAD snapshot).
enum class generation { v2_4, v2_5, master };

std::optional<generation> parse_generation(std::string_view text);
std::string_view generation_name(generation g) noexcept;

using millis = std::chrono::milliseconds;

// Timing knobs (pegasus-progress-and-cutover.md §6.1). Defaults are the real servers' defaults.
struct timing_config {
    millis config_sync_interval{30000}; // [replication] config_sync_interval_ms
    millis duplication_sync_period{
        10000}; // duplication_sync_period_second (10 s constant on 2.4/2.5)
    millis perf_counter_interval{10000};   // perf_counter_update_interval_seconds
    millis checkpoint_copy_duration{2000}; // time the target needs to pull the checkpoint
    double shipping_rate = 1000.0;         // shipped mutations per second per partition
    millis group_check_interval{100000};   // group_check_interval_ms (shipped config.ini value)
    millis meta_persist_throttle{5000};    // dup_progress_min_update_period_ms
    millis dup_poll_delay{100};            // idle plog poll of the duplicator (100 ms constant)
    millis failure_detection{15000};       // a dead replica's primaries move after this long
};

struct table_config {
    std::string name;
    std::int32_t partition_count = 8;
    std::int32_t replica_count = 3;
    int data_version = 1;
    std::map<std::string, std::string> envs;
};

struct cluster_config {
    std::string name;
    generation gen = generation::v2_5;
    // Requested ports; 0 = any free port. meta_ports[0] is the initial leader.
    std::vector<std::uint16_t> meta_ports{0};
    std::vector<std::uint16_t> replica_ports{0, 0, 0};
    std::string zookeeper_hosts = "127.0.0.1:2181";
    std::string zookeeper_root; // default "/pegasus/<name>"
    // [duplication-group]: cluster name -> id 1..127 (should contain this cluster too).
    std::map<std::string, int> duplication_group;
    // [pegasus.clusters]: remote cluster name -> meta list "h:p,h:p". An empty value means "the
    // meta list of the simulated cluster of that name", filled in once ports are bound.
    std::map<std::string, std::string> remote_clusters;
    bool duplication_enabled = true;
    bool dup_ignore_other_cluster_ids = false; // master only
    std::vector<table_config> tables;
    timing_config timing;
    bool empty_write_disabled = false;
};

struct sim_config {
    std::vector<cluster_config> clusters;
    std::uint16_t admin_port = 0;
    std::string ports_file; // where the bound ports are written (JSON), empty = nowhere
};

// Parses the JSON config text. Errors: client_errc::bad_json / invalid_argument, with a message
// in `why` when given.
result<sim_config> parse_config(std::string_view json_text, std::string* why = nullptr);

// A small ready-made config: one cluster "onebox" with one meta, three replicas and one table.
sim_config default_config();

} // namespace tablemigrator::sim
