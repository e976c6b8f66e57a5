// Generation detection from version strings and reply shapes (pegasus-protocol.md §3.7, §1.7).
#include <tablemigrator/replica/server_generation.hpp>

#include <charconv>

namespace tablemigrator::replica {

std::string_view to_string(server_generation g) noexcept {
    switch (g) {
    case server_generation::v2_4:
        return "2.4";
    case server_generation::v2_5:
        return "2.5";
    case server_generation::master:
        return "master";
    case server_generation::unknown:
        return "unknown";
    }
    return "unknown";
}

server_generation generation_from_version(std::string_view version) {
    if (!version.empty() && (version.front() == 'v' || version.front() == 'V'))
        version.remove_prefix(1);
    int major = 0;
    int minor = 0;
    const char* end = version.data() + version.size();
    auto r1 = std::from_chars(version.data(), end, major);
    if (r1.ec != std::errc{} || r1.ptr == end || *r1.ptr != '.')
        return server_generation::unknown;
    auto r2 = std::from_chars(r1.ptr + 1, end, minor);
    if (r2.ec != std::errc{})
        return server_generation::unknown;
    // The minor number must end at a separator: "2.45" is not 2.4.
    if (r2.ptr != end && *r2.ptr != '.' && *r2.ptr != '-' && *r2.ptr != '+' && *r2.ptr != ' ')
        return server_generation::unknown;
    if (major > 2 || (major == 2 && minor >= 6))
        return server_generation::master;
    if (major == 2 && minor == 5)
        return server_generation::v2_5;
    if (major == 2 && minor == 4)
        return server_generation::v2_4;
    return server_generation::unknown;
}

server_generation generation_from_server_info(const server_info_reply& info) {
    const auto by_version = generation_from_version(info.version);
    if (by_version != server_generation::unknown)
        return by_version;
    return info.json_form ? server_generation::master : server_generation::unknown;
}

server_generation generation_from_evidence(const generation_evidence& e) {
    if (e.hp_fields_seen || e.query_progress_known || e.dup_metrics_seen)
        return server_generation::master;
    return server_generation::unknown;
}

} // namespace tablemigrator::replica
