// Meta-server RPC structs (pegasus-protocol.md §2.1–§2.9), written from the spec's field tables.
// Every field id is declared, including master's optional hp_* host_port companions, because a
// custom-type field cannot be skipped generically (§1.7). Enum-valued fields are plain i32 here
// (values: wire/names.hpp): servers of different generations number some enums differently.
namespace cpp tablemigrator.idl

include "dsn_base.thrift"

// ---- §2.1 RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX ----

struct partition_configuration {
    1: dsn_base.gpid pid;
    2: i64 ballot;
    3: i32 max_replica_count;
    4: dsn_base.rpc_address primary;
    5: list<dsn_base.rpc_address> secondaries;
    6: list<dsn_base.rpc_address> last_drops;
    7: i64 last_committed_decree;
    8: i32 partition_flags;
    9: optional dsn_base.host_port hp_primary;
    10: optional list<dsn_base.host_port> hp_secondaries;
    11: optional list<dsn_base.host_port> hp_last_drops;
}

struct query_cfg_request {
    1: string app_name;
    2: list<i32> partition_indices;
}

struct query_cfg_response {
    1: dsn_base.rdsn_error err;
    2: i32 app_id;
    3: i32 partition_count;
    4: bool is_stateful;
    5: list<partition_configuration> partitions;
}

// ---- §2.2 RPC_CM_CLUSTER_INFO ----

struct configuration_cluster_info_request {
}

struct configuration_cluster_info_response {
    1: dsn_base.rdsn_error err;
    2: list<string> keys;
    3: list<string> values;
}

// ---- §2.3 RPC_CM_LIST_NODES ----

struct configuration_list_nodes_request {
    1: i32 status;                      // node_status; 0 = all
}

struct node_info {
    1: i32 status;                      // node_status
    2: dsn_base.rpc_address node;
    3: optional dsn_base.host_port hp_node;
}

struct configuration_list_nodes_response {
    1: dsn_base.rdsn_error err;
    2: list<node_info> infos;
}

// ---- §2.4 RPC_CM_LIST_APPS ----

struct configuration_list_apps_request {
    1: i32 status;                      // app_status; 0 = no filter
    2: optional string app_name_pattern;
    3: optional i32 match_type;         // pattern_match_type
}

struct app_info {
    1: i32 status;                      // app_status
    2: string app_type;
    3: string app_name;
    4: i32 app_id;
    5: i32 partition_count;
    6: map<string, string> envs;
    7: bool is_stateful;
    8: i32 max_replica_count;
    9: i64 expire_second;
    10: i64 create_second;
    11: i64 drop_second;
    12: optional bool duplicating;       // absent = false
    13: i32 init_partition_count = -1;
    14: optional bool is_bulk_loading;   // absent = false
    15: optional bool atomic_idempotent; // absent = false
}

struct configuration_list_apps_response {
    1: dsn_base.rdsn_error err;
    2: list<app_info> infos;
    3: optional string hint_message;
}

// ---- §2.5 RPC_CM_UPDATE_APP_ENV ----

struct configuration_update_app_env_request {
    1: string app_name;
    2: i32 op;                          // app_env_operation
    3: optional list<string> keys;
    4: optional list<string> values;
    5: optional string clear_prefix;
}

struct configuration_update_app_env_response {
    1: dsn_base.rdsn_error err;
    2: string hint_message;
}

// ---- §2.6 RPC_CM_ADD_DUPLICATION ----

struct duplication_add_request {
    1: string app_name;
    2: string remote_cluster_name;
    // Absent means true. Thrift's C++ generator marks an optional field with a default as set,
    // so a default-constructed request writes `02 00 03 01`; clear __isset to omit it as Go does.
    3: optional bool is_duplicating_checkpoint = true;
    4: optional string remote_app_name;
    5: optional i32 remote_replica_count;
}

struct duplication_add_response {
    1: dsn_base.rdsn_error err;
    2: i32 appid;
    3: i32 dupid;
    4: optional string hint;
    5: optional string remote_app_name;
    6: optional i32 remote_replica_count;
}

// ---- §2.7 RPC_CM_QUERY_DUPLICATION ----

struct duplication_query_request {
    1: string app_name;
}

struct duplication_partition_state {
    1: i64 confirmed_decree;
    2: i64 last_committed_decree;
}

struct duplication_entry {
    1: i32 dupid;
    2: i32 status;                      // duplication_status (numbering depends on the generation)
    3: string remote;
    4: i64 create_ts;
    5: optional map<i32, i64> progress;
    7: optional i32 fail_mode;          // duplication_fail_mode
    8: optional string remote_app_name;
    9: optional i32 remote_replica_count;
    10: optional i32 mode;              // duplication_mode
    11: optional map<i32, duplication_partition_state> partition_states;
}

struct duplication_query_response {
    1: dsn_base.rdsn_error err;
    3: i32 appid;
    4: list<duplication_entry> entry_list;
}

// ---- §2.8 RPC_CM_MODIFY_DUPLICATION ----

struct duplication_modify_request {
    1: string app_name;
    2: i32 dupid;
    3: optional i32 status;
    4: optional i32 fail_mode;
}

struct duplication_modify_response {
    1: dsn_base.rdsn_error err;
    2: i32 appid;
}

// ---- §2.9 RPC_CM_LIST_DUPLICATION (master only) ----

struct duplication_list_request {
    1: string app_name_pattern;
    2: i32 match_type;
}

struct duplication_app_state {
    1: i32 appid;
    2: map<i32, duplication_entry> duplications;
    3: string app_name;
    4: i32 partition_count;
}

struct duplication_list_response {
    1: dsn_base.rdsn_error err;
    2: string hint_message;
    3: map<string, duplication_app_state> app_states;
}
