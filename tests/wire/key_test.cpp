// Keys, CRC-64 and stored values: the data-plane §5.3 and §7.3 vectors, the NVMe CRC-64 vectors,
// and the RPC-name / enum tables.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/key.hpp>
#include <tablemigrator/wire/names.hpp>

#include "hex.hpp"

#include <doctest/doctest.h>

using namespace tablemigrator;
using namespace tablemigrator::wire;
using tablemigrator::wire::test::hex;
using tablemigrator::wire::test::to_hex;

TEST_CASE("key: CRC-64 matches the data-plane §5.3 table, including % 8 and % 16") {
    struct row {
        std::string input;
        std::uint64_t crc;
        int mod8, mod16;
    };
    const row rows[] = {
        {"", 0x0000000000000000ull, 0, 0},
        {"a", 0x8C2F8445B4CBFC3Cull, 4, 12},
        {"hello", 0x3377857006524257ull, 7, 7},
        {"123456789", 0xAE8B14860A799888ull, 0, 8},
        {"abc", 0x05E5CABB3FC1FAEBull, 3, 11},
        {"hash_key", 0x65641F36E9F6A96Dull, 5, 13},
        {std::string(1, '\0'), 0xD5DA5047EFEC8728ull, 0, 8},
    };
    for (const auto& r : rows) {
        CAPTURE(r.input);
        CHECK(crc64(r.input) == r.crc);
        CHECK(partition_index(r.crc, 8) == r.mod8);
        CHECK(partition_index(r.crc, 16) == r.mod16);
    }
}

TEST_CASE("key: CRC-64 reproduces the NVMe specification vectors") {
    std::vector<std::uint8_t> b(4096, 0x00);
    CHECK(crc64(b) == 0x6482D367EB22B64Eull);
    std::fill(b.begin(), b.end(), 0xff);
    CHECK(crc64(b) == 0xC0DDBA7302ECA3ACull);
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<std::uint8_t>(i);
    CHECK(crc64(b) == 0x3E729F5F6750449Cull);
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<std::uint8_t>(255 - (i & 255));
    CHECK(crc64(b) == 0x9A2DF64B8E9E517Eull);
    CHECK(crc64(std::vector<std::uint8_t>(32, 0)) == 0xCF3473434D4ECF3Bull);
}

TEST_CASE("key: full key encoding and decoding (§5.1)") {
    auto k = encode_full_key("a", "s");
    REQUIRE(k.has_value());
    CHECK(to_hex(*k) == "00 01 61 73");
    auto d = decode_full_key(*k);
    REQUIRE(d.has_value());
    CHECK(d->hash_key == "a");
    CHECK(d->sort_key == "s");

    auto empty_sort = encode_full_key("hk", "");
    REQUIRE(empty_sort.has_value());
    CHECK(to_hex(*empty_sort) == "00 02 68 6b");

    CHECK(encode_full_key(std::string(65535, 'x'), "").error() == client_errc::invalid_argument);
    CHECK(encode_full_key(std::string(65534, 'x'), "").has_value());

    CHECK_FALSE(decode_full_key(hex("00")).has_value());
    CHECK_FALSE(decode_full_key(hex("00 05 61")).has_value());
    CHECK_FALSE(decode_full_key(hex("ff ff")).has_value());
    auto e = decode_full_key(hex("00 00 73 6b"));
    REQUIRE(e.has_value());
    CHECK(e->hash_key.empty());
    CHECK(e->sort_key == "sk");
}

TEST_CASE("key: partition_hash follows the server rule") {
    // hash "a" / sort "s" -> CRC("a") -> partition 4 of 8 (D1).
    CHECK(partition_hash(hex("00 01 61 73")) == 0x8C2F8445B4CBFC3Cull);
    CHECK(partition_hash("a", "s") == 0x8C2F8445B4CBFC3Cull);
    // empty hash key: the sort key is hashed
    CHECK(partition_hash(hex("00 00 61")) == crc64("a"));
    CHECK(partition_hash("", "hello") == crc64("hello"));
    // malformed: what is there is hashed, no overrun
    CHECK(partition_hash(hex("00 09 61")) == crc64("a"));
    CHECK(partition_hash(hex("00")) == 0);
    CHECK(partition_index(0x8C2F8445B4CBFC3Cull, 8) == 4);
    // the Go client test: "a" with 16 partitions -> 12
    CHECK(partition_index(crc64("a"), 16) == 12);
    CHECK(partition_index(~0ull, 3) == static_cast<std::int32_t>(~0ull % 3));
}

