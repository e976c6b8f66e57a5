// THFT request frames and Pegasus response frames (pegasus-protocol.md §1.2–§1.5), sans-io.
// Decoders validate every length against what is buffered and against max_frame_size before
// trusting it; any violation is a sticky error because the stream cannot be resynchronised.
#include <tablemigrator/wire/frame.hpp>

#include <tablemigrator/core/error.hpp>

#include "binary.hpp"

#include <algorithm>

namespace tablemigrator::wire {
namespace {

using detail::reader;

constexpr std::uint32_t strict_version_mask = 0xffff0000u;
constexpr std::uint32_t strict_version_1 = 0x80010000u;
// rDSN stores RPC names in a 48-byte buffer (§1.4); "_ACK" names are a little longer. Anything
// far beyond that is garbage, and bounding it keeps hostile frames from allocating much.
constexpr std::size_t max_rpc_name = 255;
constexpr std::size_t max_error_name = 64;
// u32 total + error-name length + message version + name length + seqid.
constexpr std::size_t min_response_frame = 20;
constexpr std::size_t v1_fixed_header_size = 16;

error_code malformed() {
    return make_error_code(client_errc::malformed_frame);
}
error_code too_large() {
    return make_error_code(client_errc::frame_too_large);
}

// Error names travel as text and are interned by the error category when unknown; accept only
// the shape rDSN uses so garbage never reaches the interning table.
bool plausible_error_name(std::string_view s) {
    if (s.size() < 5 || s.size() > max_error_name || s.substr(0, 4) != "ERR_")
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

void put_message_header(bytes& out, message_type type, std::string_view name, std::int32_t seqid) {
    detail::put_u32(out, strict_version_1 | static_cast<std::uint32_t>(type));
    detail::put_string(out, name);
    detail::put_i32(out, seqid);
}

// Drops consumed bytes once they dominate the buffer, so a long-lived connection's buffer stays
// around one frame in size instead of growing with the stream.
void compact(bytes& buffer, std::size_t& consumed) {
    if (consumed == 0)
        return;
    if (consumed == buffer.size()) {
        buffer.clear();
        consumed = 0;
    } else if (consumed >= 4096 || consumed * 2 >= buffer.size()) {
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(consumed));
        consumed = 0;
    }
}

// Parses the Thrift message header of a request body, strict or old non-versioned form (§1.4).
status parse_request_message(std::span<const std::uint8_t> body, request_frame& f) {
    reader r(body);
    std::int32_t first = 0;
    if (!r.i32(first))
        return malformed();
    std::uint8_t type = 0;
    if (first < 0) {
        const auto v = static_cast<std::uint32_t>(first);
        if ((v & strict_version_mask) != strict_version_1)
            return malformed();
        type = static_cast<std::uint8_t>(v & 0xffu);
        if (!r.string(f.name, max_rpc_name) || !r.i32(f.seqid))
            return malformed();
    } else {
        // Non-strict: the first i32 is the name length, then the name, a type byte, the seqid.
        const auto len = static_cast<std::size_t>(first);
        if (len > max_rpc_name || len > r.remaining())
            return malformed();
        f.name.assign(reinterpret_cast<const char*>(r.rest().data()), len);
        r.skip(len);
        if (!r.u8(type) || !r.i32(f.seqid))
            return malformed();
    }
    if (type != static_cast<std::uint8_t>(message_type::call) &&
        type != static_cast<std::uint8_t>(message_type::oneway))
        return malformed();
    f.type = static_cast<message_type>(type);
    f.args_offset = r.pos();
    f.body.assign(body.begin(), body.end());
    return {};
}

// thrift_request_meta_v1 (§1.3), decoded by hand: every field is optional and plain.
status parse_v1_meta(std::span<const std::uint8_t> meta, request_header& h) {
    reader r(meta);
    for (;;) {
        std::uint8_t type = 0;
        std::int16_t id = 0;
        if (!r.u8(type))
            return malformed();
        if (type == 0)
            return {};
        if (!r.i16(id))
            return malformed();
        bool ok = false;
        if (id == 1 && type == 8) {
            ok = r.i32(h.app_id);
        } else if (id == 2 && type == 8) {
            ok = r.i32(h.partition_index);
        } else if (id == 3 && type == 8) {
            std::int32_t t = 0;
            ok = r.i32(t);
            h.client_timeout_ms = static_cast<std::uint32_t>(t);
        } else if (id == 4 && type == 10) {
            ok = r.u64(h.partition_hash);
        } else if (id == 5 && type == 2) {
            std::uint8_t b = 0;
            ok = r.u8(b);
            h.is_backup_request = b != 0;
        } else {
            ok = detail::skip_value(r, type);
        }
        if (!ok)
            return malformed();
    }
}

std::int32_t derived_thread_hash(std::int32_t app_id, std::int32_t pidx) {
    // Unsigned arithmetic: hostile ids must not be signed-overflow UB.
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(app_id) * 7919u +
                                     static_cast<std::uint32_t>(pidx));
}

} // namespace

