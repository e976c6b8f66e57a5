// endpoint: a "host:port" server address as users and meta servers write it, and its parsers.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tablemigrator::rpc {

struct endpoint {
    std::string host; // a name or a literal address (IPv6 without brackets)
    std::uint16_t port = 0;

    // "host:port", or "[v6]:port" when the host contains a colon.
    std::string to_string() const;

    friend auto operator<=>(const endpoint&, const endpoint&) = default;
    friend bool operator==(const endpoint&, const endpoint&) = default;
};

// Parses "host:port" or "[v6addr]:port" (surrounding spaces ignored). The port must be a decimal
// in 1..65535 and the host non-empty, without spaces or commas. Fails with
// client_errc::invalid_argument.
result<endpoint> parse_endpoint(std::string_view text);

// Parses "h1:p1,h2:p2" (spaces around items ignored). Empty input or an empty item fails with
// client_errc::invalid_argument, as does any bad item. Duplicates are kept in order.
result<std::vector<endpoint>> parse_endpoint_list(std::string_view text);

} // namespace tablemigrator::rpc
