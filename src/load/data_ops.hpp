// Single data-plane RPC attempts (pegasus-data-plane.md §1-§2, §6) against one primary, with the
// header routing fields of a key_target. No retries here: the caller's retry loop decides.
#pragma once

#include "load/resolver.hpp"

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/rpc/session.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tablemigrator::load {

// Errors of every operation: rpc_session::call's (timeout, connection errors, cancelled), the
// frame error (ERR_INVALID_STATE, ERR_OBJECT_NOT_FOUND, ...), client_errc::decode_failed, and a
// non-zero response `error` as a rocksdb_category() code (except GET's kNotFound).

struct write_ack {
    std::int64_t decree = 0;
    std::string server;
};

// RPC_RRDB_RRDB_PUT {full key, value, expire 0}.
boost::asio::awaitable<result<write_ack>> put(std::shared_ptr<rpc::rpc_session> session,
                                              key_target target, std::string hash_key,
                                              std::string sort_key, std::string value,
                                              std::chrono::milliseconds timeout);

// RPC_RRDB_RRDB_MULTI_PUT {hash_key, kvs (sort key, value), expire 0}.
boost::asio::awaitable<result<write_ack>>
multi_put(std::shared_ptr<rpc::rpc_session> session, key_target target, std::string hash_key,
          std::vector<std::pair<std::string, std::string>> kvs, std::chrono::milliseconds timeout);

// RPC_RRDB_RRDB_GET: the value, or nullopt when not found (kNotFound).
boost::asio::awaitable<result<std::optional<std::string>>>
get(std::shared_ptr<rpc::rpc_session> session, key_target target, std::string hash_key,
    std::string sort_key, std::chrono::milliseconds timeout);

struct scan_batch {
    std::vector<std::pair<std::string, std::string>> kvs; // full raw key, user value
    std::int64_t context_id = -1;                         // -1: partition finished
    std::int32_t error = 0; // 0, or 1 (SCAN: unknown context) / 7 (incomplete): see §6
};

// RPC_RRDB_RRDB_GET_SCANNER over the whole partition from `start_key` (a full raw key; empty =
// from the beginning) to the end, with validate_partition_hash true (data-plane §6). Errors
// other than 0/1/7 in the response are returned as rocksdb codes.
boost::asio::awaitable<result<scan_batch>>
get_scanner(std::shared_ptr<rpc::rpc_session> session, key_target target, std::string start_key,
            bool start_inclusive, std::int32_t batch_size, std::chrono::milliseconds timeout);

// RPC_RRDB_RRDB_SCAN {context_id}.
boost::asio::awaitable<result<scan_batch>> scan(std::shared_ptr<rpc::rpc_session> session,
                                                key_target target, std::int64_t context_id,
                                                std::chrono::milliseconds timeout);

} // namespace tablemigrator::load
