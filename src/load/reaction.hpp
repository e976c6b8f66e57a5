// How the load client reacts to a failed data RPC (pegasus-data-plane.md §3.2, §7.6): the one
// classification every retry loop in pegasus-load goes through. Also an error category for the
// RocksDB status codes carried in response structs (§3.1), so they travel as error_code values.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <cstdint>
#include <string>

namespace tablemigrator::load {

enum class reaction {
    refresh_and_retry, // routing is stale: re-resolve (ZooKeeper + meta), recompute gpid, resend
    retry,             // transient on the same route: back off and resend
    give_up,           // retrying cannot help (caller cancelled, bad input)
};

reaction classify(const error_code& ec) noexcept;

// RocksDB status codes (response struct `error`, non-zero) as error codes.
const boost::system::error_category& rocksdb_category() noexcept;
error_code make_rocksdb_error(std::int32_t code) noexcept;

// Short stable name for counters and logs: "ERR_INVALID_STATE", "timeout", "rocksdb:11", ...
std::string error_label(const error_code& ec);

} // namespace tablemigrator::load
