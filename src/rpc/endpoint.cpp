// endpoint parsing: strict, because a typo in a server list should fail at start-up, not later
// as a connection error.
#include <tablemigrator/rpc/endpoint.hpp>

#include <tablemigrator/core/error.hpp>

#include <charconv>

namespace tablemigrator::rpc {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

error_code invalid() {
    return make_error_code(client_errc::invalid_argument);
}

} // namespace

std::string endpoint::to_string() const {
    if (host.find(':') != std::string::npos)
        return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

result<endpoint> parse_endpoint(std::string_view text) {
    text = trim(text);
    std::string_view host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return invalid();
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return invalid();
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) // bare IPv6 needs brackets
            return invalid();
    }
    if (host.empty() || host.find_first_of(" \t,[]") != std::string_view::npos)
        return invalid();
    if (port_text.empty() || port_text.size() > 5)
        return invalid();
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
        return invalid();
    return endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

result<std::vector<endpoint>> parse_endpoint_list(std::string_view text) {
    if (trim(text).empty())
        return invalid();
    std::vector<endpoint> out;
    for (;;) {
        const auto comma = text.find(',');
        auto ep = parse_endpoint(text.substr(0, comma));
        if (!ep)
            return ep.error();
        out.push_back(std::move(*ep));
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

} // namespace tablemigrator::rpc
