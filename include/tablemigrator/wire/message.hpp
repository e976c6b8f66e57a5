// Typed Thrift messages on top of the frame codec: serialize IDL structs with TBinaryProtocol,
// wrap them as call args / reply results, and decode them back. Thrift exceptions never escape:
// every decode failure is client_errc::decode_failed.
#pragma once

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/result.hpp>
#include <tablemigrator/wire/frame.hpp>

#include <thrift/protocol/TProtocol.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tablemigrator::wire {

namespace detail {

using read_fn = void (*)(void* obj, ::apache::thrift::protocol::TProtocol* p);
using write_fn = void (*)(const void* obj, ::apache::thrift::protocol::TProtocol* p);

// Runs `read` over a binary protocol reading `b` (string and container sizes bounded by b's
// size); returns the number of bytes consumed, or decode_failed on any Thrift exception.
result<std::size_t> read_thrift(std::span<const std::uint8_t> b, read_fn read, void* obj);
bytes write_thrift(write_fn write, const void* obj);

// The value of the reply's result field 0 (must carry type `type`), after checking frame_error.
result<std::span<const std::uint8_t>> reply_result(const response_frame& f, std::uint8_t type);

template <class T>
void read_into(void* obj, ::apache::thrift::protocol::TProtocol* p) {
    static_cast<T*>(obj)->read(p);
}
template <class T>
void write_from(const void* obj, ::apache::thrift::protocol::TProtocol* p) {
    static_cast<const T*>(obj)->write(p);
}

} // namespace detail

// TBinaryProtocol bytes of one struct (or custom type) value, STOP included for structs.
template <class T>
bytes serialize_struct(const T& v) {
    return detail::write_thrift(&detail::write_from<T>, &v);
}

// Decodes one value from the start of `b`; trailing bytes are ignored.
template <class T>
result<T> deserialize_struct(std::span<const std::uint8_t> b) {
    T v{};
    auto n = detail::read_thrift(b, &detail::read_into<T>, &v);
    if (!n)
        return result<T>(boost::system::in_place_error, n.error());
    return result<T>(boost::system::in_place_value, std::move(v));
}

// A complete v0 request frame whose args field 1 (type STRUCT) holds `args`.
template <class Req>
bytes encode_call(const request_header& h, std::string_view name, std::int32_t seqid,
                  const Req& args) {
    return encode_request(h, name, seqid, serialize_struct(args), 0x0C);
}

// The typed result of a reply frame. A non-OK frame_error is returned as that error; a missing
// result, a result field that is not a STRUCT, or bytes that do not decode -> decode_failed.
template <class Resp>
result<Resp> decode_reply(const response_frame& f) {
    auto value = detail::reply_result(f, 0x0C);
    if (!value)
        return result<Resp>(boost::system::in_place_error, value.error());
    return deserialize_struct<Resp>(*value);
}

// The remote-command reply (result field 0 of type STRING).
result<std::string> decode_string_reply(const response_frame& f);

// Server side, lenient like rDSN (§1.4): one args field whose id and type byte are ignored.
template <class Req>
result<Req> decode_call_args(const request_frame& f) {
    if (f.args_offset + 3 > f.body.size())
        return result<Req>(boost::system::in_place_error,
                           make_error_code(client_errc::decode_failed));
    if (f.body[f.args_offset] == 0) // STOP: no args field at all
        return result<Req>(boost::system::in_place_error,
                           make_error_code(client_errc::decode_failed));
    return deserialize_struct<Req>(std::span(f.body).subspan(f.args_offset + 3));
}

// A reply frame with error_name ERR_OK and result field 0 (STRUCT) holding `r`.
template <class Resp>
bytes encode_reply(std::string_view reply_name, std::int32_t seqid, const Resp& r) {
    return encode_response("ERR_OK", reply_name, seqid, serialize_struct(r), 0x0C);
}

// A reply frame with error_name ERR_OK and result field 0 (STRING) holding `s`.
bytes encode_string_reply(std::string_view reply_name, std::int32_t seqid, std::string_view s);

// The args value of a request whose args field is a bare i64 (RPC_RRDB_RRDB_CLEAR_SCANNER).
result<std::int64_t> decode_call_i64(const request_frame& f);

} // namespace tablemigrator::wire
