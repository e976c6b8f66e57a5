// Unit tests for the pure parts of zk: the digest ACL id and the zookeeper error category.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/zk_error.hpp>
#include <tablemigrator/zk/client.hpp>

#include <doctest/doctest.h>

using namespace tablemigrator;

TEST_CASE("zk digest: the ACL id matches ZooKeeper's DigestAuthenticationProvider") {
    // Reference values printed by `java ... DigestAuthenticationProvider alice:secret super:superpw`.
    CHECK(zk::digest_acl_id("alice:secret") == "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
    CHECK(zk::digest_acl_id("super:superpw") == "super:g9oN2HttPfn8MMWJZ2r45Np/LIA=");
}

TEST_CASE("zk errors: codes keep the C client's numbers and read well") {
    const error_code ec = zk_errc::bad_version;
    CHECK(ec.value() == -103);
    CHECK(ec.category().name() == std::string("zookeeper"));
    CHECK(ec.message() == "bad version");
    CHECK(error_code(zk_errc::session_expired).value() == -112);
    CHECK(error_code(zk_errc::connection_loss).value() == -4);
    CHECK(error_code(static_cast<zk_errc>(-999)).message() == "zookeeper error -999");
}

TEST_CASE("zk errors: connection loss and timeouts are retryable, expiry and data errors are not") {
    CHECK(is_retryable(zk_errc::connection_loss));
    CHECK(is_retryable(zk_errc::operation_timeout));
    CHECK(is_retryable(zk_errc::throttled_op));
    CHECK_FALSE(is_retryable(zk_errc::session_expired));
    CHECK_FALSE(is_retryable(zk_errc::bad_version));
    CHECK_FALSE(is_retryable(zk_errc::no_node));
    CHECK_FALSE(is_retryable(zk_errc::no_auth));
    CHECK_FALSE(is_retryable(zk_errc::ok));
}