TEST_CASE("key: thread_hash is app_id * 7919 + partition_index") {
    CHECK(thread_hash(2, 4) == 15842);
    CHECK(thread_hash(2, 0) == 15838);
    CHECK(thread_hash(0, 0) == 0);
}

TEST_CASE("key: next_key strips trailing 0xFF and increments") {
    CHECK(to_hex(next_key(hex("00 01 61"))) == "00 01 62");
    CHECK(to_hex(next_key(hex("00 01 61 ff ff"))) == "00 01 62");
    CHECK(next_key(hex("ff ff")).empty());
    CHECK(next_key({}).empty());
}

TEST_CASE("key: stored value v1 vectors (§7.3)") {
    const std::uint64_t ts = 1700000000000000ull;
    const auto tt = make_timetag(ts, 1, false);
    CHECK(tt == 0x060A24181E400002ull);
    const auto v = hex("76");
    CHECK(to_hex(encode_stored_value_v1(0, tt, v)) == "00 00 00 00 06 0a 24 18 1e 40 00 02 76");

    const auto expire = expire_ts_from_unix(1795461360);
    CHECK(expire == 343854960u);
    const auto tt2 = make_timetag(ts, 2, true);
    const auto stored = encode_stored_value_v1(expire, tt2, v);
    CHECK(to_hex(stored) == "14 7e cf 70 06 0a 24 18 1e 40 00 05 76");

    auto back = decode_stored_value_v1(stored);
    REQUIRE(back.has_value());
    CHECK(back->expire_ts == 343854960u);
    CHECK(back->timetag == tt2);
    CHECK(back->user_value == v);
    CHECK(split_timetag(tt2) == timetag_parts{ts, 2, true});
    CHECK(split_timetag(tt) == timetag_parts{ts, 1, false});
    CHECK(decode_stored_value_v1(hex("00 00 00 00 06 0a 24 18 1e 40 00")).error() ==
          client_errc::invalid_argument);
}

TEST_CASE("key: expire_ts arithmetic uses the 2016 epoch") {
    CHECK(expire_ts_from_unix(0) == 0);
    CHECK(unix_from_expire_ts(0) == 0);
    CHECK(unix_from_expire_ts(343854960u) == 1795461360);
    CHECK(expire_ts_from_unix(pegasus_epoch_unix_seconds - 5) == 1);
    CHECK_FALSE(is_expired(0, 2000000000));
    CHECK(is_expired(10, pegasus_epoch_unix_seconds + 10));
    CHECK_FALSE(is_expired(10, pegasus_epoch_unix_seconds + 9));
}

TEST_CASE("names: RPC names, reply names and enum names") {
    CHECK(rpc_cm_query_partition_config_by_index == "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX");
    CHECK(reply_name(rpc_cm_list_nodes) == "RPC_CM_LIST_NODES_ACK");
    CHECK(rpc_rrdb_clear_scanner == "RPC_RRDB_RRDB_CLEAR_SCANNER");
    CHECK(to_string(duplication_status::log) == "DS_LOG");
    CHECK(static_cast<int>(duplication_status::log) == 3);
    CHECK(to_string(duplication_status_v23::start) == "DS_START");
    CHECK(static_cast<int>(duplication_status_v23::removed) == 3);
    CHECK(to_string(static_cast<duplication_status>(3)) !=
          to_string(static_cast<duplication_status_v23>(3)));
    CHECK(from_v23(duplication_status_v23::pause) == duplication_status::pause);
    CHECK(to_string(app_status::available) == "AS_AVAILABLE");
    CHECK(to_string(static_cast<app_status>(42)).empty());
    CHECK(to_string(meta_function_level::lively) == "fl_lively");
    CHECK(static_cast<int>(pattern_match_type::match_prefix) == 4);
    CHECK(static_cast<int>(rocksdb_status::incomplete) == 7);
}
