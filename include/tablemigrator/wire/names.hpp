// RPC names and the numeric enums of Pegasus structs (pegasus-protocol.md §2.10, data-plane §2).
// IDL fields that carry these enums are plain i32 (servers of different generations disagree,
// notably on duplication_status), so callers convert with static_cast and these name tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tablemigrator::wire {

// ---- RPC names (the reply name is the request name + "_ACK") ---------------------------------

// meta server (§2)
inline constexpr std::string_view rpc_cm_query_partition_config_by_index =
    "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX";
inline constexpr std::string_view rpc_cm_cluster_info = "RPC_CM_CLUSTER_INFO";
inline constexpr std::string_view rpc_cm_list_nodes = "RPC_CM_LIST_NODES";
inline constexpr std::string_view rpc_cm_list_apps = "RPC_CM_LIST_APPS";
inline constexpr std::string_view rpc_cm_update_app_env = "RPC_CM_UPDATE_APP_ENV";
inline constexpr std::string_view rpc_cm_add_duplication = "RPC_CM_ADD_DUPLICATION";
inline constexpr std::string_view rpc_cm_query_duplication = "RPC_CM_QUERY_DUPLICATION";
inline constexpr std::string_view rpc_cm_modify_duplication = "RPC_CM_MODIFY_DUPLICATION";
inline constexpr std::string_view rpc_cm_list_duplication = "RPC_CM_LIST_DUPLICATION"; // master
// meta-internal RPCs named in the docs (never sent by the migrator)
inline constexpr std::string_view rpc_cm_create_app = "RPC_CM_CREATE_APP";
inline constexpr std::string_view rpc_cm_duplication_sync = "RPC_CM_DUPLICATION_SYNC";
inline constexpr std::string_view rpc_cm_config_sync = "RPC_CM_CONFIG_SYNC";

// node-level RPCs (meta and replica servers)
inline constexpr std::string_view rpc_cli_cli_call = "RPC_CLI_CLI_CALL";
inline constexpr std::string_view rpc_query_pn_decree = "RPC_QUERY_PN_DECREE";
inline constexpr std::string_view rpc_query_replica_info = "RPC_QUERY_REPLICA_INFO";
inline constexpr std::string_view rpc_replication_write_empty = "RPC_REPLICATION_WRITE_EMPTY";

// replica data plane (data-plane §1)
inline constexpr std::string_view rpc_rrdb_put = "RPC_RRDB_RRDB_PUT";
inline constexpr std::string_view rpc_rrdb_multi_put = "RPC_RRDB_RRDB_MULTI_PUT";
inline constexpr std::string_view rpc_rrdb_remove = "RPC_RRDB_RRDB_REMOVE";
inline constexpr std::string_view rpc_rrdb_multi_remove = "RPC_RRDB_RRDB_MULTI_REMOVE";
inline constexpr std::string_view rpc_rrdb_incr = "RPC_RRDB_RRDB_INCR";
inline constexpr std::string_view rpc_rrdb_check_and_set = "RPC_RRDB_RRDB_CHECK_AND_SET";
inline constexpr std::string_view rpc_rrdb_check_and_mutate = "RPC_RRDB_RRDB_CHECK_AND_MUTATE";
inline constexpr std::string_view rpc_rrdb_duplicate = "RPC_RRDB_RRDB_DUPLICATE";
inline constexpr std::string_view rpc_rrdb_get = "RPC_RRDB_RRDB_GET";
inline constexpr std::string_view rpc_rrdb_ttl = "RPC_RRDB_RRDB_TTL";
inline constexpr std::string_view rpc_rrdb_multi_get = "RPC_RRDB_RRDB_MULTI_GET";
inline constexpr std::string_view rpc_rrdb_sortkey_count = "RPC_RRDB_RRDB_SORTKEY_COUNT";
inline constexpr std::string_view rpc_rrdb_get_scanner = "RPC_RRDB_RRDB_GET_SCANNER";
inline constexpr std::string_view rpc_rrdb_scan = "RPC_RRDB_RRDB_SCAN";
inline constexpr std::string_view rpc_rrdb_clear_scanner =
    "RPC_RRDB_RRDB_CLEAR_SCANNER"; // no reply
inline constexpr std::string_view rpc_rrdb_batch_get = "RPC_RRDB_RRDB_BATCH_GET";
inline constexpr std::string_view rpc_rrdb_bulk_load = "RPC_RRDB_RRDB_BULK_LOAD";

// "<name>_ACK".
inline std::string reply_name(std::string_view rpc_name) {
    std::string s(rpc_name);
    s += "_ACK";
    return s;
}

// ---- enums (§2.10; values are what travels on the wire) ----------------------------------------

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

enum class node_status : std::int32_t { invalid = 0, alive = 1, unalive = 2 };

enum class app_env_operation : std::int32_t { invalid = 0, set = 1, del = 2, clear = 3 };

// duplication_status of 2.4 and later.
enum class duplication_status : std::int32_t {
    init = 0,
    prepare = 1,
    app = 2,
    log = 3,
    pause = 4,
    removed = 5,
};

// duplication_status of 2.3 and earlier (before 2022-02): the same numbers mean different
// states, so a value is only meaningful together with the server generation.
enum class duplication_status_v23 : std::int32_t { init = 0, start = 1, pause = 2, removed = 3 };

enum class duplication_fail_mode : std::int32_t { fail_slow = 0, fail_skip = 1, fail_fast = 2 };

enum class duplication_mode : std::int32_t { full = 0, incremental = 1 };

enum class pattern_match_type : std::int32_t {
    invalid = 0,
    match_all = 1,
    match_exact = 2,
    match_anywhere = 3,
    match_prefix = 4,
    match_postfix = 5,
    match_regex = 6,
};

