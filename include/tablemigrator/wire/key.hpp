// Pegasus keys and values (pegasus-data-plane.md §5, §7.2–§7.3): full key encoding, the CRC-64
// partition hash, partition/thread routing, and the data version 1 stored-value layout.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::wire {

// ---- CRC-64 (§5.2): CRC-64/NVME, reflected poly 0x9A6C9329AC4BC9B5, init/xorout all ones ----

std::uint64_t crc64(std::span<const std::uint8_t> data) noexcept;
std::uint64_t crc64(std::string_view data) noexcept;

// ---- full keys (§5.1) --------------------------------------------------------------------------

// u16_be(len(hash_key)) ‖ hash_key ‖ sort_key. invalid_argument when hash_key.size() >= 65535.
result<std::vector<std::uint8_t>> encode_full_key(std::string_view hash_key,
                                                  std::string_view sort_key);

struct full_key {
    std::string hash_key;
    std::string sort_key;
    friend bool operator==(const full_key&, const full_key&) = default;
};

// invalid_argument for fewer than 2 bytes, a hash_key length past the end, or length 0xFFFF.
result<full_key> decode_full_key(std::span<const std::uint8_t> key);

// The server's rule (pegasus_key_hash): CRC over the hash_key bytes when its length is > 0, else
// over the sort key. A malformed key (shorter than its prefix says) hashes what is there.
std::uint64_t partition_hash(std::span<const std::uint8_t> full_key) noexcept;
// Same, from the parts (no encoding needed).
std::uint64_t partition_hash(std::string_view hash_key, std::string_view sort_key) noexcept;

// Client routing: partition_hash % partition_count (unsigned). count must be > 0.
std::int32_t partition_index(std::uint64_t hash, std::int32_t partition_count) noexcept;

// Worker selection sent in request headers: app_id * 7919 + partition_index (wrapping).
std::int32_t thread_hash(std::int32_t app_id, std::int32_t partition_index) noexcept;

// The "next key" used for exclusive range ends (§5.1): strip trailing 0xFF bytes, increment the
// last remaining byte. An all-0xFF (or empty) input has no successor: returns empty.
std::vector<std::uint8_t> next_key(std::span<const std::uint8_t> key);

// ---- data version 1 values (§7.2–§7.3) ---------------------------------------------------------

// expire_ts counts seconds since 2016-01-01 00:00:00 UTC; 0 = never expires.
inline constexpr std::int64_t pegasus_epoch_unix_seconds = 1451606400;

// Unix seconds -> expire_ts (0 stays "never"; times before the epoch clamp to 1, "expired").
std::uint32_t expire_ts_from_unix(std::int64_t unix_seconds) noexcept;
std::int64_t unix_from_expire_ts(std::uint32_t expire_ts) noexcept;
// Expired when 0 < expire_ts <= now.
bool is_expired(std::uint32_t expire_ts, std::int64_t now_unix_seconds) noexcept;

// timetag = timestamp_us << 8 | cluster_id << 1 | delete_flag (56 + 7 + 1 bits).
std::uint64_t make_timetag(std::uint64_t timestamp_us, std::uint8_t cluster_id,
                           bool deleted) noexcept;
struct timetag_parts {
    std::uint64_t timestamp_us = 0;
    std::uint8_t cluster_id = 0;
    bool deleted = false;
    friend bool operator==(const timetag_parts&, const timetag_parts&) = default;
};
timetag_parts split_timetag(std::uint64_t timetag) noexcept;

inline constexpr std::size_t stored_value_v1_header_size = 12;

// u32_be expire_ts ‖ u64_be timetag ‖ user bytes.
std::vector<std::uint8_t> encode_stored_value_v1(std::uint32_t expire_ts, std::uint64_t timetag,
                                                 std::span<const std::uint8_t> user_value);

struct stored_value_v1 {
    std::uint32_t expire_ts = 0;
    std::uint64_t timetag = 0;
    std::vector<std::uint8_t> user_value;
    friend bool operator==(const stored_value_v1&, const stored_value_v1&) = default;
};

// invalid_argument when shorter than the 12-byte header.
result<stored_value_v1> decode_stored_value_v1(std::span<const std::uint8_t> stored);

} // namespace tablemigrator::wire
