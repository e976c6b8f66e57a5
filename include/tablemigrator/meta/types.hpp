// Plain results of the meta-server RPCs (pegasus-protocol.md §2): what callers need, with
// addresses already resolved to endpoints (host_port preferred over rpc_address on master).
#pragma once

#include <tablemigrator/rpc/endpoint.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::meta {

// Wire values (§2.10). The enum classes hold any int32, so an unexpected value survives.
enum class node_status : std::int32_t { invalid = 0, alive = 1, unalive = 2 };
enum class app_status : std::int32_t {
    invalid = 0,
    available = 1,
    creating = 2,
    create_failed = 3,
    dropping = 4,
    drop_failed = 5,
    dropped = 6,
    recalling = 7,
};
// 2.4+ numbering (≤ 2.3 servers used the same numbers for other states; not supported).
enum class duplication_status : std::int32_t {
    init = 0,
    prepare = 1,
    app = 2,
    log = 3,
    pause = 4,
    removed = 5,
};
enum class duplication_fail_mode : std::int32_t { fail_slow = 0, fail_skip = 1, fail_fast = 2 };
enum class app_env_op : std::int32_t { set = 1, del = 2, clear = 3 };

struct partition_config {
    std::int32_t app_id = 0;
    std::int32_t partition_index = 0;
    std::int64_t ballot = 0;
    std::int32_t max_replica_count = 0;
    std::optional<rpc::endpoint> primary; // none when the partition has no primary
    std::vector<rpc::endpoint> secondaries;
    std::vector<rpc::endpoint> last_drops;
    std::int64_t last_committed_decree = 0;
    std::int32_t partition_flags = 0;
};

struct table_config {
    std::int32_t app_id = 0;
    std::int32_t partition_count = 0;
    bool is_stateful = false;
    std::vector<partition_config> partitions;
    bool host_port_fields = false; // the reply carried hp_* fields (a master server)
};

struct node_entry {
    rpc::endpoint address;
    node_status status = node_status::invalid;
};

struct app_entry {
    std::int32_t app_id = 0;
    std::string app_name;
    std::string app_type;
    app_status status = app_status::invalid;
    std::int32_t partition_count = 0;
    std::int32_t max_replica_count = 0;
    bool is_stateful = false;
    std::map<std::string, std::string> envs;
    bool duplicating = false;
    std::int64_t create_second = 0;
    std::int64_t drop_second = 0;
    std::int64_t expire_second = 0;
    std::int32_t init_partition_count = -1;
};

// RPC_CM_UPDATE_APP_ENV: set (keys with values), del (keys), clear (every "<prefix>.*" key; an
// empty prefix clears all envs, so use del for a single key).
struct app_env_update {
    std::string app_name;
    app_env_op op = app_env_op::set;
    std::vector<std::string> keys;
    std::vector<std::string> values;
    std::string clear_prefix;
};

struct add_duplication_request {
    std::string app_name;
    std::string remote_cluster;
    bool checkpoint = true; // always written on the wire (field 3), never left to the default
    std::optional<std::string> remote_app_name;       // master only; ignored by older servers
    std::optional<std::int32_t> remote_replica_count; // master only
};

struct add_duplication_result {
    std::int32_t appid = 0;
    std::int32_t dupid = 0; // 2.4/2.5 may answer ERR_OK with 0 when starting it failed (§2.6)
    std::string hint;
    std::optional<std::string> remote_app_name;
    std::optional<std::int32_t> remote_replica_count;
};

struct duplication_partition_state {
    std::int64_t confirmed_decree = -1;
    std::int64_t last_committed_decree = -1;
};

struct duplication_info {
    std::int32_t dupid = 0;
    duplication_status status = duplication_status::init;
    std::string remote;         // remote cluster name
    std::int64_t create_ts = 0; // ms
    std::optional<duplication_fail_mode> fail_mode;
    std::optional<std::string> remote_app_name;
    std::optional<std::int32_t> remote_replica_count;
    // master (2024-12+) only; nullopt when the server did not send the field.
    std::optional<std::map<std::int32_t, duplication_partition_state>> partition_states;
};

struct duplication_list {
    std::int32_t appid = 0;
    std::vector<duplication_info> entries;
};

} // namespace tablemigrator::meta
