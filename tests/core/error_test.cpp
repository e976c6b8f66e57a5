#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/log.hpp>

#include <boost/asio/error.hpp>
#include <doctest/doctest.h>

using namespace tablemigrator;

TEST_CASE("rdsn errors: known names round-trip through the category") {
    const auto ec = rdsn_error_from_name("ERR_FORWARD_TO_OTHERS");
    CHECK(ec == rdsn_errc::ERR_FORWARD_TO_OTHERS);
    CHECK(rdsn_error_name(ec) == "ERR_FORWARD_TO_OTHERS");
    CHECK(ec.category().name() == std::string("rdsn"));
    CHECK(rdsn_error_name(rdsn_errc::ERR_DUP_EXIST) == "ERR_DUP_EXIST");
    CHECK(rdsn_error_name(rdsn_errc::ERR_NOT_MATCHED) == "ERR_NOT_MATCHED");
}

TEST_CASE("rdsn errors: ERR_OK is success") {
    const auto ec = rdsn_error_from_name("ERR_OK");
    CHECK_FALSE(ec.failed());
    CHECK(rdsn_error_name(ec) == "ERR_OK");
}

TEST_CASE("rdsn errors: unknown names are preserved and stable") {
    const auto a = rdsn_error_from_name("ERR_SOMETHING_NEW");
    const auto b = rdsn_error_from_name("ERR_SOMETHING_NEW");
    const auto c = rdsn_error_from_name("ERR_OTHER_NEW");
    CHECK(a.failed());
    CHECK(a == b);
    CHECK(a != c);
    CHECK(rdsn_error_name(a) == "ERR_SOMETHING_NEW");
    CHECK(a.value() >= static_cast<int>(rdsn_errc::first_unknown));
    CHECK_FALSE(is_retryable(a));
}

TEST_CASE("is_retryable: leader changes, busy servers and network failures retry") {
    CHECK(is_retryable(rdsn_errc::ERR_FORWARD_TO_OTHERS));
    CHECK(is_retryable(rdsn_errc::ERR_SERVICE_NOT_ACTIVE));
    CHECK(is_retryable(rdsn_errc::ERR_UNDER_RECOVERY));
    CHECK(is_retryable(rdsn_errc::ERR_BUSY));
    CHECK(is_retryable(client_errc::timeout));
    CHECK(is_retryable(client_errc::connection_closed));
    CHECK(is_retryable(make_error_code(boost::asio::error::connection_refused)));
    CHECK(is_retryable(make_error_code(boost::asio::error::connection_reset)));
    CHECK(is_retryable(make_error_code(boost::asio::error::eof)));
}

TEST_CASE("is_retryable: application errors are returned, not retried") {
    CHECK_FALSE(is_retryable(rdsn_errc::ERR_OBJECT_NOT_FOUND));
    CHECK_FALSE(is_retryable(rdsn_errc::ERR_APP_NOT_EXIST));
    CHECK_FALSE(is_retryable(rdsn_errc::ERR_INVALID_PARAMETERS));
    CHECK_FALSE(is_retryable(rdsn_errc::ERR_DUP_EXIST));
    CHECK_FALSE(is_retryable(client_errc::http_not_found));
    CHECK_FALSE(is_retryable(client_errc::cancelled));
    CHECK_FALSE(is_retryable(error_code{}));
}

TEST_CASE("parse_log_level accepts the documented names only") {
    CHECK(parse_log_level("debug") == log_level::debug);
    CHECK(parse_log_level("warn") == log_level::warn);
    CHECK_FALSE(parse_log_level("loud").has_value());
}
