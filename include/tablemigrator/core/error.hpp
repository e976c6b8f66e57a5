// Error categories: rDSN error names as they travel on the wire, the client's own errors, and the
// single retry classification used by every client (never compare codes ad hoc at call sites).
#pragma once

#include <tablemigrator/core/result.hpp>

#include <string>
#include <string_view>

namespace tablemigrator {

// Every rDSN error name a Pegasus server can send (pegasus-protocol.md §2.11). Values are ours and
// never go on the wire: names do. Names not in this list are interned at run time with values from
// rdsn_errc::first_unknown upward, so an unknown name is preserved (message() returns it).
enum class rdsn_errc : int {
    ERR_OK = 0,
    ERR_UNKNOWN,
    ERR_SERVICE_NOT_FOUND,
    ERR_SERVICE_ALREADY_RUNNING,
    ERR_IO_PENDING,
    ERR_TIMEOUT,
    ERR_SERVICE_NOT_ACTIVE,
    ERR_BUSY,
    ERR_NETWORK_INIT_FAILED,
    ERR_FORWARD_TO_OTHERS,
    ERR_OBJECT_NOT_FOUND,
    ERR_HANDLER_NOT_FOUND,
    ERR_LEARN_FILE_FAILED,
    ERR_GET_LEARN_STATE_FAILED,
    ERR_INVALID_VERSION,
    ERR_INVALID_PARAMETERS,
    ERR_CAPACITY_EXCEEDED,
    ERR_INVALID_STATE,
    ERR_INACTIVE_STATE,
    ERR_NOT_ENOUGH_MEMBER,
    ERR_FILE_OPERATION_FAILED,
    ERR_HANDLE_EOF,
    ERR_WRONG_CHECKSUM,
    ERR_INVALID_DATA,
    ERR_INVALID_HANDLE,
    ERR_INCOMPLETE_DATA,
    ERR_VERSION_OUTDATED,
    ERR_PATH_NOT_FOUND,
    ERR_PATH_ALREADY_EXIST,
    ERR_ADDRESS_ALREADY_USED,
    ERR_STATE_FREEZED,
    ERR_LOCAL_APP_FAILURE,
    ERR_BIND_IOCP_FAILED,
    ERR_NETWORK_START_FAILED,
    ERR_NOT_IMPLEMENTED,
    ERR_CHECKPOINT_FAILED,
    ERR_WRONG_TIMING,
    ERR_NO_NEED_OPERATE,
    ERR_CORRUPTION,
    ERR_TRY_AGAIN,
    ERR_CLUSTER_NOT_FOUND,
    ERR_CLUSTER_ALREADY_EXIST,
    ERR_SERVICE_ALREADY_EXIST,
    ERR_INJECTED,
    ERR_REPLICATION_FAILURE,
    ERR_APP_EXIST,
    ERR_APP_NOT_EXIST,
    ERR_BUSY_CREATING,
    ERR_BUSY_DROPPING,
    ERR_NETWORK_FAILURE,
    ERR_UNDER_RECOVERY,
    ERR_LEARNER_NOT_FOUND,
    ERR_OPERATION_DISABLED,
    ERR_EXPIRED,
    ERR_LOCK_ALREADY_EXIST,
    ERR_HOLD_BY_OTHERS,
    ERR_RECURSIVE_LOCK,
    ERR_NO_OWNER,
    ERR_NODE_ALREADY_EXIST,
    ERR_INCONSISTENT_STATE,
    ERR_ARRAY_INDEX_OUT_OF_RANGE,
    ERR_DIR_NOT_EMPTY,
    ERR_FS_INTERNAL,
    ERR_IGNORE_BAD_DATA,
    ERR_APP_DROPPED,
    ERR_MOCK_INTERNAL,
    ERR_ZOOKEEPER_OPERATION,
    ERR_CHILD_REGISTERED,
    ERR_INGESTION_FAILED,
    ERR_UNAUTHENTICATED,
    ERR_KRB5_INTERNAL,
    ERR_SASL_INTERNAL,
    ERR_SASL_INCOMPLETE,
    ERR_ACL_DENY,
    ERR_SPLITTING,
    ERR_PARENT_PARTITION_MISUSED,
    ERR_CHILD_NOT_READY,
    ERR_DISK_INSUFFICIENT,
    ERR_RETRY_EXHAUSTED,
    ERR_SYNC_RANGER_POLICIES_FAILED,
    ERR_RANGER_PARSE_ACL,
    ERR_RANGER_POLICIES_NO_NEED_UPDATE,
    ERR_RDB_CORRUPTION,
    ERR_DISK_IO_ERROR,
    ERR_CURL_FAILED,
    ERR_DUP_EXIST,
    ERR_HTTP_ERROR,
    ERR_NOT_MATCHED,
    first_unknown = 1000,
};

// The client's own failures (never on the wire).
enum class client_errc : int {
    ok = 0,
    timeout = 1,            // a deadline passed (per call or overall)
    connection_closed,      // the peer closed or reset the connection
    malformed_frame,        // bytes that are not a valid frame
    frame_too_large,        // a frame above the configured maximum
    decode_failed,          // a frame whose body does not decode as the expected type
    unexpected_reply,       // reply name or shape does not match the request
    http_not_found,         // HTTP 404: a value the caller can tell apart from a failure
    http_error,             // any other non-2xx HTTP status
    bad_json,               // a body that is not the JSON we expect
    no_leader,              // no meta server answered as leader before the deadline
    invalid_argument,       // bad input from the caller
    cancelled,              // cancelled by the caller (Ctrl-C, abort)
    unsupported_version,    // the server generation lacks what we need
    precondition_failed,    // a safety check refused the operation
};

const boost::system::error_category& rdsn_category() noexcept;
const boost::system::error_category& client_category() noexcept;

error_code make_error_code(rdsn_errc e) noexcept;
error_code make_error_code(client_errc e) noexcept;

// Maps an rDSN error name from the wire to an error_code. ERR_OK maps to a code whose value is 0
// (which is "no error"). Unknown names are interned and keep their text.
error_code rdsn_error_from_name(std::string_view name);

// The wire name of an rDSN error code ("ERR_OK" for a default-constructed code).
std::string rdsn_error_name(const error_code& ec);

// True when the same request may succeed if sent again later (possibly to another server):
// leader changes, recovery, busy servers, timeouts and connection failures.
bool is_retryable(const error_code& ec) noexcept;

} // namespace tablemigrator

template <>
struct boost::system::is_error_code_enum<tablemigrator::rdsn_errc> : std::true_type {};
template <>
struct boost::system::is_error_code_enum<tablemigrator::client_errc> : std::true_type {};
