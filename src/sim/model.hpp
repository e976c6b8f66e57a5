// The simulated deployment's state: clusters, tables, partitions, placement, decrees, envs as each
// replica node last synced them, duplications and their shipping, progress counters and the ground
// truth recorded for tests. Pure: no sockets; time comes from an event_queue the caller drives.
#pragma once

#include "sim/config.hpp"
#include "sim/event_queue.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tablemigrator::sim {

// Numeric values as on the wire (pegasus-protocol.md §2.10; 2.4+ duplication numbering, which all
// three emulated generations use).
enum class app_status : std::int32_t {
    invalid = 0,
    available = 1,
    creating = 2,
    dropping = 4,
    dropped = 6
};
enum class dup_status : std::int32_t {
    init = 0,
    prepare = 1,
    app = 2,
    log = 3,
    pause = 4,
    removed = 5
};
enum class fail_mode : std::int32_t { slow = 0, skip = 1, fast = 2 };

std::string_view dup_status_name(dup_status s) noexcept;
std::string_view fail_mode_name(fail_mode m) noexcept;

// What `replica.deny_client_request` makes a replica do (§5). Invalid values deny nothing.
struct deny_flags {
    bool timeout = false; // true: drop silently; false: reconfig -> ERR_INVALID_STATE
    bool reads = false;
    bool writes = false;
    bool any() const noexcept { return reads || writes; }
};
deny_flags parse_deny(std::string_view value) noexcept;
bool is_valid_deny_value(std::string_view value) noexcept;

// One write inside a mutation, in the form needed to apply it again on a duplication target.
struct write_op {
    enum class kind { put, remove } op = kind::put;
    std::string key;   // full key (u16 hash key length + hash key + sort key)
    std::string value; // user bytes
    std::uint32_t expire_ts = 0;
    std::uint64_t timetag = 0; // non-zero: keep this timetag (a duplicated write from the source)
};

struct mutation {
    std::int64_t decree = 0;
    std::int64_t timestamp_us = 0; // unix microseconds, unique and monotonic per partition
    std::string task_code;         // "" for an empty write (group check)
    std::vector<write_op> ops;
    std::size_t bytes = 0; // approximate raw request size (batches DUPLICATE RPCs)
    bool empty() const noexcept { return task_code.empty(); }
};

// Stored record in the data-version-1 layout (data-plane §7.3): u32 expire_ts, u64 timetag, bytes.
std::string encode_stored_value(std::uint32_t expire_ts, std::uint64_t timetag,
                                std::string_view user);
struct stored_value {
    std::uint32_t expire_ts = 0;
    std::uint64_t timetag = 0;
    std::string user;
};
std::optional<stored_value> decode_stored_value(std::string_view stored, int data_version);
std::uint64_t make_timetag(std::int64_t timestamp_us, int cluster_id, bool deleted) noexcept;

struct partition_state {
    std::int32_t index = 0;
    int primary = -1; // replica node index
    std::vector<int> secondaries;
    std::int64_t ballot = 1;
    std::int64_t last_committed = 0;   // == max_prepared: the sim commits each mutation at once
    std::int64_t last_real_decree = 0; // last non-empty mutation
    std::int64_t last_durable = 0;
    std::int64_t last_timestamp_us = 0;
    sim_time last_prepare_at{0};             // for the group check's "idle for one interval"
    std::map<std::string, std::string> data; // full key -> stored value (layout per data_version)
    std::deque<mutation> log;                // mutations kept for duplication shipping
    std::int64_t empty_writes = 0;
    // Non-idempotent requests that reached the storage layer (incr, check_and_set,
    // check_and_mutate): the counters behind the *_qps perf counters and *_requests metrics.
    std::int64_t incr_requests = 0;
    std::int64_t check_and_set_requests = 0;
    std::int64_t check_and_mutate_requests = 0;
};

struct table_state {
    std::int32_t app_id = 0;
    std::string name;
    std::int32_t partition_count = 0;
    std::int32_t max_replica_count = 3;
    int data_version = 1;
    app_status status = app_status::available;
    std::map<std::string, std::string> envs;
    std::uint64_t envs_version = 1;
    std::int64_t create_second = 0;
    std::vector<partition_state> partitions;
    std::vector<std::int32_t> dups; // dupids of live duplications (source side)
};

// A replica node's copy of one table's envs, as applied at its last config sync.
struct applied_envs {
    std::uint64_t version = 0;
    std::map<std::string, std::string> envs;
    deny_flags deny;
};

struct perf_counter {
    std::string name;
    std::string type;
    double value = 0;
};

