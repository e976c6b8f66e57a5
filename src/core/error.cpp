// Error categories and the retry classification.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/zk_error.hpp>

#include <boost/asio/error.hpp>

#include <array>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tablemigrator {
namespace {

constexpr std::array<std::string_view, 88> known_names = {
    "ERR_OK", "ERR_UNKNOWN", "ERR_SERVICE_NOT_FOUND", "ERR_SERVICE_ALREADY_RUNNING",
    "ERR_IO_PENDING", "ERR_TIMEOUT", "ERR_SERVICE_NOT_ACTIVE", "ERR_BUSY",
    "ERR_NETWORK_INIT_FAILED", "ERR_FORWARD_TO_OTHERS", "ERR_OBJECT_NOT_FOUND",
    "ERR_HANDLER_NOT_FOUND", "ERR_LEARN_FILE_FAILED", "ERR_GET_LEARN_STATE_FAILED",
    "ERR_INVALID_VERSION", "ERR_INVALID_PARAMETERS", "ERR_CAPACITY_EXCEEDED", "ERR_INVALID_STATE",
    "ERR_INACTIVE_STATE", "ERR_NOT_ENOUGH_MEMBER", "ERR_FILE_OPERATION_FAILED", "ERR_HANDLE_EOF",
    "ERR_WRONG_CHECKSUM", "ERR_INVALID_DATA", "ERR_INVALID_HANDLE", "ERR_INCOMPLETE_DATA",
    "ERR_VERSION_OUTDATED", "ERR_PATH_NOT_FOUND", "ERR_PATH_ALREADY_EXIST",
    "ERR_ADDRESS_ALREADY_USED", "ERR_STATE_FREEZED", "ERR_LOCAL_APP_FAILURE",
    "ERR_BIND_IOCP_FAILED", "ERR_NETWORK_START_FAILED", "ERR_NOT_IMPLEMENTED",
    "ERR_CHECKPOINT_FAILED", "ERR_WRONG_TIMING", "ERR_NO_NEED_OPERATE", "ERR_CORRUPTION",
    "ERR_TRY_AGAIN", "ERR_CLUSTER_NOT_FOUND", "ERR_CLUSTER_ALREADY_EXIST",
    "ERR_SERVICE_ALREADY_EXIST", "ERR_INJECTED", "ERR_REPLICATION_FAILURE", "ERR_APP_EXIST",
    "ERR_APP_NOT_EXIST", "ERR_BUSY_CREATING", "ERR_BUSY_DROPPING", "ERR_NETWORK_FAILURE",
    "ERR_UNDER_RECOVERY", "ERR_LEARNER_NOT_FOUND", "ERR_OPERATION_DISABLED", "ERR_EXPIRED",
    "ERR_LOCK_ALREADY_EXIST", "ERR_HOLD_BY_OTHERS", "ERR_RECURSIVE_LOCK", "ERR_NO_OWNER",
    "ERR_NODE_ALREADY_EXIST", "ERR_INCONSISTENT_STATE", "ERR_ARRAY_INDEX_OUT_OF_RANGE",
    "ERR_DIR_NOT_EMPTY", "ERR_FS_INTERNAL", "ERR_IGNORE_BAD_DATA", "ERR_APP_DROPPED",
    "ERR_MOCK_INTERNAL", "ERR_ZOOKEEPER_OPERATION", "ERR_CHILD_REGISTERED",
    "ERR_INGESTION_FAILED", "ERR_UNAUTHENTICATED", "ERR_KRB5_INTERNAL", "ERR_SASL_INTERNAL",
    "ERR_SASL_INCOMPLETE", "ERR_ACL_DENY", "ERR_SPLITTING", "ERR_PARENT_PARTITION_MISUSED",
    "ERR_CHILD_NOT_READY", "ERR_DISK_INSUFFICIENT", "ERR_RETRY_EXHAUSTED",
    "ERR_SYNC_RANGER_POLICIES_FAILED", "ERR_RANGER_PARSE_ACL",
    "ERR_RANGER_POLICIES_NO_NEED_UPDATE", "ERR_RDB_CORRUPTION", "ERR_DISK_IO_ERROR",
    "ERR_CURL_FAILED", "ERR_DUP_EXIST", "ERR_HTTP_ERROR", "ERR_NOT_MATCHED",
};
static_assert(known_names.size() == static_cast<std::size_t>(rdsn_errc::ERR_NOT_MATCHED) + 1);

// Names seen on the wire that this build does not know. Interning keeps them printable.
class unknown_names {
public:
    int intern(std::string_view name) {
        std::lock_guard lock(mutex_);
        auto it = index_.find(std::string(name));
        if (it != index_.end())
            return it->second;
        const int value = static_cast<int>(rdsn_errc::first_unknown) + static_cast<int>(names_.size());
        names_.emplace_back(name);
        index_.emplace(names_.back(), value);
        return value;
    }
    std::string name(int value) {
        std::lock_guard lock(mutex_);
        const auto i = static_cast<std::size_t>(value - static_cast<int>(rdsn_errc::first_unknown));
        return i < names_.size() ? names_[i] : "ERR_UNKNOWN(" + std::to_string(value) + ")";
    }

private:
    std::mutex mutex_;
    std::vector<std::string> names_;
    std::unordered_map<std::string, int> index_;
};

unknown_names& unknowns() {
    static unknown_names u;
    return u;
}

class rdsn_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "rdsn"; }
    std::string message(int ev) const override {
        if (ev >= 0 && static_cast<std::size_t>(ev) < known_names.size())
            return std::string(known_names[static_cast<std::size_t>(ev)]);
        return unknowns().name(ev);
    }
};

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "client"; }
    std::string message(int ev) const override {
        switch (static_cast<client_errc>(ev)) {
        case client_errc::ok: return "ok";
        case client_errc::timeout: return "deadline exceeded";
        case client_errc::connection_closed: return "connection closed";
        case client_errc::malformed_frame: return "malformed frame";
        case client_errc::frame_too_large: return "frame too large";
        case client_errc::decode_failed: return "reply does not decode";
        case client_errc::unexpected_reply: return "unexpected reply";
        case client_errc::http_not_found: return "HTTP 404 not found";
        case client_errc::http_error: return "HTTP error status";
        case client_errc::bad_json: return "malformed JSON";
        case client_errc::no_leader: return "no meta server answered as leader";
        case client_errc::invalid_argument: return "invalid argument";
        case client_errc::cancelled: return "cancelled";
        case client_errc::unsupported_version: return "unsupported server version";
        case client_errc::precondition_failed: return "precondition failed";
        }
        return "client error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& rdsn_category() noexcept {
    static const rdsn_category_impl c;
    return c;
}

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl c;
    return c;
}

