// Strict decimal parsing for "app.pidx": prefix matching here would confuse app 1 with app 12.
#include <tablemigrator/replica/partition_id.hpp>

#include <charconv>

namespace tablemigrator::replica {

std::optional<std::int32_t> parse_int32(std::string_view text) {
    if (text.empty() || text.front() < '0' || text.front() > '9')
        return std::nullopt;
    std::int32_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end)
        return std::nullopt;
    return value;
}

std::optional<partition_id> parse_partition_id(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos)
        return std::nullopt;
    auto app = parse_int32(text.substr(0, dot));
    auto pidx = parse_int32(text.substr(dot + 1));
    if (!app || !pidx)
        return std::nullopt;
    return partition_id{*app, *pidx};
}

std::string to_string(const partition_id& pid) {
    return std::to_string(pid.app_id) + "." + std::to_string(pid.partition_index);
}

} // namespace tablemigrator::replica
