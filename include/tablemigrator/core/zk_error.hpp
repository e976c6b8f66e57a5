// ZooKeeper error codes as an error_code category. The values mirror the ZooKeeper C client's
// numeric return codes (zookeeper.h ZOO_ERRORS) so src/zk can convert with a plain cast; core
// itself never includes ZooKeeper headers.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <type_traits>

namespace tablemigrator {

enum class zk_errc : int {
    ok = 0,
    system_error = -1,
    runtime_inconsistency = -2,
    data_inconsistency = -3,
    connection_loss = -4,       // the connection dropped; the request may or may not have run
    marshalling_error = -5,
    unimplemented = -6,
    operation_timeout = -7,     // no reply before the deadline; the request may or may not have run
    bad_arguments = -8,
    invalid_state = -9,
    new_config_no_quorum = -13,
    reconfig_in_progress = -14,
    ssl_connection_error = -15,
    api_error = -100,
    no_node = -101,
    no_auth = -102,             // the ACL denies this session
    bad_version = -103,         // compare-and-set lost: the node changed since it was read
    no_children_for_ephemerals = -108,
    node_exists = -110,
    not_empty = -111,
    session_expired = -112,     // the session is gone for good; open a new one
    invalid_callback = -113,
    invalid_acl = -114,
    auth_failed = -115,
    closing = -116,             // the client was closed while the request was in flight
    nothing = -117,
    session_moved = -118,
    not_read_only = -119,
    ephemeral_on_local_session = -120,
    no_watcher = -121,
    reconfig_disabled = -123,
    session_closed_requires_sasl_auth = -124,
    throttled_op = -127,        // the server refused to run the request; safe to retry
};

const boost::system::error_category& zk_category() noexcept;

error_code make_error_code(zk_errc e) noexcept;

} // namespace tablemigrator

template <>
struct boost::system::is_error_code_enum<tablemigrator::zk_errc> : std::true_type {};
