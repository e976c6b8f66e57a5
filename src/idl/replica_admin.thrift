// Node-level RPCs served by replica servers: the remote command (pegasus-protocol.md §3.1) and the
// absolute-decree queries of pegasus-progress-and-cutover.md §5.3.
namespace cpp tablemigrator.idl

include "dsn_base.thrift"

// RPC_CLI_CLI_CALL: the reply is a bare string (result field 0 of type STRING).
struct command {
    1: string cmd;
    2: list<string> arguments;
}

// RPC_QUERY_PN_DECREE. Field 2 is named node1 at HEAD (node before); same id and type.
struct query_replica_decree_request {
    1: dsn_base.gpid pid;
    2: dsn_base.rpc_address node1;
    3: optional dsn_base.host_port hp_node1;
}

struct query_replica_decree_response {
    1: dsn_base.rdsn_error err;
    2: i64 last_decree;
}

// RPC_QUERY_REPLICA_INFO (the server ignores the node field and reports every local replica).
struct query_replica_info_request {
    1: dsn_base.rpc_address node1;
    2: optional dsn_base.host_port hp_node1;
}

struct replica_info {
    1: dsn_base.gpid pid;
    2: i64 ballot;
    3: i32 status;                      // partition_status
    4: i64 last_committed_decree;
    5: i64 last_prepared_decree;
    6: i64 last_durable_decree;
    7: string app_type;
    8: string disk_tag;
    9: optional i32 manual_compact_status;
}

struct query_replica_info_response {
    1: dsn_base.rdsn_error err;
    2: list<replica_info> replicas;
}
