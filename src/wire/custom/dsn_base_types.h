// Pegasus custom types (pegasus-protocol.md §1.7), hand-written under the name thrift's generated
// code includes for src/idl/dsn_base.thrift. A field of these types is written with field type
// STRUCT, but the payload is NOT a Thrift struct: it is exactly the bytes each read/write handles.
#pragma once

#include <tablemigrator/core/error.hpp>

#include <thrift/protocol/TProtocol.h>
#include <thrift/protocol/TProtocolException.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace tablemigrator::idl {

// rDSN error_code: a Thrift string holding the error name ("ERR_OK", ...).
class rdsn_error {
public:
    rdsn_error() = default;
    explicit rdsn_error(std::string name)
        : name_(std::move(name)) {}
    rdsn_error(rdsn_errc e)
        : name_(rdsn_error_name(make_error_code(e))) {}
    explicit rdsn_error(const error_code& ec)
        : name_(rdsn_error_name(ec)) {}

    const std::string& name() const noexcept { return name_; }
    bool is_ok() const noexcept { return name_ == "ERR_OK"; }
    // Interns unknown names (see rdsn_error_from_name); success for ERR_OK.
    error_code to_error_code() const { return rdsn_error_from_name(name_); }

    uint32_t read(::apache::thrift::protocol::TProtocol* iprot) { return iprot->readString(name_); }
    uint32_t write(::apache::thrift::protocol::TProtocol* oprot) const {
        return oprot->writeString(name_);
    }

    friend bool operator==(const rdsn_error&, const rdsn_error&) = default;
    friend auto operator<=>(const rdsn_error&, const rdsn_error&) = default;
    friend std::ostream& operator<<(std::ostream& os, const rdsn_error& e) { return os << e.name_; }

private:
    std::string name_ = "ERR_OK";
};

// Partition id: one i64, low 32 bits app_id, high 32 bits partition_index.
class gpid {
public:
    gpid() = default;
    gpid(std::int32_t app_id, std::int32_t partition_index) noexcept
        : app_id_(app_id)
        , partition_index_(partition_index) {}

    std::int32_t app_id() const noexcept { return app_id_; }
    std::int32_t partition_index() const noexcept { return partition_index_; }
    std::uint64_t raw() const noexcept {
        return (std::uint64_t{static_cast<std::uint32_t>(partition_index_)} << 32) |
               std::uint64_t{static_cast<std::uint32_t>(app_id_)};
    }
    static gpid from_raw(std::uint64_t v) noexcept {
        return {static_cast<std::int32_t>(static_cast<std::uint32_t>(v)),
                static_cast<std::int32_t>(static_cast<std::uint32_t>(v >> 32))};
    }
    std::string to_string() const {
        return std::to_string(app_id_) + "." + std::to_string(partition_index_);
    }

    uint32_t read(::apache::thrift::protocol::TProtocol* iprot) {
        std::int64_t v = 0;
        const uint32_t n = iprot->readI64(v);
        *this = from_raw(static_cast<std::uint64_t>(v));
        return n;
    }
    uint32_t write(::apache::thrift::protocol::TProtocol* oprot) const {
        return oprot->writeI64(static_cast<std::int64_t>(raw()));
    }

    friend bool operator==(const gpid&, const gpid&) = default;
    friend auto operator<=>(const gpid&, const gpid&) = default;
    friend std::ostream& operator<<(std::ostream& os, const gpid& g) { return os << g.to_string(); }

private:
    std::int32_t app_id_ = 0;
    std::int32_t partition_index_ = 0;
};

// Host types shared by rpc_address and host_port.
enum class host_type : std::uint8_t { invalid = 0, ipv4 = 1, group = 2 };

// rpc_address: one i64 = IPv4 (host order) << 32 | port << 16 | type. All zero = invalid/none.
class rpc_address {
public:
    rpc_address() = default;

    static rpc_address from_ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                                 std::uint16_t port) noexcept {
        const std::uint32_t ip = (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) |
                                 (std::uint32_t{c} << 8) | std::uint32_t{d};
        return from_ipv4(ip, port);
    }
    static rpc_address from_ipv4(std::uint32_t ip_host_order, std::uint16_t port) noexcept {
        rpc_address r;
        r.raw_ = (std::uint64_t{ip_host_order} << 32) | (std::uint64_t{port} << 16) |
                 static_cast<std::uint64_t>(host_type::ipv4);
        return r;
    }
    static rpc_address from_raw(std::uint64_t v) noexcept {
        rpc_address r;
        r.raw_ = v;
        return r;
    }
    // Parses "a.b.c.d:port" (IPv4 literal only; no name resolution in a codec).
    static std::optional<rpc_address> parse(std::string_view text) noexcept {
        std::uint32_t parts[5] = {};
        int idx = 0;
        bool have_digit = false;
        for (char c : text) {
            if (c >= '0' && c <= '9') {
                parts[idx] = parts[idx] * 10 + static_cast<std::uint32_t>(c - '0');
                if (parts[idx] > 65535)
                    return std::nullopt;
                have_digit = true;
            } else if ((c == '.' && idx < 3) || (c == ':' && idx == 3)) {
                if (!have_digit)
                    return std::nullopt;
                ++idx;
                have_digit = false;
            } else {
                return std::nullopt;
            }
        }
        if (idx != 4 || !have_digit)
            return std::nullopt;
        for (int i = 0; i < 4; ++i)
            if (parts[i] > 255)
                return std::nullopt;
        return from_ipv4(static_cast<std::uint8_t>(parts[0]), static_cast<std::uint8_t>(parts[1]),
                         static_cast<std::uint8_t>(parts[2]), static_cast<std::uint8_t>(parts[3]),
                         static_cast<std::uint16_t>(parts[4]));
    }

    std::uint64_t raw() const noexcept { return raw_; }
    host_type type() const noexcept { return static_cast<host_type>(raw_ & 0x3u); }
    bool is_invalid() const noexcept { return type() == host_type::invalid; }
    bool is_ipv4() const noexcept { return type() == host_type::ipv4; }
    std::uint32_t ipv4() const noexcept { return static_cast<std::uint32_t>(raw_ >> 32); }
    std::uint16_t port() const noexcept { return static_cast<std::uint16_t>(raw_ >> 16); }
    // "a.b.c.d:port"; "invalid" for the empty address.
    std::string to_string() const {
        if (is_invalid())
            return "invalid";
        const std::uint32_t ip = ipv4();
        return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xffu) + "." +
               std::to_string((ip >> 8) & 0xffu) + "." + std::to_string(ip & 0xffu) + ":" +
               std::to_string(port());
    }

    uint32_t read(::apache::thrift::protocol::TProtocol* iprot) {
        std::int64_t v = 0;
        const uint32_t n = iprot->readI64(v);
        raw_ = static_cast<std::uint64_t>(v);
        return n;
    }
    uint32_t write(::apache::thrift::protocol::TProtocol* oprot) const {
        return oprot->writeI64(static_cast<std::int64_t>(raw_));
    }

    friend bool operator==(const rpc_address&, const rpc_address&) = default;
    friend auto operator<=>(const rpc_address&, const rpc_address&) = default;
    friend std::ostream& operator<<(std::ostream& os, const rpc_address& a) {
        return os << a.to_string();
    }

