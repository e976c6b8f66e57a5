// Replica data-plane structs (pegasus-data-plane.md §2). Keys and values are blobs (custom type,
// §1.7 of the main spec); response `error` fields are RocksDB status codes.
namespace cpp tablemigrator.idl

include "dsn_base.thrift"

// ---- writes (§2.1) ----

struct update_request {
    1: dsn_base.blob key;               // full key: u16 len + hash_key + sort_key
    2: dsn_base.blob value;
    3: i32 expire_ts_seconds;           // seconds since 2016-01-01 UTC; 0 = no TTL
    4: optional i32 type;               // update_type; server-internal
    5: optional bool check_value_returned;
    6: optional bool check_value_exist;
    7: optional dsn_base.blob check_value;
}

struct update_response {
    1: i32 error;
    2: i32 app_id;
    3: i32 partition_index;
    4: i64 decree;
    5: string server;
}

struct key_value {
    1: dsn_base.blob key;
    2: dsn_base.blob value;
    3: optional i32 expire_ts_seconds;
}

struct multi_put_request {
    1: dsn_base.blob hash_key;
    2: list<key_value> kvs;
    3: i32 expire_ts_seconds;
}

struct multi_remove_request {
    1: dsn_base.blob hash_key;
    2: list<dsn_base.blob> sort_keys;
    3: i64 max_count;
}

struct multi_remove_response {
    1: i32 error;
    2: i64 count;
    3: i32 app_id;
    4: i32 partition_index;
    5: i64 decree;
    6: string server;
}

// ---- reads (§2.2) ----

struct read_response {
    1: i32 error;
    2: dsn_base.blob value;
    3: i32 app_id;
    4: i32 partition_index;
    6: string server;
}

struct ttl_response {
    1: i32 error;
    2: i32 ttl_seconds;
    3: i32 app_id;
    4: i32 partition_index;
    6: string server;
}

struct multi_get_request {
    1: dsn_base.blob hash_key;
    2: list<dsn_base.blob> sort_keys;
    3: i32 max_kv_count;
    4: i32 max_kv_size;
    5: bool no_value;
    6: dsn_base.blob start_sortkey;
    7: dsn_base.blob stop_sortkey;
    8: bool start_inclusive;
    9: bool stop_inclusive;
    10: i32 sort_key_filter_type;
    11: dsn_base.blob sort_key_filter_pattern;
    12: bool reverse;
}

struct multi_get_response {
    1: i32 error;
    2: list<key_value> kvs;
    3: i32 app_id;
    4: i32 partition_index;
    6: string server;
}

// ---- scans (§2.3) ----

struct get_scanner_request {
    1: dsn_base.blob start_key;
    2: dsn_base.blob stop_key;
    3: bool start_inclusive;
    4: bool stop_inclusive;
    5: i32 batch_size;
    6: bool no_value;
    7: i32 hash_key_filter_type;
    8: dsn_base.blob hash_key_filter_pattern;
    9: i32 sort_key_filter_type;
    10: dsn_base.blob sort_key_filter_pattern;
    11: optional bool validate_partition_hash;
    12: optional bool return_expire_ts;
    13: optional bool full_scan;
    14: optional bool only_return_count;   // absent = false
}

struct scan_request {
    1: i64 context_id;
}

struct scan_response {
    1: i32 error;
    2: list<key_value> kvs;
    3: i64 context_id;
    4: i32 app_id;
    5: i32 partition_index;
    6: string server;
    7: optional i32 kv_count;
}

// ---- duplicate (§2.4, server to server) ----

struct duplicate_entry {
    1: optional i64 timestamp;
    2: optional dsn_base.task_code task_code;
    3: optional dsn_base.blob raw_message;
    4: optional i8 cluster_id;
    5: optional bool verify_timetag;
}

struct duplicate_request {
    1: list<duplicate_entry> entries;
}

struct duplicate_response {
    1: optional i32 error;
    2: optional string error_hint;
}
