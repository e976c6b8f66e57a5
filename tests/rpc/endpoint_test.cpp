// Unit tests for endpoint parsing.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/rpc/endpoint.hpp>

#include <doctest/doctest.h>

using tablemigrator::client_errc;
namespace rpc = tablemigrator::rpc;

TEST_CASE("parse_endpoint: host:port, IPv4, names and bracketed IPv6") {
    auto a = rpc::parse_endpoint("127.0.0.1:34601");
    REQUIRE(a.has_value());
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 34601);
    CHECK(a->to_string() == "127.0.0.1:34601");
    auto b = rpc::parse_endpoint("  meta-1.example:1 ");
    REQUIRE(b.has_value());
    CHECK(b->host == "meta-1.example");
    CHECK(b->port == 1);
    auto c = rpc::parse_endpoint("[::1]:65535");
    REQUIRE(c.has_value());
    CHECK(c->host == "::1");
    CHECK(c->port == 65535);
    CHECK(c->to_string() == "[::1]:65535");
}

TEST_CASE("parse_endpoint: bad input is invalid_argument") {
    for (const char* bad :
         {"", "host", ":80", "host:", "host:0", "host:65536", "host:12a", "host:-1", "host:+80",
          "a b:1", "::1:80", "[::1]80", "[::1", "h:1,", "host:000080"}) {
        CAPTURE(bad);
        auto r = rpc::parse_endpoint(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::invalid_argument);
    }
}

TEST_CASE("parse_endpoint_list: comma separated, spaces trimmed, order kept") {
    auto r = rpc::parse_endpoint_list("10.0.0.1:34601, 10.0.0.2:34601 ,10.0.0.3:34602");
    REQUIRE(r.has_value());
    REQUIRE(r->size() == 3);
    CHECK((*r)[0] == rpc::endpoint{"10.0.0.1", 34601});
    CHECK((*r)[1] == rpc::endpoint{"10.0.0.2", 34601});
    CHECK((*r)[2] == rpc::endpoint{"10.0.0.3", 34602});
    CHECK((*r)[0] < (*r)[1]);
}

TEST_CASE("parse_endpoint_list: empty input, empty items and bad items fail") {
    for (const char* bad : {"", "  ", "a:1,,b:2", "a:1,", ",a:1", "a:1,b"}) {
        CAPTURE(bad);
        auto r = rpc::parse_endpoint_list(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == client_errc::invalid_argument);
    }
}
