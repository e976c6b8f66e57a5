// rpc_session: one THFT connection to one server, shared by many concurrent callers. Calls are
// multiplexed by seqid over one TCP connection (Boost.Redis style: one reader dispatches replies,
// one writer serialises frames); abandoned calls have their late replies dropped.
#pragma once

#include <tablemigrator/core/result.hpp>
#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/wire/frame.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace tablemigrator::rpc {

struct session_options {
    // Name resolution plus TCP connect, per attempt.
    std::chrono::milliseconds connect_timeout{3000};
    // Delay before reconnecting after a failed connection: doubles per consecutive failure up to
    // backoff_max; back to backoff_initial once a reply arrives.
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{2000};
    // Largest response frame accepted; a bigger one closes the connection (frame_too_large).
    std::size_t max_frame_size = wire::default_max_frame_size;
    // A single frame write that does not finish within this fails the connection (the peer stopped
    // reading). Also bounds how long send_oneway waits.
    std::chrono::milliseconds write_timeout{10000};
};

// Must be owned by a std::shared_ptr (calls keep the session alive through shared_from_this).
// One io_context thread: no member may be called from another thread.
class rpc_session : public std::enable_shared_from_this<rpc_session> {
public:
    rpc_session(boost::asio::any_io_executor ex, endpoint ep, session_options opts = {});
    // Closes the socket; the read loop (which holds only a weak reference) then ends.
    ~rpc_session();
    rpc_session(const rpc_session&) = delete;
    rpc_session& operator=(const rpc_session&) = delete;

    // Sends one request and waits for its reply. Connects lazily (waiting out any reconnect
    // backoff). The header's client_timeout is set to the milliseconds left until the deadline
    // when the frame is written. Completes with the response frame whatever its frame_error
    // (unknown error names preserved), or with:
    //   client_errc::timeout            the deadline passed (a late reply is dropped);
    //   client_errc::cancelled          the caller's cancellation slot fired (completes promptly;
    //                                   the late reply is read and dropped), or close() was called;
    //   client_errc::connection_closed  the server closed the connection (EOF);
    //   asio error codes                connect/read/write failures (refused, reset, ...);
    //   client_errc::malformed_frame / frame_too_large   the server sent garbage (the connection
    //                                   is closed and every pending call fails with this error);
    //   client_errc::unexpected_reply   the reply's name is not the request's name + "_ACK".
    // Connection-level failures fail every call pending on that connection.
    boost::asio::awaitable<result<wire::response_frame>>
    call(std::string name, wire::request_header header, wire::bytes args_value,
         std::chrono::milliseconds timeout, std::uint8_t args_type = 0x0C);

    // Fire-and-forget request (e.g. RPC_RRDB_RRDB_CLEAR_SCANNER): completes once the frame is
    // written (or with the connection error, timeout after write_timeout, or cancelled). It is
    // sent with message type CALL, as the Go and Python clients do; no reply is expected, and a
    // reply that comes anyway is dropped.
    boost::asio::awaitable<status> send_oneway(std::string name, wire::request_header header,
                                               wire::bytes args_value,
                                               std::uint8_t args_type = 0x0C);

    // Final: closes the connection, stops any connect in progress, fails pending calls with
    // client_errc::cancelled. Later calls fail at once with client_errc::cancelled.
    void close();

    const endpoint& remote() const noexcept { return ep_; }

    // Diagnostics (tests, logs).
    bool is_connected() const noexcept { return conn_ != nullptr; }
    std::size_t pending_calls() const noexcept { return pending_.size(); }
    std::uint64_t connections_opened() const noexcept { return connections_opened_; }

private:
    struct request;
    struct connection;

    boost::asio::awaitable<result<wire::response_frame>>
    submit(std::string name, wire::request_header header, wire::bytes args_value,
           std::uint8_t args_type, std::chrono::steady_clock::time_point deadline, bool oneway);
    std::int32_t allocate_seqid();
    void kick();
    void start_writer();
    boost::asio::awaitable<void> connect_loop(std::shared_ptr<rpc_session> self);
    boost::asio::awaitable<error_code> open(std::shared_ptr<connection> c);
    static boost::asio::awaitable<void> read_loop(std::weak_ptr<rpc_session> weak,
                                                  std::shared_ptr<connection> c);
    boost::asio::awaitable<void> write_loop(std::shared_ptr<rpc_session> self,
                                            std::shared_ptr<connection> c);
    void dispatch(wire::response_frame frame);
    void fail_connection(const std::shared_ptr<connection>& c, error_code ec, const char* where);
    void fail_all(error_code ec);
    void note_failure(); // schedules the next connect attempt after the backoff

    boost::asio::any_io_executor ex_;
    endpoint ep_;
    session_options opts_;
    std::string label_; // "rpc <endpoint>" for logs

    std::shared_ptr<connection> conn_;       // the live connection, if any
    std::shared_ptr<connection> connecting_; // the socket being connected, if any
    bool connect_running_ = false;
    bool closed_ = false;

    std::int32_t next_seqid_ = 1;
    std::unordered_map<std::int32_t, std::shared_ptr<request>> pending_; // calls awaiting replies
    std::deque<std::shared_ptr<request>> queue_;                         // not yet written

    std::chrono::steady_clock::duration backoff_;
    std::chrono::steady_clock::time_point next_connect_at_{};
    boost::asio::steady_timer backoff_timer_;
    boost::asio::ip::tcp::resolver resolver_;
    std::uint64_t connections_opened_ = 0;
};

} // namespace tablemigrator::rpc
