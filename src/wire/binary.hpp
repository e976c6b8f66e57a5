// Private helpers of module wire: big-endian writer and a bounds-checked reader for the Thrift
// binary primitives that frames are made of. Every read checks the remaining length first, so a
// truncated or hostile input yields "false", never an out-of-bounds access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::wire::detail {

inline void put_u8(std::vector<std::uint8_t>& out, std::uint8_t v) {
    out.push_back(v);
}

inline void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

inline void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

inline void put_i32(std::vector<std::uint8_t>& out, std::int32_t v) {
    put_u32(out, static_cast<std::uint32_t>(v));
}

// Thrift string/binary: i32 length + bytes.
inline void put_string(std::vector<std::uint8_t>& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

inline void put_bytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
}

inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

inline std::uint64_t load_u64(const std::uint8_t* p) noexcept {
    return (std::uint64_t{load_u32(p)} << 32) | std::uint64_t{load_u32(p + 4)};
}

// Bounds-checked cursor over an immutable byte range.
class reader {
public:
    explicit reader(std::span<const std::uint8_t> data) noexcept
        : data_(data) {}

    std::size_t pos() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    std::span<const std::uint8_t> rest() const noexcept { return data_.subspan(pos_); }

    bool skip(std::size_t n) noexcept {
        if (remaining() < n)
            return false;
        pos_ += n;
        return true;
    }
    bool u8(std::uint8_t& v) noexcept {
        if (remaining() < 1)
            return false;
        v = data_[pos_++];
        return true;
    }
    bool i16(std::int16_t& v) noexcept {
        if (remaining() < 2)
            return false;
        v = static_cast<std::int16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
        pos_ += 2;
        return true;
    }
    bool u32(std::uint32_t& v) noexcept {
        if (remaining() < 4)
            return false;
        v = load_u32(data_.data() + pos_);
        pos_ += 4;
        return true;
    }
    bool i32(std::int32_t& v) noexcept {
        std::uint32_t u = 0;
        if (!u32(u))
            return false;
        v = static_cast<std::int32_t>(u);
        return true;
    }
    bool u64(std::uint64_t& v) noexcept {
        if (remaining() < 8)
            return false;
        v = load_u64(data_.data() + pos_);
        pos_ += 8;
        return true;
    }
    // Thrift string: a negative length or one past the end is a failure.
    bool string(std::string& v, std::size_t max_len) {
        std::int32_t len = 0;
        if (!i32(len) || len < 0 || static_cast<std::size_t>(len) > max_len ||
            static_cast<std::size_t>(len) > remaining())
            return false;
        v.assign(reinterpret_cast<const char*>(data_.data() + pos_), static_cast<std::size_t>(len));
        pos_ += static_cast<std::size_t>(len);
        return true;
    }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

// Skips one value of a plain Thrift type (no Pegasus custom types). Depth-limited.
inline bool skip_value(reader& r, std::uint8_t type, int depth = 0) {
    if (depth > 32)
        return false;
    switch (type) {
    case 2: // bool
    case 3: // byte
        return r.skip(1);
    case 4:  // double
    case 10: // i64
        return r.skip(8);
    case 6: // i16
        return r.skip(2);
    case 8: // i32
        return r.skip(4);
    case 11: { // string
        std::int32_t len = 0;
        return r.i32(len) && len >= 0 && r.skip(static_cast<std::size_t>(len));
    }
    case 12: // struct
        for (;;) {
            std::uint8_t ft = 0;
            std::int16_t id = 0;
            if (!r.u8(ft))
                return false;
            if (ft == 0)
                return true;
            if (!r.i16(id) || !skip_value(r, ft, depth + 1))
                return false;
        }
    case 13: { // map
        std::uint8_t kt = 0, vt = 0;
        std::int32_t n = 0;
        if (!r.u8(kt) || !r.u8(vt) || !r.i32(n) || n < 0 ||
            static_cast<std::size_t>(n) > r.remaining())
            return false;
        for (std::int32_t i = 0; i < n; ++i)
            if (!skip_value(r, kt, depth + 1) || !skip_value(r, vt, depth + 1))
                return false;
        return true;
    }
    case 14:   // set
    case 15: { // list
        std::uint8_t et = 0;
        std::int32_t n = 0;
        if (!r.u8(et) || !r.i32(n) || n < 0 || static_cast<std::size_t>(n) > r.remaining())
            return false;
        for (std::int32_t i = 0; i < n; ++i)
            if (!skip_value(r, et, depth + 1))
                return false;
        return true;
    }
    default:
        return false;
    }
}

} // namespace tablemigrator::wire::detail