// ---- client half -------------------------------------------------------------------------

bytes encode_request(const request_header& header, std::string_view name, std::int32_t seqid,
                     std::span<const std::uint8_t> args_field_value, std::uint8_t args_field_type,
                     message_type type) {
    bytes body;
    body.reserve(12 + name.size() + 4 + args_field_value.size());
    put_message_header(body, type, name, seqid);
    detail::put_u8(body, args_field_type);
    detail::put_u16(body, 1);
    detail::put_bytes(body, args_field_value);
    detail::put_u8(body, 0); // args wrapper STOP

    bytes out;
    out.reserve(thft_v0_header_size + body.size());
    detail::put_u32(out, 0x54484654u);         // "THFT"
    detail::put_u32(out, 0);                   // header_version
    detail::put_u32(out, thft_v0_header_size); // header_length
    detail::put_u32(out, 0);                   // header_crc32 (never checked)
    detail::put_u32(out, static_cast<std::uint32_t>(body.size()));
    detail::put_u32(out, 0); // body_crc32 (never checked)
    detail::put_i32(out, header.app_id);
    detail::put_i32(out, header.partition_index);
    detail::put_u32(out, header.client_timeout_ms);
    detail::put_i32(out, header.thread_hash);
    detail::put_u64(out, header.partition_hash);
    detail::put_bytes(out, body);
    return out;
}

result<response_frame> decode_response_frame(std::span<const std::uint8_t> frame) {
    reader r(frame);
    std::uint32_t total = 0;
    if (!r.u32(total) || total < min_response_frame || total != frame.size())
        return malformed();
    response_frame f;
    if (!r.string(f.error_name, max_error_name) || !plausible_error_name(f.error_name))
        return malformed();
    std::uint32_t version = 0;
    if (!r.u32(version) || (version & strict_version_mask) != strict_version_1 ||
        (version & 0xffu) != static_cast<std::uint32_t>(message_type::reply))
        return malformed();
    if (!r.string(f.name, max_rpc_name) || !r.i32(f.seqid))
        return malformed();
    f.frame_error = rdsn_error_from_name(f.error_name);
    // A non-OK frame normally ends here; some server paths still marshal a body (ERR_BUSY from
    // read throttling), which a client must skip (§1.5, data-plane §3.2).
    if (!f.frame_error) {
        const auto rest = r.rest();
        f.payload.assign(rest.begin(), rest.end());
    }
    return f;
}

response_decoder::response_decoder(std::size_t max_frame_size)
    : max_frame_size_(max_frame_size) {}

void response_decoder::feed(std::span<const std::uint8_t> data) {
    if (failed_)
        return; // the connection is dead: do not buffer more of it
    compact(buffer_, consumed_);
    buffer_.insert(buffer_.end(), data.begin(), data.end());
}

std::optional<result<response_frame>> response_decoder::next() {
    if (failed_)
        return result<response_frame>(boost::system::in_place_error, failed_);
    auto fail = [this](error_code ec) -> std::optional<result<response_frame>> {
        failed_ = ec;
        buffer_.clear();
        buffer_.shrink_to_fit();
        consumed_ = 0;
        return result<response_frame>(boost::system::in_place_error, ec);
    };
    if (buffered() < 4)
        return std::nullopt;
    const std::uint32_t total = detail::load_u32(buffer_.data() + consumed_);
    if (total < min_response_frame)
        return fail(malformed());
    if (total > max_frame_size_)
        return fail(too_large());
    if (buffered() < total)
        return std::nullopt;
    auto f = decode_response_frame(std::span(buffer_).subspan(consumed_, total));
    if (!f)
        return fail(f.error());
    consumed_ += total;
    compact(buffer_, consumed_);
    return f;
}

// ---- server half -------------------------------------------------------------------------

