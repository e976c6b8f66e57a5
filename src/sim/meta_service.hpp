// Simulated meta server: THFT request -> reply bytes for the meta RPCs of pegasus-protocol.md §2,
// with per-generation semantics (2.4/2.5 vs master) and follower behaviour (§2.0).
#pragma once

#include "sim/model.hpp"

#include <tablemigrator/wire/frame.hpp>

#include <optional>

namespace tablemigrator::sim {

// Handles one request addressed to meta server `meta` of cluster `c`. nullopt = no reply.
std::optional<wire::bytes> handle_meta_request(cluster_state& c, int meta,
                                               const wire::request_frame& f);

} // namespace tablemigrator::sim
