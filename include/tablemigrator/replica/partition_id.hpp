// "app_id.partition_index" as replica servers print it (HTTP keys, command entries, counter names).
// Kept free of the wire module so the sans-io parsers build without the Thrift types.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tablemigrator::replica {

struct partition_id {
    std::int32_t app_id = 0;
    std::int32_t partition_index = 0;

    friend auto operator<=>(const partition_id&, const partition_id&) = default;
};

// Strict: two non-negative decimal integers separated by one dot, nothing else ("3.5").
std::optional<partition_id> parse_partition_id(std::string_view text);

// Strict non-negative decimal integer that fits in int32 (no sign, no blanks, no trailing bytes).
std::optional<std::int32_t> parse_int32(std::string_view text);

std::string to_string(const partition_id& pid);

} // namespace tablemigrator::replica
