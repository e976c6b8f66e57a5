// The digest ACL id ZooKeeper compares against: "user:" + base64(sha1("user:password")).
// A small SHA-1 of our own keeps this pure and independent of Boost detail headers.
#include <tablemigrator/zk/client.hpp>

#include <array>
#include <cstdint>

namespace tablemigrator::zk {
namespace {

std::uint32_t rotl(std::uint32_t x, int n) {
    return (x << n) | (x >> (32 - n));
}

std::array<std::uint8_t, 20> sha1(std::string_view input) {
    std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    std::string msg(input);
    const std::uint64_t bit_len = static_cast<std::uint64_t>(input.size()) * 8u;
    msg.push_back(static_cast<char>(0x80));
    while (msg.size() % 64 != 56)
        msg.push_back('\0');
    for (int i = 7; i >= 0; --i)
        msg.push_back(static_cast<char>((bit_len >> (i * 8)) & 0xffu));

    for (std::size_t chunk = 0; chunk < msg.size(); chunk += 64) {
        std::uint32_t w[80];
        for (std::size_t i = 0; i < 16; ++i) {
            w[i] = 0;
            for (std::size_t b = 0; b < 4; ++b)
                w[i] = (w[i] << 8) | static_cast<std::uint8_t>(msg[chunk + i * 4 + b]);
        }
        for (std::size_t i = 16; i < 80; ++i)
            w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (std::size_t i = 0; i < 80; ++i) {
            std::uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::array<std::uint8_t, 20> out{};
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t b = 0; b < 4; ++b)
            out[i * 4 + b] = static_cast<std::uint8_t>((h[i] >> (24 - 8 * b)) & 0xffu);
    return out;
}

std::string base64(const std::array<std::uint8_t, 20>& bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) |
                                (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out += alphabet[(v >> 18) & 63u];
        out += alphabet[(v >> 12) & 63u];
        out += alphabet[(v >> 6) & 63u];
        out += alphabet[v & 63u];
    }
    // 20 bytes leave 2: three symbols and one '='.
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63u];
    out += alphabet[(v >> 12) & 63u];
    out += alphabet[(v >> 6) & 63u];
    out += '=';
    return out;
}

} // namespace

std::string digest_acl_id(std::string_view user_password) {
    const auto colon = user_password.find(':');
    const std::string_view user = user_password.substr(0, colon);
    return std::string(user) + ":" + base64(sha1(user_password));
}

} // namespace tablemigrator::zk
