// Small Boost.JSON helpers shared by the replica parsers (private to src/replica).
#pragma once

#include <tablemigrator/core/error.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace tablemigrator::replica::detail {

// Parses a whole body as JSON; any syntax error becomes client_errc::bad_json.
inline result<boost::json::value> parse_json(std::string_view body) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (ec)
        return make_error_code(client_errc::bad_json);
    return v;
}

inline result<const boost::json::object*> parse_json_object(std::string_view body,
                                                            boost::json::value& storage) {
    auto v = parse_json(body);
    if (!v)
        return v.error();
    storage = std::move(*v);
    if (!storage.is_object())
        return make_error_code(client_errc::bad_json);
    return &storage.get_object();
}

// Integral JSON number (int64, uint64 in range, or a double with no fraction).
inline std::optional<std::int64_t> as_int64(const boost::json::value& v) {
    if (v.is_int64())
        return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18)
            return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

inline std::optional<double> as_double(const boost::json::value& v) {
    if (v.is_double())
        return v.get_double();
    if (v.is_int64())
        return static_cast<double>(v.get_int64());
    if (v.is_uint64())
        return static_cast<double>(v.get_uint64());
    return std::nullopt;
}

inline const boost::json::value* member(const boost::json::object& o, std::string_view key) {
    return o.if_contains(key);
}

inline std::optional<std::string> string_member(const boost::json::object& o,
                                                std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string())
        return std::nullopt;
    return std::string(v->get_string());
}

inline std::optional<std::int64_t> int_member(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v)
        return std::nullopt;
    return as_int64(*v);
}

// Scalars rendered as text (strings without quotes); nullopt for objects and arrays.
inline std::optional<std::string> scalar_text(const boost::json::value& v) {
    if (v.is_string())
        return std::string(v.get_string());
    if (v.is_bool())
        return std::string(v.get_bool() ? "true" : "false");
    if (v.is_int64())
        return std::to_string(v.get_int64());
    if (v.is_uint64())
        return std::to_string(v.get_uint64());
    if (v.is_double())
        return boost::json::serialize(v);
    if (v.is_null())
        return std::string("null");
    return std::nullopt;
}

} // namespace tablemigrator::replica::detail