// An open scanner (GET_SCANNER/SCAN), kept per replica node under its context id.
struct scan_context {
    std::int32_t app_id = 0;
    std::int32_t pidx = 0;
    std::string next_key; // resume point (inclusive)
    std::string stop_key; // empty = to the end
    bool stop_inclusive = false;
    std::int32_t batch_size = 1000;
    bool no_value = false;
    bool return_expire_ts = false;
    bool only_return_count = false;
    std::int32_t hash_filter_type = 0;
    std::string hash_filter;
    std::int32_t sort_filter_type = 0;
    std::string sort_filter;
};

struct replica_node {
    int index = 0;
    std::uint16_t port = 0;
    bool alive = true;
    sim_time started_at{0};
    sim_time config_sync_interval{0};
    bool empty_write_disabled = false;
    std::map<std::int32_t, applied_envs> applied; // app_id -> envs as synced
    // Perf-counter snapshot (2.4/2.5): taken every perf_counter_interval.
    std::int64_t pending_mutations = 0; // recomputed every duplication sync
    std::int64_t snapshot_unix_s = 0;
    std::vector<perf_counter> snapshot;
    std::map<std::pair<std::int32_t, std::int32_t>, std::int64_t> shipped_at_last_snapshot;
    // (app, pidx) -> non-idempotent request totals at the last snapshot (incr, cas, cam).
    std::map<std::pair<std::int32_t, std::int32_t>, std::array<std::int64_t, 3>> atomic_at_last_snapshot;
    std::uint64_t generation_id = 0; // bumps on restart so stale timers stop
    std::int64_t config_syncs = 0;
    std::map<std::int64_t, scan_context> scanners;
    // Placement indexes (placement is static), so per-node timers never scan every partition.
    std::vector<std::pair<std::int32_t, std::int32_t>> primaries; // (app_id, pidx)
    std::set<std::int32_t> hosted_apps;
    std::int64_t replica_count = 0;
    std::int64_t next_context_id = (std::int64_t{0x5eed} << 32);
};

struct meta_node {
    int index = 0;
    std::uint16_t port = 0;
    bool alive = true;
};

struct dup_partition {
    std::int64_t start_decree = -1;           // checkpoint decree; shipping starts after it
    std::int64_t confirmed = -1;              // replica last_decree: shipped and acknowledged
    std::int64_t replica_meta_persisted = -1; // the replica's copy of the meta's persisted value
    std::int64_t meta_confirmed = -1; // persisted by the meta (partition_states[].confirmed)
    std::int64_t meta_last_committed = -1;
    sim_time last_persist{-1000000000};
    bool prepared = false;
    bool has_duplicator = false;
    double credit = 0;             // token bucket for the shipping rate
    std::int64_t shipped_rpcs = 0; // successful DUPLICATE RPCs (dup_shipped_ops)
    std::int64_t failed_rpcs = 0;
    std::int64_t shipped_mutations = 0;
    std::int64_t pending_gauge = 0;                // dup_pending_mutations (master), set each sync
    std::map<std::string, std::string> checkpoint; // data as of start_decree
};

struct duplication_state {
    std::int32_t dupid = 0;
    std::int32_t app_id = 0;
    std::string remote_cluster;
    std::string remote_app_name;
    std::int32_t remote_replica_count = 0;
    dup_status status = dup_status::init;
    fail_mode mode = fail_mode::slow;
    std::int64_t create_ts_ms = 0;
    bool checkpoint = true;
    std::vector<dup_partition> partitions;
    bool target_created = false;
    bool checkpoint_applied = false;
    bool warned_target_exists = false;
    bool ship_tick_pending = false; // one shipping chain per duplication, even after pause/resume
};

// Ground truth (admin endpoint): when env changes took effect and drain completed.
struct env_effect {
    std::string cluster;
    std::string table;
    int node = 0;
    std::string value; // new value of replica.deny_client_request ("" = removed)
    sim_time at{0};
    std::int64_t unix_ms = 0;
};
struct freeze_record {
    std::int64_t last_decree = 0; // last real mutation when the freeze took effect
    sim_time frozen_at{0};
    std::optional<sim_time> acked_at; // when the target acknowledged last_decree
    std::optional<std::int64_t> acked_unix_ms;
};

struct faults {
    bool stall_shipping = false;
    double shipping_slowdown = 1.0; // divides the shipping rate
    sim_time env_propagation_delay{0};
};

class model;

class cluster_state {
public:
    cluster_state(model& m, cluster_config cfg, int index);

