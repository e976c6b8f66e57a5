// Failure classification for the load client and the RocksDB status category.
#include "load/reaction.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/zk_error.hpp>

#include <boost/asio/error.hpp>

namespace tablemigrator::load {

namespace {

class rocksdb_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "rocksdb"; }
    std::string message(int ev) const override {
        static constexpr const char* names[] = {"kOk",
                                                "kNotFound",
                                                "kCorruption",
                                                "kNotSupported",
                                                "kInvalidArgument",
                                                "kIOError",
                                                "kMergeInProgress",
                                                "kIncomplete",
                                                "kShutdownInProgress",
                                                "kTimedOut",
                                                "kAborted",
                                                "kBusy",
                                                "kExpired",
                                                "kTryAgain",
                                                "kCompactionTooLarge",
                                                "kColumnFamilyDropped"};
        if (ev >= 0 && ev < static_cast<int>(std::size(names)))
            return std::string("rocksdb status ") + names[ev];
        return "rocksdb status " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& rocksdb_category() noexcept {
    static const rocksdb_category_impl c;
    return c;
}

error_code make_rocksdb_error(std::int32_t code) noexcept {
    return error_code(code, rocksdb_category());
}

reaction classify(const error_code& ec) noexcept {
    if (ec.category() == client_category()) {
        switch (static_cast<client_errc>(ec.value())) {
        case client_errc::cancelled:
        case client_errc::invalid_argument:
            return reaction::give_up;
        case client_errc::timeout:           // `timeout*` deny, dead primary: maybe moved
        case client_errc::connection_closed: // connection loss: the node may be gone
        case client_errc::malformed_frame:
        case client_errc::frame_too_large:
        case client_errc::no_leader:
            return reaction::refresh_and_retry;
        default:
            return reaction::retry;
        }
    }
    if (ec.category() == rdsn_category()) {
        switch (static_cast<rdsn_errc>(ec.value())) {
        // Not primary / reconfiguring / deny `reconfig*`; not hosted here; split finished.
        case rdsn_errc::ERR_INVALID_STATE:
        case rdsn_errc::ERR_OBJECT_NOT_FOUND:
        case rdsn_errc::ERR_PARENT_PARTITION_MISUSED:
        case rdsn_errc::ERR_INACTIVE_STATE:
        case rdsn_errc::ERR_NOT_ENOUGH_MEMBER:
            return reaction::refresh_and_retry;
        // Do not refresh (§3.2): back off on the same route.
        case rdsn_errc::ERR_BUSY:
        case rdsn_errc::ERR_SPLITTING:
        case rdsn_errc::ERR_DISK_INSUFFICIENT:
        case rdsn_errc::ERR_CAPACITY_EXCEEDED:
        case rdsn_errc::ERR_TIMEOUT:
            return reaction::retry;
        default:
            // Like the C++ client: any other frame error drops the cached routing (a meta
            // error during resolution such as ERR_APP_NOT_EXIST also lands here).
            return reaction::refresh_and_retry;
        }
    }
    if (ec.category() == rocksdb_category())
        return reaction::retry; // kBusy, kTimedOut, kTryAgain, ...: the write was not applied
    if (ec == boost::asio::error::operation_aborted)
        return reaction::give_up;
    // Socket errors (refused, reset, unreachable) and ZooKeeper errors during resolution.
    return reaction::refresh_and_retry;
}

std::string error_label(const error_code& ec) {
    if (ec.category() == rdsn_category())
        return rdsn_error_name(ec);
    if (ec.category() == rocksdb_category())
        return "rocksdb:" + std::to_string(ec.value());
    if (ec.category() == client_category()) {
        auto m = ec.message();
        for (auto& c : m)
            if (c == ' ')
                c = '_';
        return m;
    }
    return std::string(ec.category().name()) + ":" + ec.message();
}

} // namespace tablemigrator::load
