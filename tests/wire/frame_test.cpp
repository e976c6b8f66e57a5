// Frame codec tests: request/response encoders against the documented vectors, and the
// streaming decoders against truncation, chunking, oversize input and garbage.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/frame.hpp>

#include "hex.hpp"
#include "vectors.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace tablemigrator;
using namespace tablemigrator::wire;
using tablemigrator::wire::test::hex;
using tablemigrator::wire::test::to_hex;
namespace v = tablemigrator::wire::test::vectors;

namespace {

// The args field value of a v0 request: the bytes after `0c 00 01` up to (excluding) the final
// wrapper STOP.
bytes args_value_of(const bytes& frame, std::size_t name_len) {
    const std::size_t start = thft_v0_header_size + 4 + 4 + name_len + 4 + 3;
    return bytes(frame.begin() + static_cast<std::ptrdiff_t>(start), frame.end() - 1);
}

std::vector<result<response_frame>> drain(response_decoder& d) {
    std::vector<result<response_frame>> out;
    while (auto f = d.next()) {
        out.push_back(*f);
        if (!*f)
            break;
    }
    return out;
}

std::vector<result<request_frame>> drain(request_decoder& d) {
    std::vector<result<request_frame>> out;
    while (auto f = d.next()) {
        out.push_back(*f);
        if (!*f)
            break;
    }
    return out;
}

} // namespace

TEST_CASE("frame: encode_request reproduces TV1 byte for byte") {
    const bytes tv1 = hex(v::tv1);
    const std::string name = "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX";
    const bytes args = args_value_of(tv1, name.size());
    const bytes out = encode_request(request_header{}, name, 1, args);
    CHECK(to_hex(out) == to_hex(tv1));
}

TEST_CASE("frame: encode_request writes the routing header fields of D1") {
    const bytes d1 = hex(v::d1);
    request_header h;
    h.app_id = 2;
    h.partition_index = 4;
    h.client_timeout_ms = 1000;
    h.thread_hash = 2 * 7919 + 4;
    h.partition_hash = 0x8C2F8445B4CBFC3Cull;
    const std::string name = "RPC_RRDB_RRDB_PUT";
    const bytes out = encode_request(h, name, 1, args_value_of(d1, name.size()));
    CHECK(to_hex(out) == to_hex(d1));
}

TEST_CASE("frame: encode_request with a bare i64 args field reproduces D10 (CLEAR_SCANNER)") {
    const bytes d10 = hex(v::d10);
    request_header h;
    h.app_id = 2;
    h.partition_index = 0;
    h.client_timeout_ms = 100;
    h.thread_hash = 15838;
    const bytes ctx = hex("00 01 23 45 00 00 00 01");
    const bytes out = encode_request(h, "RPC_RRDB_RRDB_CLEAR_SCANNER", 6, ctx, 0x0A);
    CHECK(to_hex(out) == to_hex(d10));
}

TEST_CASE("frame: encode_error_response reproduces TV3 and D6") {
    CHECK(to_hex(encode_error_response("ERR_HANDLER_NOT_FOUND", "RPC_FOO_ACK", 7)) ==
          to_hex(hex(v::tv3)));
    CHECK(to_hex(encode_error_response("ERR_INVALID_STATE", "RPC_RRDB_RRDB_PUT_ACK", 1)) ==
          to_hex(hex(v::d6)));
}

