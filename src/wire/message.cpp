// Thrift glue for typed messages: the only place that touches TMemoryBuffer/TBinaryProtocol, and
// the place where every Thrift exception turns into client_errc::decode_failed.
#include <tablemigrator/wire/message.hpp>

#include "binary.hpp"

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

namespace tablemigrator::wire {
namespace {

namespace at = ::apache::thrift;

error_code decode_failed() {
    return make_error_code(client_errc::decode_failed);
}

} // namespace

namespace detail {

result<std::size_t> read_thrift(std::span<const std::uint8_t> b, read_fn read, void* obj) {
    if (b.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        return decode_failed();
    try {
        // OBSERVE never writes through the pointer; the const_cast only satisfies the API.
        auto buffer = std::make_shared<at::transport::TMemoryBuffer>(
            const_cast<std::uint8_t*>(b.data()), static_cast<std::uint32_t>(b.size()),
            at::transport::TMemoryBuffer::OBSERVE);
        // Bound strings and containers by the input size, so a hostile length cannot make the
        // generated code allocate far beyond what was received.
        const auto limit = static_cast<std::int32_t>(b.size());
        at::protocol::TBinaryProtocol proto(buffer, limit, limit, false, true);
        read(obj, &proto);
        return b.size() - buffer->available_read();
    } catch (const at::TException&) {
        return decode_failed();
    } catch (const std::bad_alloc&) {
        return decode_failed();
    } catch (const std::length_error&) {
        return decode_failed();
    }
}

bytes write_thrift(write_fn write, const void* obj) {
    auto buffer = std::make_shared<at::transport::TMemoryBuffer>();
    at::protocol::TBinaryProtocol proto(buffer);
    write(obj, &proto);
    std::uint8_t* data = nullptr;
    std::uint32_t size = 0;
    buffer->getBuffer(&data, &size);
    return bytes(data, data + size);
}

result<std::span<const std::uint8_t>> reply_result(const response_frame& f, std::uint8_t type) {
    if (f.frame_error)
        return f.frame_error;
    reader r(f.payload);
    std::uint8_t field_type = 0;
    std::int16_t id = 0;
    if (!r.u8(field_type) || field_type != type || !r.i16(id) || id != 0)
        return decode_failed();
    return r.rest();
}

} // namespace detail

result<std::string> decode_string_reply(const response_frame& f) {
    auto value = detail::reply_result(f, 0x0B);
    if (!value)
        return value.error();
    detail::reader r(*value);
    std::string s;
    if (!r.string(s, value->size()))
        return decode_failed();
    return s;
}

bytes encode_string_reply(std::string_view reply_name, std::int32_t seqid, std::string_view s) {
    bytes value;
    value.reserve(4 + s.size());
    detail::put_string(value, s);
    return encode_response("ERR_OK", reply_name, seqid, value, 0x0B);
}

result<std::int64_t> decode_call_i64(const request_frame& f) {
    if (f.args_offset > f.body.size())
        return decode_failed();
    detail::reader r(std::span(f.body).subspan(f.args_offset));
    std::uint8_t type = 0;
    std::int16_t id = 0;
    std::uint64_t v = 0;
    if (!r.u8(type) || type == 0 || !r.i16(id) || !r.u64(v))
        return decode_failed();
    return static_cast<std::int64_t>(v);
}

} // namespace tablemigrator::wire