    const std::string& name() const noexcept { return cfg_.name; }
    generation gen() const noexcept { return cfg_.gen; }
    const cluster_config& config() const noexcept { return cfg_; }
    cluster_config& config() noexcept { return cfg_; }
    int index() const noexcept { return index_; }
    model& owner() noexcept { return model_; }
    std::int64_t node_start_unix_s(int node) const;

    std::vector<meta_node> metas;
    int leader = 0;
    std::vector<replica_node> nodes;
    std::map<std::int32_t, table_state> tables;     // by app_id
    std::map<std::int32_t, duplication_state> dups; // by dupid
    std::int32_t next_app_id = 1;
    faults fault;
    // Ground truth.
    std::map<std::string, std::int64_t> state_changing_requests; // RPC name -> count
    std::vector<env_effect> env_effects;
    std::map<std::pair<std::int32_t, std::int32_t>, freeze_record> freezes; // (app, pidx)
    std::vector<std::string> routing_violations; // misrouted data requests (a client bug)

    table_state* find_table(std::string_view name);
    table_state* find_table(std::int32_t app_id);
    std::string meta_list() const; // "127.0.0.1:p1,127.0.0.1:p2"
    std::string node_address(int node) const;
    int own_cluster_id() const; // [duplication-group] id of this cluster, 0 if absent
    bool node_hosts(const table_state& t, std::int32_t pidx, int node) const;

    table_state& create_table(const table_config& t);

    // Writes one mutation (one decree) on the partition's primary. Returns the decree.
    std::int64_t apply_write(table_state& t, std::int32_t pidx, std::string task_code,
                             std::vector<write_op> ops, std::size_t bytes);
    std::int64_t add_empty_write(table_state& t, std::int32_t pidx);

    // Timers (per node, per cluster, per duplication; never per partition).
    void start_node_timers(int node);
    void on_config_sync(int node, std::uint64_t gen_id);
    void apply_envs(int node, std::map<std::int32_t, applied_envs> snapshot);
    void on_duplication_sync(int node, std::uint64_t gen_id);
    void on_perf_snapshot(int node, std::uint64_t gen_id);
    void on_group_check(int node, std::uint64_t gen_id);
    void on_ship_tick(std::int32_t dupid);
    void schedule_ship_tick(std::int32_t dupid);

    void stop_node(int node);
    // The meta's reaction to a dead node: each of its primaries moves to a live secondary
    // (ballot+1).
    void fail_over(int node);
    void restart_node(int node);
    void set_config_sync_interval(int node, sim_time period);

    // Duplication: the meta side. Returns the status after the operation.
    duplication_state& add_duplication(table_state& t, const std::string& remote_cluster,
                                       const std::string& remote_app, std::int32_t remote_replicas,
                                       bool checkpoint);
    void remove_duplication(std::int32_t dupid);
    void set_dup_status(duplication_state& d, dup_status s);

    std::int64_t pending_for_node(int node) const;

private:
    void start_duplicators(duplication_state& d);
    void maybe_create_target(duplication_state& d);
    void finish_checkpoint(std::int32_t dupid);
    void record_env_effects(int node, const table_state& t, const applied_envs& before,
                            const applied_envs& after);
    void check_freeze_acks(table_state& t, std::int32_t pidx, const dup_partition& p);
    void trim_log(table_state& t, std::int32_t pidx);

    model& model_;
    cluster_config cfg_;
    int index_;
};

// The whole simulated deployment: several clusters sharing one event queue.
class model {
public:
    explicit model(sim_config cfg, std::int64_t unix_epoch_us);

    event_queue& events() noexcept { return events_; }
    sim_time now() const noexcept { return events_.now(); }
    std::int64_t unix_us() const noexcept { return events_.unix_us(); }

    std::vector<std::unique_ptr<cluster_state>>& clusters() noexcept { return clusters_; }
    cluster_state* find_cluster(std::string_view name);
    const sim_config& config() const noexcept { return cfg_; }

    // Call once all ports are known: fills [pegasus.clusters] gaps and starts the timers.
    void start();

    // Requests per server per second per RPC name (ground truth).
    void count_request(const std::string& server, const std::string& rpc);
    const std::map<std::string, std::map<std::int64_t, std::map<std::string, std::int64_t>>>&
    request_counts() const noexcept {
        return request_counts_;
    }

private:
    sim_config cfg_;
    event_queue events_;
    std::vector<std::unique_ptr<cluster_state>> clusters_;
    std::map<std::string, std::map<std::int64_t, std::map<std::string, std::int64_t>>>
        request_counts_;
};

} // namespace tablemigrator::sim
