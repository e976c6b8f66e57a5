// The "zookeeper" error category: messages for the ZooKeeper C client's return codes.
#include <tablemigrator/core/zk_error.hpp>

#include <string>

namespace tablemigrator {
namespace {

class zk_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "zookeeper"; }
    std::string message(int ev) const override {
        switch (static_cast<zk_errc>(ev)) {
        case zk_errc::ok: return "ok";
        case zk_errc::system_error: return "system error";
        case zk_errc::runtime_inconsistency: return "runtime inconsistency";
        case zk_errc::data_inconsistency: return "data inconsistency";
        case zk_errc::connection_loss: return "connection loss";
        case zk_errc::marshalling_error: return "marshalling error";
        case zk_errc::unimplemented: return "unimplemented";
        case zk_errc::operation_timeout: return "operation timeout";
        case zk_errc::bad_arguments: return "bad arguments";
        case zk_errc::invalid_state: return "invalid zhandle state";
        case zk_errc::new_config_no_quorum: return "new config has no quorum";
        case zk_errc::reconfig_in_progress: return "reconfig in progress";
        case zk_errc::ssl_connection_error: return "ssl connection error";
        case zk_errc::api_error: return "api error";
        case zk_errc::no_node: return "no node";
        case zk_errc::no_auth: return "not authenticated";
        case zk_errc::bad_version: return "bad version";
        case zk_errc::no_children_for_ephemerals: return "no children for ephemerals";
        case zk_errc::node_exists: return "node exists";
        case zk_errc::not_empty: return "not empty";
        case zk_errc::session_expired: return "session expired";
        case zk_errc::invalid_callback: return "invalid callback";
        case zk_errc::invalid_acl: return "invalid acl";
        case zk_errc::auth_failed: return "authentication failed";
        case zk_errc::closing: return "zookeeper is closing";
        case zk_errc::nothing: return "no server responses to process";
        case zk_errc::session_moved: return "session moved to another server";
        case zk_errc::not_read_only: return "not a read-only call";
        case zk_errc::ephemeral_on_local_session: return "ephemeral node on local session";
        case zk_errc::no_watcher: return "no watcher";
        case zk_errc::reconfig_disabled: return "reconfig disabled";
        case zk_errc::session_closed_requires_sasl_auth: return "session closed: requires SASL auth";
        case zk_errc::throttled_op: return "operation throttled";
        }
        return "zookeeper error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& zk_category() noexcept {
    static const zk_category_impl c;
    return c;
}

error_code make_error_code(zk_errc e) noexcept {
    return {static_cast<int>(e), zk_category()};
}

} // namespace tablemigrator
