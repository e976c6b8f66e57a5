// Pegasus custom types (pegasus-protocol.md §1.7). Placeholders only: their payloads are not Thrift
// structs, so thrift's output for this file is never built. The classes are hand-written in
// src/wire/custom/dsn_base_types.h, the header thrift's generated code includes for this file.
namespace cpp tablemigrator.idl

// Error name as a Thrift string.
struct rdsn_error {}
// One i64: low 32 bits app_id, high 32 bits partition_index.
struct gpid {}
// One i64: IPv4 (host order) << 32 | port << 16 | type.
struct rpc_address {}
// String host, i16 port, byte type, with no struct framing.
struct host_port {}
// Thrift binary.
struct blob {}
// Thrift string: an RPC/task code name.
struct task_code {}
