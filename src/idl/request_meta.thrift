// The meta struct of a THFT v1 request header (pegasus-protocol.md §1.3). The frame decoder reads
// it by hand; this definition is here so encoders (tests, pegasus-load) can produce it.
namespace cpp tablemigrator.idl

struct thrift_request_meta_v1 {
    1: optional i32 app_id;
    2: optional i32 partition_index;
    3: optional i32 client_timeout;
    4: optional i64 client_partition_hash;
    5: optional bool is_backup_request;
}
