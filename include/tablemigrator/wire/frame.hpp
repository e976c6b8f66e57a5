// THFT request frames and Pegasus response frames (pegasus-protocol.md §1), sans-io.
// Client half: encode requests (header v0), decode response frames from a byte stream.
// Server half (pegasus-sim): decode request frames (header v0 and v1), encode response frames.
// This module never includes Asio: callers feed bytes and take frames out.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::wire {

using bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t thft_v0_header_size = 48;
inline constexpr std::size_t default_max_frame_size = 64u * 1024u * 1024u;

// Routing fields of a request header (v0 layout §1.2; v1 carries the same in its meta struct).
struct request_header {
    std::int32_t app_id = 0;
    std::int32_t partition_index = 0;
    std::uint32_t client_timeout_ms = 0;
    std::int32_t thread_hash = 0;     // app_id * 7919 + partition_index for data RPCs
    std::uint64_t partition_hash = 0; // CRC-64 of the routing bytes for data RPCs, 0 for admin
    bool is_backup_request = false;   // v1 only
    int header_version = 0;           // 0 or 1, as decoded; encode always writes v0
};

// Thrift message types (§1.6).
enum class message_type : std::uint8_t { call = 1, reply = 2, exception = 3, oneway = 4 };

// A complete request as the server sees it: header + the Thrift message (header, args wrapper).
struct request_frame {
    request_header header;
    std::string name;       // RPC name, e.g. "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX"
    std::int32_t seqid = 0;
    message_type type = message_type::call;
    bytes body;             // the whole Thrift message body (message header included)
    std::size_t args_offset = 0; // offset in body of the args wrapper (after the message header)
};

// A complete response as the client sees it (§1.5): error name, reply name, seqid, payload.
// (error_name comes first so that result<response_frame> is never ambiguous with an error_code:
// C++20 aggregates are constructible from their first member.)
struct response_frame {
    std::string error_name;  // as sent (unknown names preserved)
    error_code frame_error;  // from the error_name string; success for ERR_OK
    std::string name;        // reply name, e.g. "RPC_CM_LIST_NODES_ACK"
    std::int32_t seqid = 0;
    bytes payload;           // bytes after the message header: the result wrapper (empty on error-only frames)
};

// ---- client half -------------------------------------------------------------------------

// Encodes a complete v0 request frame: 48-byte header + strict CALL message + args wrapper whose
// field 1 holds `args_struct` (already Thrift-encoded struct bytes, STOP included) with the given
// field type byte (0x0C for structs; data RPCs like CLEAR_SCANNER use others).
bytes encode_request(const request_header& header, std::string_view name, std::int32_t seqid,
                     std::span<const std::uint8_t> args_field_value, std::uint8_t args_field_type = 0x0C,
                     message_type type = message_type::call);

// Incremental decoder of response frames. feed() any chunk; next() yields complete frames in order.
// Garbage (a length below the minimum, a bad message header) or a frame above max_frame_size puts
// the decoder into a failed state: next() returns the error and the connection must be dropped.
class response_decoder {
public:
    explicit response_decoder(std::size_t max_frame_size = default_max_frame_size);
    void feed(std::span<const std::uint8_t> data);
    // nullopt: need more bytes. A value: a frame or the decoder's (sticky) error.
    std::optional<result<response_frame>> next();
    std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }

private:
    std::size_t max_frame_size_;
    bytes buffer_;
    std::size_t consumed_ = 0;
    error_code failed_;
};

// Parses one complete response frame (the whole frame, length prefix included).
result<response_frame> decode_response_frame(std::span<const std::uint8_t> frame);

// ---- server half (pegasus-sim) ------------------------------------------------------------

// Encodes a response frame with error_name ERR_OK (or another name) and a result wrapper whose
// field 0 carries `result_value` with type byte `result_type` (0x0C struct, 0x0B string).
bytes encode_response(std::string_view error_name, std::string_view reply_name, std::int32_t seqid,
                      std::span<const std::uint8_t> result_value, std::uint8_t result_type = 0x0C);

// Encodes an error-only frame (no body): e.g. ERR_HANDLER_NOT_FOUND, ERR_INVALID_STATE (§1.5, TV3).
bytes encode_error_response(std::string_view error_name, std::string_view reply_name,
                            std::int32_t seqid);

// What the first four bytes of a connection select (§1.1).
enum class connection_protocol { thft, http, unknown, need_more };
connection_protocol sniff_protocol(std::span<const std::uint8_t> first_bytes) noexcept;

// Incremental decoder of request frames (THFT header v0 or v1). Invalid input (bad signature,
// unsupported header version, v0 header_length != 48, message type not CALL/ONEWAY, oversize)
// is sticky: the server must close the connection without a reply.
class request_decoder {
public:
    explicit request_decoder(std::size_t max_frame_size = default_max_frame_size);
    void feed(std::span<const std::uint8_t> data);
    std::optional<result<request_frame>> next();

private:
    std::size_t max_frame_size_;
    bytes buffer_;
    std::size_t consumed_ = 0;
    error_code failed_;
};

} // namespace tablemigrator::wire
