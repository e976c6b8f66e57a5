// Simulated replica server over THFT: remote commands, decree queries and the data plane (PUT, GET,
// REMOVE, MULTI_PUT, MULTI_REMOVE, MULTI_GET, TTL, scanners) with the real check order and routing
// validation (pegasus-data-plane.md §3-§5).
#pragma once

#include "sim/model.hpp"

#include <tablemigrator/wire/frame.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace tablemigrator::sim {

// Handles one request addressed to replica node `node` of cluster `c`. nullopt = no reply
// (timeout deny, CLEAR_SCANNER).
std::optional<wire::bytes> handle_replica_request(cluster_state& c, int node,
                                                  const wire::request_frame& f);

// CRC-64 (data-plane §5.2: CRC-64/NVME) and the server's key-hash rule over a full key.
std::uint64_t crc64(std::string_view data) noexcept;
std::uint64_t key_hash(std::string_view full_key) noexcept;
std::string encode_full_key(std::string_view hash_key, std::string_view sort_key);

} // namespace tablemigrator::sim