bytes encode_response(std::string_view error_name, std::string_view reply_name, std::int32_t seqid,
                      std::span<const std::uint8_t> result_value, std::uint8_t result_type) {
    bytes out;
    out.reserve(4 + 4 + error_name.size() + 12 + reply_name.size() + 4 + result_value.size());
    detail::put_u32(out, 0); // patched below
    detail::put_string(out, error_name);
    put_message_header(out, message_type::reply, reply_name, seqid);
    detail::put_u8(out, result_type);
    detail::put_u16(out, 0); // result field 0 ("success")
    detail::put_bytes(out, result_value);
    detail::put_u8(out, 0); // result wrapper STOP
    const auto total = static_cast<std::uint32_t>(out.size());
    for (int i = 0; i < 4; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(total >> (24 - 8 * i));
    return out;
}

bytes encode_error_response(std::string_view error_name, std::string_view reply_name,
                            std::int32_t seqid) {
    bytes out;
    detail::put_u32(out, 0);
    detail::put_string(out, error_name);
    put_message_header(out, message_type::reply, reply_name, seqid);
    const auto total = static_cast<std::uint32_t>(out.size());
    for (int i = 0; i < 4; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(total >> (24 - 8 * i));
    return out;
}

connection_protocol sniff_protocol(std::span<const std::uint8_t> first_bytes) noexcept {
    if (first_bytes.size() < 4)
        return connection_protocol::need_more;
    const std::string_view s(reinterpret_cast<const char*>(first_bytes.data()), 4);
    if (s == "THFT")
        return connection_protocol::thft;
    if (s == "GET " || s == "POST")
        return connection_protocol::http;
    return connection_protocol::unknown;
}

request_decoder::request_decoder(std::size_t max_frame_size)
    : max_frame_size_(max_frame_size) {}

void request_decoder::feed(std::span<const std::uint8_t> data) {
    if (failed_)
        return;
    compact(buffer_, consumed_);
    buffer_.insert(buffer_.end(), data.begin(), data.end());
}

std::optional<result<request_frame>> request_decoder::next() {
    if (failed_)
        return result<request_frame>(boost::system::in_place_error, failed_);
    auto fail = [this](error_code ec) -> std::optional<result<request_frame>> {
        failed_ = ec;
        buffer_.clear();
        buffer_.shrink_to_fit();
        consumed_ = 0;
        return result<request_frame>(boost::system::in_place_error, ec);
    };
    const std::size_t avail = buffer_.size() - consumed_;
    const std::uint8_t* p = buffer_.data() + consumed_;
    // Check what is already visible even before the fixed header is complete, so garbage is
    // rejected at once instead of after max-size bytes.
    static constexpr std::uint8_t signature[4] = {'T', 'H', 'F', 'T'};
    if (!std::equal(p, p + std::min<std::size_t>(avail, 4), signature))
        return fail(malformed());
    if (avail < 8)
        return std::nullopt;
    const std::uint32_t version = detail::load_u32(p + 4);
    request_frame f;
    std::size_t frame_size = 0;
    std::span<const std::uint8_t> body;
    if (version == 0) {
        if (avail < 12)
            return std::nullopt;
        if (detail::load_u32(p + 8) != thft_v0_header_size)
            return fail(malformed());
        if (avail < 20)
            return std::nullopt;
        const std::uint64_t body_length = detail::load_u32(p + 16);
        if (thft_v0_header_size + body_length > max_frame_size_)
            return fail(too_large());
        if (avail < thft_v0_header_size)
            return std::nullopt;
        frame_size = thft_v0_header_size + static_cast<std::size_t>(body_length);
        if (avail < frame_size)
            return std::nullopt;
        reader r(std::span(p + 24, thft_v0_header_size - 24));
        r.i32(f.header.app_id);
        r.i32(f.header.partition_index);
        r.u32(f.header.client_timeout_ms);
        r.i32(f.header.thread_hash);
        r.u64(f.header.partition_hash);
        f.header.header_version = 0;
        body = std::span(p + thft_v0_header_size, static_cast<std::size_t>(body_length));
    } else if (version == 1) {
        if (avail < v1_fixed_header_size)
            return std::nullopt;
        const std::uint64_t meta_length = detail::load_u32(p + 8);
        const std::uint64_t body_length = detail::load_u32(p + 12);
        if (v1_fixed_header_size + meta_length + body_length > max_frame_size_)
            return fail(too_large());
        frame_size = v1_fixed_header_size + static_cast<std::size_t>(meta_length + body_length);
        if (avail < frame_size)
            return std::nullopt;
        f.header.header_version = 1;
        if (auto st = parse_v1_meta(
                std::span(p + v1_fixed_header_size, static_cast<std::size_t>(meta_length)),
                f.header);
            !st)
            return fail(st.error());
        f.header.thread_hash = derived_thread_hash(f.header.app_id, f.header.partition_index);
        body = std::span(p + v1_fixed_header_size + meta_length,
                         static_cast<std::size_t>(body_length));
    } else {
        return fail(malformed());
    }
    if (auto st = parse_request_message(body, f); !st)
        return fail(st.error());
    consumed_ += frame_size;
    compact(buffer_, consumed_);
    return result<request_frame>(std::move(f));
}

} // namespace tablemigrator::wire
