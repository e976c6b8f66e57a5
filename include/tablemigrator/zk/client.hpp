// ZooKeeper client: awaitable get/exists/set/create/remove over the zookeeper_mt C library.
// The C library's threads only post completions into the io_context; no ZooKeeper C type appears
// here (pimpl), so callers never see zookeeper.h.
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/core/zk_error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tablemigrator::zk {

// A znode's metadata (the fields of ZooKeeper's Stat).
struct stat {
    std::int64_t czxid = 0;
    std::int64_t mzxid = 0;
    std::int64_t pzxid = 0;
    std::int64_t ctime_ms = 0;
    std::int64_t mtime_ms = 0;
    std::int32_t version = 0;   // data version: the compare-and-set token for set()/remove()
    std::int32_t cversion = 0;
    std::int32_t aversion = 0;
    std::int64_t ephemeral_owner = 0;
    std::int32_t data_length = 0;
    std::int32_t num_children = 0;
};

struct node {
    std::string data;
    zk::stat stat;
};

struct connect_options {
    // Requested session timeout; the server clamps it to [2, 20] x its tickTime.
    std::chrono::milliseconds session_timeout{10'000};
    // Deadline for reaching the connected state (and for the auth round trip).
    std::chrono::milliseconds connect_timeout{10'000};
    // Deadline for each operation; on expiry the operation fails with zk_errc::operation_timeout.
    std::chrono::milliseconds operation_timeout{10'000};
    // "user:password" for the digest scheme, added right after connecting.
    std::optional<std::string> digest_auth;
};

struct create_options {
    bool ephemeral = false;
    // Create missing ancestors first (empty data, same ACL); existing ones are fine.
    bool make_parents = false;
    // nullopt: world-open ACL. "user:password": only that digest user gets any permission.
    std::optional<std::string> digest_acl;
};

enum class session_state {
    connecting,   // not connected yet, or the connection was lost and the library is reconnecting
    connected,
    expired,      // terminal: every later operation fails with zk_errc::session_expired
    auth_failed,  // terminal
    closed,       // close() was called
};

const char* to_string(session_state s) noexcept;

// The ACL id for the digest scheme: "user:" + base64(sha1("user:password")).
std::string digest_acl_id(std::string_view user_password);

// One ZooKeeper session. Use it from the executor it was connected on (one io_context thread);
// destroy it before that io_context. Every operation completes on that executor.
//
// Errors: ZooKeeper failures are zk_errc codes. Session expiry makes pending and later operations
// fail with zk_errc::session_expired; open a new session with connect() (is_retryable() says no).
// Cancellation (any type) completes the operation at once with asio::error::operation_aborted;
// ZooKeeper cannot recall a request already sent, so an abandoned write may still be applied,
// and its late reply is dropped.
class client : public std::enable_shared_from_this<client> {
public:
    // connect_string: "h1:2181,h2:2181[/chroot]" (the library picks hosts in random order and
    // fails over). Waits for the connected state (or fails: expired, auth_failed, or
    // client_errc::timeout after connect_timeout), then adds digest auth if configured.
    static boost::asio::awaitable<result<std::shared_ptr<client>>>
    connect(boost::asio::any_io_executor ex, std::string connect_string, connect_options options);

    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    boost::asio::awaitable<result<node>> get(std::string path);
    // nullopt when the node does not exist.
    boost::asio::awaitable<result<std::optional<stat>>> exists(std::string path);
    // expected_version -1 writes unconditionally; otherwise zk_errc::bad_version on a mismatch.
    boost::asio::awaitable<result<stat>> set(std::string path, std::string data,
                                             std::int32_t expected_version);
    // Returns the created path (relative to the chroot).
    boost::asio::awaitable<result<std::string>> create(std::string path, std::string data,
                                                       create_options options);
    boost::asio::awaitable<status> remove(std::string path, std::int32_t expected_version);

    session_state state() const noexcept;
    // Completes with the state after the next session state change, or client_errc::timeout.
    boost::asio::awaitable<result<session_state>> wait_for_event(std::chrono::milliseconds timeout);
    // Completes once the session is connected (at once if it is): zk_errc::session_expired or
    // auth_failed when it never will be, client_errc::timeout at the deadline.
    boost::asio::awaitable<status> wait_connected(std::chrono::milliseconds timeout);

    // Closes the session (the server drops its ephemeral nodes). In-flight operations complete with
    // zk_errc::closing. Blocks for the close round trip (about a millisecond on a live server).
    void close();

    const std::string& connect_string() const noexcept;

    class impl;

private:
    explicit client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace tablemigrator::zk