enum class meta_function_level : std::int32_t {
    stopped = 100,
    blind = 200,
    freezed = 300,
    steady = 400,
    lively = 500,
    invalid = 10000,
};

// Data plane (data-plane §2.1–§2.2).
enum class update_type : std::int32_t {
    put = 0,
    incr = 1,
    check_and_set = 2,
    check_and_mutate_put = 3,
    check_and_mutate_remove = 4,
};

enum class filter_type : std::int32_t {
    no_filter = 0,
    match_anywhere = 1,
    match_prefix = 2,
    match_postfix = 3,
};

// The `error` field of data-plane responses: a RocksDB status code (data-plane §3.1).
enum class rocksdb_status : std::int32_t {
    ok = 0,
    not_found = 1,
    corruption = 2,
    not_supported = 3,
    invalid_argument = 4,
    io_error = 5,
    merge_in_progress = 6,
    incomplete = 7,
    shutdown_in_progress = 8,
    timed_out = 9,
    aborted = 10,
    busy = 11,
    expired = 12,
    try_again = 13,
    compaction_too_large = 14,
    column_family_dropped = 15,
};

// ---- wire names (unknown values -> "") ----------------------------------------------------------

constexpr std::string_view to_string(app_status v) noexcept {
    switch (v) {
    case app_status::invalid:
        return "AS_INVALID";
    case app_status::available:
        return "AS_AVAILABLE";
    case app_status::creating:
        return "AS_CREATING";
    case app_status::create_failed:
        return "AS_CREATE_FAILED";
    case app_status::dropping:
        return "AS_DROPPING";
    case app_status::drop_failed:
        return "AS_DROP_FAILED";
    case app_status::dropped:
        return "AS_DROPPED";
    case app_status::recalling:
        return "AS_RECALLING";
    }
    return "";
}

constexpr std::string_view to_string(node_status v) noexcept {
    switch (v) {
    case node_status::invalid:
        return "NS_INVALID";
    case node_status::alive:
        return "NS_ALIVE";
    case node_status::unalive:
        return "NS_UNALIVE";
    }
    return "";
}

constexpr std::string_view to_string(app_env_operation v) noexcept {
    switch (v) {
    case app_env_operation::invalid:
        return "APP_ENV_OP_INVALID";
    case app_env_operation::set:
        return "APP_ENV_OP_SET";
    case app_env_operation::del:
        return "APP_ENV_OP_DEL";
    case app_env_operation::clear:
        return "APP_ENV_OP_CLEAR";
    }
    return "";
}

constexpr std::string_view to_string(duplication_status v) noexcept {
    switch (v) {
    case duplication_status::init:
        return "DS_INIT";
    case duplication_status::prepare:
        return "DS_PREPARE";
    case duplication_status::app:
        return "DS_APP";
    case duplication_status::log:
        return "DS_LOG";
    case duplication_status::pause:
        return "DS_PAUSE";
    case duplication_status::removed:
        return "DS_REMOVED";
    }
    return "";
}

constexpr std::string_view to_string(duplication_status_v23 v) noexcept {
    switch (v) {
    case duplication_status_v23::init:
        return "DS_INIT";
    case duplication_status_v23::start:
        return "DS_START";
    case duplication_status_v23::pause:
        return "DS_PAUSE";
    case duplication_status_v23::removed:
        return "DS_REMOVED";
    }
    return "";
}

constexpr std::string_view to_string(duplication_fail_mode v) noexcept {
    switch (v) {
    case duplication_fail_mode::fail_slow:
        return "FAIL_SLOW";
    case duplication_fail_mode::fail_skip:
        return "FAIL_SKIP";
    case duplication_fail_mode::fail_fast:
        return "FAIL_FAST";
    }
    return "";
}

constexpr std::string_view to_string(duplication_mode v) noexcept {
    switch (v) {
    case duplication_mode::full:
        return "FULL";
    case duplication_mode::incremental:
        return "INCREMENTAL";
    }
    return "";
}

constexpr std::string_view to_string(pattern_match_type v) noexcept {
    switch (v) {
    case pattern_match_type::invalid:
        return "PMT_INVALID";
    case pattern_match_type::match_all:
        return "PMT_MATCH_ALL";
    case pattern_match_type::match_exact:
        return "PMT_MATCH_EXACT";
    case pattern_match_type::match_anywhere:
        return "PMT_MATCH_ANYWHERE";
    case pattern_match_type::match_prefix:
        return "PMT_MATCH_PREFIX";
    case pattern_match_type::match_postfix:
        return "PMT_MATCH_POSTFIX";
    case pattern_match_type::match_regex:
        return "PMT_MATCH_REGEX";
    }
    return "";
}

constexpr std::string_view to_string(meta_function_level v) noexcept {
    switch (v) {
    case meta_function_level::stopped:
        return "fl_stopped";
    case meta_function_level::blind:
        return "fl_blind";
    case meta_function_level::freezed:
        return "fl_freezed";
    case meta_function_level::steady:
        return "fl_steady";
    case meta_function_level::lively:
        return "fl_lively";
    case meta_function_level::invalid:
        return "fl_invalid";
    }
    return "";
}

// The 2.4+ meaning of a ≤2.3 status, where one exists: DS_START was "shipping the log".
constexpr duplication_status from_v23(duplication_status_v23 v) noexcept {
    switch (v) {
    case duplication_status_v23::init:
        return duplication_status::init;
    case duplication_status_v23::start:
        return duplication_status::log;
    case duplication_status_v23::pause:
        return duplication_status::pause;
    case duplication_status_v23::removed:
        return duplication_status::removed;
    }
    return duplication_status::init;
}

} // namespace tablemigrator::wire
