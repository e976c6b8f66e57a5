// Which Pegasus server generation we talk to: 2.4, 2.5 or master (future 2.6). The generation
// decides which progress signals exist (progress doc §0) and what duplication status numbers mean.
#pragma once

#include <tablemigrator/replica/command_parsers.hpp>
#include <tablemigrator/replica/http_parsers.hpp>

#include <optional>
#include <string_view>

namespace tablemigrator::replica {

enum class server_generation { v2_4, v2_5, master, unknown };

std::string_view to_string(server_generation g) noexcept;

// From a version string: "2.4.0" -> v2_4, "v2.5.1" -> v2_5, "2.6.0-SNAPSHOT" or newer -> master,
// older than 2.4 or unparsable -> unknown.
server_generation generation_from_version(std::string_view version);

// server-info: the JSON form exists only on master builds, so it never maps below master unless
// the version number says so (a master build between tags may still report 2.5.x).
server_generation generation_from_server_info(const server_info_reply& info);

// Reply shapes seen on the wire, used when no version string is available.
struct generation_evidence {
    bool hp_fields_seen = false;       // a meta reply carried hp_* host_port fields (master)
    bool query_progress_known = false; // replica.query-progress answered (master)
    bool dup_metrics_seen = false;     // /metrics returned dup_* replica metrics (master)
};
// master when any master-only shape was seen; otherwise unknown (2.4 and 2.5 cannot be told
// apart by reply shapes alone, so the caller gets no guess).
server_generation generation_from_evidence(const generation_evidence& evidence);

} // namespace tablemigrator::replica