TEST_CASE("frame: encode_response reproduces TV5 (string result) and TV2 (struct result)") {
    const std::string json =
        R"({"result":"OK","timestamp":1,"timestamp_str":"1970-01-01 08:00:01","counters":[]})";
    bytes value;
    const auto len = static_cast<std::uint32_t>(json.size());
    value = {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
             static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
    value.insert(value.end(), json.begin(), json.end());
    CHECK(to_hex(encode_response("ERR_OK", "RPC_CLI_CLI_CALL_ACK", 5, value, 0x0B)) ==
          to_hex(hex(v::tv5)));

    const bytes tv2 = hex(v::tv2);
    const auto f = decode_response_frame(tv2);
    REQUIRE(f.has_value());
    // payload = `0c 00 00` + struct + STOP
    const bytes inner(f->payload.begin() + 3, f->payload.end() - 1);
    CHECK(to_hex(encode_response("ERR_OK", f->name, f->seqid, inner)) == to_hex(tv2));
}

TEST_CASE("frame: decode_response_frame reads error name, reply name, seqid and payload") {
    const auto f = decode_response_frame(hex(v::tv2));
    REQUIRE(f.has_value());
    CHECK(!f->frame_error);
    CHECK(f->error_name == "ERR_OK");
    CHECK(f->name == "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX_ACK");
    CHECK(f->seqid == 1);
    REQUIRE(f->payload.size() >= 4);
    CHECK(f->payload[0] == 0x0C);
    CHECK(f->payload.back() == 0x00);

    const auto e = decode_response_frame(hex(v::tv3));
    REQUIRE(e.has_value());
    CHECK(e->frame_error == rdsn_errc::ERR_HANDLER_NOT_FOUND);
    CHECK(e->name == "RPC_FOO_ACK");
    CHECK(e->seqid == 7);
    CHECK(e->payload.empty());
}

TEST_CASE("frame: an error-only frame with trailing bytes is accepted and the extra is skipped") {
    // ERR_BUSY with a marshalled body (read throttling, data-plane §3.2).
    bytes body = hex("0c 00 00 08 00 01 00 00 00 00 00 00");
    bytes frame = encode_response("ERR_BUSY", "RPC_RRDB_RRDB_GET_ACK", 9, body);
    response_decoder d;
    d.feed(frame);
    d.feed(encode_error_response("ERR_INVALID_STATE", "RPC_RRDB_RRDB_PUT_ACK", 10));
    const auto frames = drain(d);
    REQUIRE(frames.size() == 2);
    REQUIRE(frames[0].has_value());
    CHECK(frames[0]->frame_error == rdsn_errc::ERR_BUSY);
    CHECK(frames[0]->seqid == 9);
    CHECK(frames[0]->payload.empty());
    REQUIRE(frames[1].has_value());
    CHECK(frames[1]->frame_error == rdsn_errc::ERR_INVALID_STATE);
    CHECK(frames[1]->seqid == 10);
    CHECK(d.buffered() == 0);
}

TEST_CASE("frame: unknown error names are preserved") {
    const auto f = decode_response_frame(encode_error_response("ERR_BRAND_NEW_THING", "X_ACK", 1));
    REQUIRE(f.has_value());
    CHECK(f->frame_error);
    CHECK(f->error_name == "ERR_BRAND_NEW_THING");
    CHECK(rdsn_error_name(f->frame_error) == "ERR_BRAND_NEW_THING");
}

TEST_CASE("frame: response decoder handles byte-at-a-time feeding") {
    const bytes all = [] {
        bytes b = hex(v::tv2);
        const bytes b2 = hex(v::tv3);
        const bytes b3 = hex(v::d8);
        b.insert(b.end(), b2.begin(), b2.end());
        b.insert(b.end(), b3.begin(), b3.end());
        return b;
    }();
    response_decoder d;
    std::vector<std::int32_t> seqids;
    for (std::uint8_t byte : all) {
        d.feed(std::span(&byte, 1));
        while (auto f = d.next()) {
            REQUIRE((*f).has_value());
            seqids.push_back((*f)->seqid);
        }
    }
    CHECK(seqids == std::vector<std::int32_t>{1, 7, 4});
    CHECK(d.buffered() == 0);
}

TEST_CASE("frame: response decoder yields several frames from one chunk, in order") {
    bytes all;
    for (auto tv : {v::tv11, v::tv12, v::tv13, v::tv14, v::d2, v::d4, v::d5, v::d6}) {
        const bytes b = hex(tv);
        all.insert(all.end(), b.begin(), b.end());
    }
    response_decoder d;
    d.feed(all);
    const auto frames = drain(d);
    REQUIRE(frames.size() == 8);
    std::vector<std::int32_t> seqids;
    for (const auto& f : frames) {
        REQUIRE(f.has_value());
        seqids.push_back(f->seqid);
    }
    CHECK(seqids == std::vector<std::int32_t>{3, 4, 6, 2, 1, 2, 3, 1});
}

TEST_CASE("frame: response decoder waits on truncated input at every cut point") {
    const bytes tv2 = hex(v::tv2);
    for (std::size_t cut = 0; cut < tv2.size(); ++cut) {
        response_decoder d;
        d.feed(std::span(tv2).first(cut));
        CHECK_FALSE(d.next().has_value());
        d.feed(std::span(tv2).subspan(cut));
        auto f = d.next();
        REQUIRE(f.has_value());
        REQUIRE((*f).has_value());
        CHECK((*f)->seqid == 1);
    }
}

TEST_CASE("frame: TV-GO's three bytes 54 48 46 are not a response (need more, then error)") {
    // The Go test expects an error from these bytes; as a stream they are simply incomplete,
    // and as a complete frame they are malformed.
    const bytes three = hex("54 48 46");
    response_decoder d;
    d.feed(three);
    CHECK_FALSE(d.next().has_value());
    CHECK(decode_response_frame(three).error() == client_errc::malformed_frame);
    // With a fourth byte the length reads 0x54484654 (>1 GiB): over the limit.
    const std::uint8_t t = 'T';
    d.feed(std::span(&t, 1));
    auto f = d.next();
    REQUIRE(f.has_value());
    CHECK(f->error() == client_errc::frame_too_large);
}

TEST_CASE("frame: response decoder rejects oversized and undersized lengths, stickily") {
    response_decoder d(1024);
    d.feed(hex("00 00 04 01"));
    auto f = d.next();
    REQUIRE(f.has_value());
    CHECK(f->error() == client_errc::frame_too_large);
    d.feed(hex(v::tv3)); // ignored: the stream is dead
    f = d.next();
    REQUIRE(f.has_value());
    CHECK(f->error() == client_errc::frame_too_large);
    CHECK(d.buffered() == 0);

    response_decoder small;
    small.feed(hex("00 00 00 05 00"));
    f = small.next();
    REQUIRE(f.has_value());
    CHECK(f->error() == client_errc::malformed_frame);
}

TEST_CASE("frame: response decoder rejects bad message headers") {
    SUBCASE("CALL instead of REPLY") {
        bytes b = hex(v::tv3);
        b[29 + 3] = 0x01; // message type byte
        CHECK(decode_response_frame(b).error() == client_errc::malformed_frame);
    }
    SUBCASE("non-strict version") {
        bytes b = hex(v::tv3);
        b[29] = 0x00;
        CHECK(decode_response_frame(b).error() == client_errc::malformed_frame);
    }
    SUBCASE("error name is not an rDSN name") {
        bytes b = hex(v::tv3);
        b[8] = 'x';
        CHECK(decode_response_frame(b).error() == client_errc::malformed_frame);
    }
    SUBCASE("length prefix disagrees with the frame") {
        bytes b = hex(v::tv3);
        b.push_back(0);
        CHECK(decode_response_frame(b).error() == client_errc::malformed_frame);
    }
    SUBCASE("reply name runs past the end") {
        bytes b = hex(v::tv3);
        b[36] = 0x40;
        response_decoder d;
        d.feed(b);
        auto f = d.next();
        REQUIRE(f.has_value());
        CHECK(f->error() == client_errc::malformed_frame);
    }
}

TEST_CASE("frame: response decoder survives random garbage without growing") {
    std::mt19937 rng(12345);
    for (int round = 0; round < 200; ++round) {
        response_decoder d(4096);
        bytes junk(static_cast<std::size_t>(rng() % 300));
        for (auto& b : junk)
            b = static_cast<std::uint8_t>(rng());
        std::size_t pos = 0;
        while (pos < junk.size()) {
            const std::size_t n = std::min<std::size_t>(1 + rng() % 17, junk.size() - pos);
            d.feed(std::span(junk).subspan(pos, n));
            pos += n;
            while (auto f = d.next())
                if (!*f)
                    break;
            CHECK(d.buffered() <= 4096);
        }
    }
}

TEST_CASE("frame: a long stream of frames keeps the buffer small") {
    const bytes frame = hex(v::d2);
    response_decoder d;
    std::size_t frames = 0;
    for (int i = 0; i < 10000; ++i) {
        d.feed(std::span(frame).first(50));
        d.feed(std::span(frame).subspan(50));
        while (auto f = d.next()) {
            REQUIRE((*f).has_value());
            ++frames;
        }
        CHECK(d.buffered() < frame.size());
    }
    CHECK(frames == 10000);
}

TEST_CASE("frame: sniff_protocol selects by the first four bytes") {
    CHECK(sniff_protocol(test::bytes_of("THFT")) == connection_protocol::thft);
    CHECK(sniff_protocol(test::bytes_of("GET /x")) == connection_protocol::http);
    CHECK(sniff_protocol(test::bytes_of("POST /")) == connection_protocol::http);
    CHECK(sniff_protocol(test::bytes_of("RDSN")) == connection_protocol::unknown);
    CHECK(sniff_protocol(test::bytes_of("GET")) == connection_protocol::need_more);
    CHECK(sniff_protocol({}) == connection_protocol::need_more);
}

TEST_CASE("frame: request decoder reads TV1 and D1 (v0 header, strict CALL)") {
    request_decoder d;
    d.feed(hex(v::tv1));
    d.feed(hex(v::d1));
    const auto frames = drain(d);
    REQUIRE(frames.size() == 2);
    REQUIRE(frames[0].has_value());
    CHECK(frames[0]->name == "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX");
    CHECK(frames[0]->seqid == 1);
    CHECK(frames[0]->type == message_type::call);
    CHECK(frames[0]->header.header_version == 0);
    CHECK(frames[0]->header.app_id == 0);
    CHECK(frames[0]->body.size() == 0x4a);
    CHECK(frames[0]->body[frames[0]->args_offset] == 0x0C);
    REQUIRE(frames[1].has_value());
    const auto& h = frames[1]->header;
    CHECK(frames[1]->name == "RPC_RRDB_RRDB_PUT");
    CHECK(h.app_id == 2);
    CHECK(h.partition_index == 4);
    CHECK(h.client_timeout_ms == 1000);
    CHECK(h.thread_hash == 15842);
    CHECK(h.partition_hash == 0x8C2F8445B4CBFC3Cull);
}

TEST_CASE("frame: request decoder handles byte-at-a-time feeding and every truncation") {
    const bytes d7 = hex(v::d7);
    request_decoder d;
    int got = 0;
    for (std::size_t i = 0; i < d7.size(); ++i) {
        d.feed(std::span(d7).subspan(i, 1));
        auto f = d.next();
        if (i + 1 < d7.size()) {
            CHECK_FALSE(f.has_value());
        } else {
            REQUIRE(f.has_value());
            REQUIRE((*f).has_value());
            CHECK((*f)->name == "RPC_RRDB_RRDB_GET_SCANNER");
            CHECK((*f)->header.thread_hash == 15838);
            ++got;
        }
    }
    CHECK(got == 1);
}

namespace {

// A v1 frame: "THFT", version 1, meta_length, body_length, meta, body.
bytes v1_frame(const bytes& meta, const bytes& body) {
    bytes out = test::bytes_of("THFT");
    auto put32 = [&](std::uint32_t x) {
        for (int s = 24; s >= 0; s -= 8)
            out.push_back(static_cast<std::uint8_t>(x >> s));
    };
    put32(1);
    put32(static_cast<std::uint32_t>(meta.size()));
    put32(static_cast<std::uint32_t>(body.size()));
    out.insert(out.end(), meta.begin(), meta.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

bytes body_of(const bytes& v0_frame) {
    return bytes(v0_frame.begin() + static_cast<std::ptrdiff_t>(thft_v0_header_size),
                 v0_frame.end());
}

} // namespace

TEST_CASE("frame: request decoder reads a v1 header with its meta struct") {
    // meta: app_id 2, partition_index 4, client_timeout 2000, partition_hash, backup true,
    // plus an unknown field 9 (string) that must be skipped.
    const bytes meta = hex("08 00 01 00 00 00 02 08 00 02 00 00 00 04 08 00 03 00 00 07 d0"
                           " 0a 00 04 8c 2f 84 45 b4 cb fc 3c 02 00 05 01"
                           " 0b 00 09 00 00 00 02 68 69 00");
    request_decoder d;
    d.feed(v1_frame(meta, body_of(hex(v::d3))));
    auto f = d.next();
    REQUIRE(f.has_value());
    REQUIRE((*f).has_value());
    const auto& h = (*f)->header;
    CHECK(h.header_version == 1);
    CHECK(h.app_id == 2);
    CHECK(h.partition_index == 4);
    CHECK(h.client_timeout_ms == 2000);
    CHECK(h.partition_hash == 0x8C2F8445B4CBFC3Cull);
    CHECK(h.is_backup_request);
    CHECK(h.thread_hash == 15842);
    CHECK((*f)->name == "RPC_RRDB_RRDB_GET");
    CHECK((*f)->seqid == 2);
}

TEST_CASE("frame: request decoder accepts the old non-strict message header") {
    // name length, name, type byte, seqid.
    bytes body = hex("00 00 00 07");
    for (char c : std::string_view("RPC_FOO"))
        body.push_back(static_cast<std::uint8_t>(c));
    const bytes tail = hex("01 00 00 00 2a 0c 00 01 00 00");
    body.insert(body.end(), tail.begin(), tail.end());
    bytes frame = hex(v::tv1);
    frame.resize(thft_v0_header_size);
    frame[19] = static_cast<std::uint8_t>(body.size());
    frame.insert(frame.end(), body.begin(), body.end());
    request_decoder d;
    d.feed(frame);
    auto f = d.next();
    REQUIRE(f.has_value());
    REQUIRE((*f).has_value());
    CHECK((*f)->name == "RPC_FOO");
    CHECK((*f)->seqid == 42);
    CHECK((*f)->body[(*f)->args_offset] == 0x0C);
}

TEST_CASE("frame: request decoder rejects invalid frames and stays failed") {
    auto rejects = [](const bytes& input, client_errc expected) {
        request_decoder d(1u << 20);
        d.feed(input);
        auto f = d.next();
        REQUIRE(f.has_value());
        CHECK(f->error() == expected);
        d.feed(hex(v::tv1));
        f = d.next();
        REQUIRE(f.has_value());
        CHECK(f->error() == expected);
    };
    SUBCASE("bad signature") {
        rejects(test::bytes_of("RDSN0000"), client_errc::malformed_frame);
    }
    SUBCASE("HTTP on a THFT stream") {
        rejects(test::bytes_of("GET / HTTP/1.1\r\n"), client_errc::malformed_frame);
    }
    SUBCASE("bad signature is detected from the first byte") {
        rejects(test::bytes_of("X"), client_errc::malformed_frame);
    }
    SUBCASE("unsupported header version") {
        bytes b = hex(v::tv1);
        b[7] = 2;
        rejects(b, client_errc::malformed_frame);
    }
    SUBCASE("header_length != 48") {
        bytes b = hex(v::tv1);
        b[11] = 0x2c;
        rejects(b, client_errc::malformed_frame);
    }
    SUBCASE("REPLY sent as a request") {
        bytes b = hex(v::tv1);
        b[thft_v0_header_size + 3] = 0x02;
        rejects(b, client_errc::malformed_frame);
    }
    SUBCASE("EXCEPTION sent as a request") {
        bytes b = hex(v::tv1);
        b[thft_v0_header_size + 3] = 0x03;
        rejects(b, client_errc::malformed_frame);
    }
    SUBCASE("bad strict version") {
        bytes b = hex(v::tv1);
        b[thft_v0_header_size + 1] = 0x02;
        rejects(b, client_errc::malformed_frame);
    }
    SUBCASE("name longer than the body") {
        bytes b = hex(v::tv1);
        b[thft_v0_header_size + 7] = 0x7f;
        rejects(b, client_errc::malformed_frame);
    }
    SUBCASE("oversized body length") {
        bytes b = hex(v::tv1);
        b[16] = 0x10;
        rejects(b, client_errc::frame_too_large);
    }
    SUBCASE("v1 with an empty meta struct") {
        rejects(v1_frame(bytes(0), bytes(0)), client_errc::malformed_frame);
    }
    SUBCASE("v1 meta that runs past its length") {
        rejects(v1_frame(hex("08 00 01 00 00"), body_of(hex(v::d3))), client_errc::malformed_frame);
    }
}

TEST_CASE("frame: ONEWAY requests are accepted by the request decoder") {
    const bytes out =
        encode_request(request_header{}, "RPC_X", 3, hex("00"), 0x0C, message_type::oneway);
    request_decoder d;
    d.feed(out);
    auto f = d.next();
    REQUIRE(f.has_value());
    REQUIRE((*f).has_value());
    CHECK((*f)->type == message_type::oneway);
}

TEST_CASE("frame: request decoder survives random garbage after a valid prefix") {
    std::mt19937 rng(777);
    const bytes good = hex(v::tv1);
    for (int round = 0; round < 300; ++round) {
        bytes b = good;
        const std::size_t flips = 1 + rng() % 4;
        for (std::size_t i = 0; i < flips; ++i)
            b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
        request_decoder d(1u << 16);
        d.feed(b);
        while (auto f = d.next()) {
            if (!*f)
                break;
            CHECK((*f)->args_offset <= (*f)->body.size());
            CHECK((*f)->name.size() <= (*f)->body.size());
        }
    }
}
