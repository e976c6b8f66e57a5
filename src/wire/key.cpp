// Keys, CRC-64 routing and data version 1 values (pegasus-data-plane.md §5, §7.2–§7.3).
#include <tablemigrator/wire/key.hpp>

#include <tablemigrator/core/error.hpp>

#include "binary.hpp"

#include <array>

namespace tablemigrator::wire {
namespace {

constexpr std::uint64_t crc64_reflected_poly = 0x9A6C9329AC4BC9B5ull;

constexpr std::array<std::uint64_t, 256> make_crc64_table() {
    std::array<std::uint64_t, 256> t{};
    for (std::uint64_t i = 0; i < 256; ++i) {
        std::uint64_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1u) ? (c >> 1) ^ crc64_reflected_poly : (c >> 1);
        t[i] = c;
    }
    return t;
}

constexpr auto crc64_table = make_crc64_table();
// The first entries the server source hard-codes (§5.2): a compile-time check of the table.
static_assert(crc64_table[1] == 0x7F6EF0C830358979ull);
static_assert(crc64_table[2] == 0xFEDDE190606B12F2ull);
static_assert(crc64_table[3] == 0x81B31158505E9B8Bull);
static_assert(crc64_table[4] == 0xC962E5739841B68Full);

error_code invalid() {
    return make_error_code(client_errc::invalid_argument);
}

} // namespace

std::uint64_t crc64(std::span<const std::uint8_t> data) noexcept {
    std::uint64_t crc = ~std::uint64_t{0};
    for (std::uint8_t b : data)
        crc = crc64_table[(crc ^ b) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

std::uint64_t crc64(std::string_view data) noexcept {
    return crc64(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

result<std::vector<std::uint8_t>> encode_full_key(std::string_view hash_key,
                                                  std::string_view sort_key) {
    if (hash_key.size() >= 0xffff)
        return invalid();
    std::vector<std::uint8_t> out;
    out.reserve(2 + hash_key.size() + sort_key.size());
    detail::put_u16(out, static_cast<std::uint16_t>(hash_key.size()));
    out.insert(out.end(), hash_key.begin(), hash_key.end());
    out.insert(out.end(), sort_key.begin(), sort_key.end());
    return out;
}

result<full_key> decode_full_key(std::span<const std::uint8_t> key) {
    if (key.size() < 2)
        return invalid();
    const std::size_t len = (std::size_t{key[0]} << 8) | key[1];
    if (len == 0xffff || 2 + len > key.size())
        return invalid();
    const char* p = reinterpret_cast<const char*>(key.data());
    return full_key{std::string(p + 2, len), std::string(p + 2 + len, key.size() - 2 - len)};
}

std::uint64_t partition_hash(std::span<const std::uint8_t> key) noexcept {
    if (key.size() < 2)
        return crc64(std::span<const std::uint8_t>{});
    const std::size_t len = (std::size_t{key[0]} << 8) | key[1];
    const auto rest = key.subspan(2);
    if (len == 0)
        return crc64(rest);
    return crc64(rest.first(std::min(len, rest.size())));
}

std::uint64_t partition_hash(std::string_view hash_key, std::string_view sort_key) noexcept {
    return crc64(hash_key.empty() ? sort_key : hash_key);
}

std::int32_t partition_index(std::uint64_t hash, std::int32_t partition_count) noexcept {
    if (partition_count <= 0)
        return 0;
    return static_cast<std::int32_t>(hash % static_cast<std::uint64_t>(partition_count));
}

std::int32_t thread_hash(std::int32_t app_id, std::int32_t partition_index) noexcept {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(app_id) * 7919u +
                                     static_cast<std::uint32_t>(partition_index));
}

std::vector<std::uint8_t> next_key(std::span<const std::uint8_t> key) {
    std::vector<std::uint8_t> out(key.begin(), key.end());
    while (!out.empty() && out.back() == 0xff)
        out.pop_back();
    if (!out.empty())
        ++out.back();
    return out;
}

std::uint32_t expire_ts_from_unix(std::int64_t unix_seconds) noexcept {
    if (unix_seconds == 0)
        return 0;
    const std::int64_t rel = unix_seconds - pegasus_epoch_unix_seconds;
    if (rel <= 0)
        return 1;
    if (rel > 0xffffffffll)
        return 0xffffffffu;
    return static_cast<std::uint32_t>(rel);
}

std::int64_t unix_from_expire_ts(std::uint32_t expire_ts) noexcept {
    return expire_ts == 0 ? 0 : pegasus_epoch_unix_seconds + expire_ts;
}

bool is_expired(std::uint32_t expire_ts, std::int64_t now_unix_seconds) noexcept {
    return expire_ts > 0 && unix_from_expire_ts(expire_ts) <= now_unix_seconds;
}

std::uint64_t make_timetag(std::uint64_t timestamp_us, std::uint8_t cluster_id,
                           bool deleted) noexcept {
    return (timestamp_us << 8) | (std::uint64_t{cluster_id & 0x7fu} << 1) | (deleted ? 1u : 0u);
}

timetag_parts split_timetag(std::uint64_t timetag) noexcept {
    return {timetag >> 8, static_cast<std::uint8_t>((timetag >> 1) & 0x7fu), (timetag & 1u) != 0};
}

std::vector<std::uint8_t> encode_stored_value_v1(std::uint32_t expire_ts, std::uint64_t timetag,
                                                 std::span<const std::uint8_t> user_value) {
    std::vector<std::uint8_t> out;
    out.reserve(stored_value_v1_header_size + user_value.size());
    detail::put_u32(out, expire_ts);
    detail::put_u64(out, timetag);
    detail::put_bytes(out, user_value);
    return out;
}

result<stored_value_v1> decode_stored_value_v1(std::span<const std::uint8_t> stored) {
    if (stored.size() < stored_value_v1_header_size)
        return invalid();
    stored_value_v1 v;
    v.expire_ts = detail::load_u32(stored.data());
    v.timetag = detail::load_u64(stored.data() + 4);
    v.user_value.assign(stored.begin() + stored_value_v1_header_size, stored.end());
    return v;
}

} // namespace tablemigrator::wire