private:
    std::uint64_t raw_ = 0;
};

// host_port (master): Thrift string host, i16 port, byte type, with no struct framing.
class host_port {
public:
    host_port() = default;
    host_port(std::string host, std::uint16_t port, host_type type = host_type::ipv4)
        : host_(std::move(host))
        , port_(port)
        , type_(type) {}

    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    host_type type() const noexcept { return type_; }
    bool is_invalid() const noexcept { return type_ == host_type::invalid; }
    // "host:port"; "invalid" for the empty value.
    std::string to_string() const {
        if (is_invalid() && host_.empty())
            return "invalid";
        return host_ + ":" + std::to_string(port_);
    }

    uint32_t read(::apache::thrift::protocol::TProtocol* iprot) {
        std::int16_t port = 0;
        std::int8_t type = 0;
        uint32_t n = iprot->readString(host_);
        n += iprot->readI16(port);
        n += iprot->readByte(type);
        port_ = static_cast<std::uint16_t>(port);
        type_ = static_cast<host_type>(static_cast<std::uint8_t>(type));
        return n;
    }
    uint32_t write(::apache::thrift::protocol::TProtocol* oprot) const {
        uint32_t n = oprot->writeString(host_);
        n += oprot->writeI16(static_cast<std::int16_t>(port_));
        n += oprot->writeByte(static_cast<std::int8_t>(type_));
        return n;
    }

    friend bool operator==(const host_port&, const host_port&) = default;
    friend auto operator<=>(const host_port&, const host_port&) = default;
    friend std::ostream& operator<<(std::ostream& os, const host_port& h) {
        return os << h.to_string();
    }

private:
    std::string host_;
    std::uint16_t port_ = 0;
    host_type type_ = host_type::invalid;
};

// blob: Thrift binary (i32 length + raw bytes). Holds arbitrary bytes, not text.
class blob {
public:
    blob() = default;
    blob(std::string data)
        : data_(std::move(data)) {}
    blob(std::string_view data)
        : data_(data) {}
    blob(const char* data)
        : data_(data) {}
    blob(std::span<const std::uint8_t> data)
        : data_(reinterpret_cast<const char*>(data.data()), data.size()) {}

    const std::string& str() const noexcept { return data_; }
    std::string_view view() const noexcept { return data_; }
    std::span<const std::uint8_t> bytes() const noexcept {
        return {reinterpret_cast<const std::uint8_t*>(data_.data()), data_.size()};
    }
    std::size_t size() const noexcept { return data_.size(); }
    bool empty() const noexcept { return data_.empty(); }

    uint32_t read(::apache::thrift::protocol::TProtocol* iprot) { return iprot->readBinary(data_); }
    uint32_t write(::apache::thrift::protocol::TProtocol* oprot) const {
        return oprot->writeBinary(data_);
    }

    friend bool operator==(const blob&, const blob&) = default;
    friend auto operator<=>(const blob&, const blob&) = default;
    // Printable bytes as text, others as \xNN: blobs are keys and values, often binary.
    friend std::ostream& operator<<(std::ostream& os, const blob& b) {
        static constexpr char digits[] = "0123456789abcdef";
        for (unsigned char c : b.data_) {
            if (c >= 0x20 && c < 0x7f && c != '\\')
                os << static_cast<char>(c);
            else
                os << "\\x" << digits[c >> 4] << digits[c & 15];
        }
        return os;
    }

private:
    std::string data_;
};

// task_code: a Thrift string with the code name (e.g. "RPC_RRDB_RRDB_PUT").
class task_code {
public:
    task_code() = default;
    explicit task_code(std::string name)
        : name_(std::move(name)) {}
    const std::string& name() const noexcept { return name_; }

    uint32_t read(::apache::thrift::protocol::TProtocol* iprot) { return iprot->readString(name_); }
    uint32_t write(::apache::thrift::protocol::TProtocol* oprot) const {
        return oprot->writeString(name_);
    }

    friend bool operator==(const task_code&, const task_code&) = default;
    friend auto operator<=>(const task_code&, const task_code&) = default;
    friend std::ostream& operator<<(std::ostream& os, const task_code& t) { return os << t.name_; }

private:
    std::string name_;
};

} // namespace tablemigrator::idl