error_code make_error_code(rdsn_errc e) noexcept {
    return {static_cast<int>(e), rdsn_category()};
}

error_code make_error_code(client_errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}

error_code rdsn_error_from_name(std::string_view name) {
    for (std::size_t i = 0; i < known_names.size(); ++i)
        if (known_names[i] == name)
            return {static_cast<int>(i), rdsn_category()};
    return {unknowns().intern(name), rdsn_category()};
}

std::string rdsn_error_name(const error_code& ec) {
    if (!ec)
        return "ERR_OK";
    if (ec.category() == rdsn_category())
        return rdsn_category().message(ec.value());
    return ec.message();
}

bool is_retryable(const error_code& ec) noexcept {
    if (!ec)
        return false;
    if (ec.category() == rdsn_category()) {
        switch (static_cast<rdsn_errc>(ec.value())) {
        case rdsn_errc::ERR_FORWARD_TO_OTHERS:
        case rdsn_errc::ERR_SERVICE_NOT_ACTIVE:
        case rdsn_errc::ERR_UNDER_RECOVERY:
        case rdsn_errc::ERR_BUSY:
        case rdsn_errc::ERR_TIMEOUT:
        case rdsn_errc::ERR_NETWORK_FAILURE:
            return true;
        default:
            return false;
        }
    }
    if (ec.category() == client_category()) {
        switch (static_cast<client_errc>(ec.value())) {
        case client_errc::timeout:
        case client_errc::connection_closed:
        case client_errc::malformed_frame:
        case client_errc::no_leader:
            return true;
        default:
            return false;
        }
    }
    if (ec.category() == zk_category()) {
        // Connection loss and timeouts heal on the same session (the client reconnects); an
        // expired session never comes back, so retrying on it is pointless: open a new one.
        switch (static_cast<zk_errc>(ec.value())) {
        case zk_errc::connection_loss:
        case zk_errc::operation_timeout:
        case zk_errc::throttled_op:
            return true;
        default:
            return false;
        }
    }
    namespace ae = boost::asio::error;
    return ec == ae::connection_refused || ec == ae::connection_reset ||
           ec == ae::connection_aborted || ec == ae::eof || ec == ae::timed_out ||
           ec == ae::broken_pipe || ec == ae::host_unreachable || ec == ae::network_unreachable ||
           ec == ae::not_connected || ec == ae::network_down || ec == ae::try_again ||
           ec == ae::host_not_found_try_again;
}

} // namespace tablemigrator
