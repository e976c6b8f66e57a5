// rpc_session: lazy connect with backoff, a write queue drained by one writer coroutine, a read
// loop that dispatches replies by seqid. Every caller waits on its own timer, which expires at the
// call's deadline and is cancelled early to hand over the outcome; that single wait covers
// connecting, writing, the reply, the deadline and the caller's cancellation.
#include <tablemigrator/rpc/session.hpp>

#include <tablemigrator/async/spawn.hpp>
#include <tablemigrator/async/with_timeout.hpp>
#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace tablemigrator::rpc {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

// One request from submit() until its outcome is handed over. Shared by the caller, the write
// queue and (for calls) the pending map, so whichever side finishes first cannot leave the others
// with a dangling pointer.
struct rpc_session::request {
    request(asio::any_io_executor ex, steady::time_point deadline_at)
        : wake(ex, deadline_at) {}

    std::int32_t seqid = 0;
    std::string name;
    wire::request_header header;
    wire::bytes args;
    std::uint8_t args_type = 0x0C;
    bool oneway = false;
    steady::time_point deadline;

    asio::steady_timer wake;                             // expires at the deadline
    std::optional<result<wire::response_frame>> outcome; // set once, then `wake` is cancelled
    bool abandoned = false;                              // the caller gave up (timeout/cancel)

    void deliver(result<wire::response_frame> r) {
        if (outcome || abandoned)
            return;
        outcome.emplace(std::move(r));
        wake.cancel();
    }
};

struct rpc_session::connection {
    connection(asio::any_io_executor ex, std::size_t max_frame)
        : socket(ex)
        , decoder(max_frame)
        , read_buffer(64 * 1024) {}

    tcp::socket socket;
    wire::response_decoder decoder;
    std::vector<std::uint8_t> read_buffer;
    bool failed = false;
    error_code error; // why it failed
    bool writing = false;
};

namespace {

result<wire::response_frame> failed_with(error_code ec) {
    return result<wire::response_frame>(boost::system::in_place_error, ec);
}

// The remaining time as the header's u32 milliseconds: rounded up, at least 1 (0 could read as
// "no timeout"), saturated instead of wrapping (the Go client's bug, protocol §1.8).
std::uint32_t remaining_ms(steady::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - steady::now());
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(
        left.count(), 1, std::numeric_limits<std::uint32_t>::max());
    return static_cast<std::uint32_t>(ms);
}

} // namespace

rpc_session::rpc_session(asio::any_io_executor ex, endpoint ep, session_options opts)
    : ex_(ex)
    , ep_(std::move(ep))
    , opts_(opts)
    , label_("rpc " + ep_.to_string())
    , backoff_(opts.backoff_initial)
    , backoff_timer_(ex)
    , resolver_(ex) {}

rpc_session::~rpc_session() {
    error_code ignored;
    if (conn_)
        conn_->socket.close(ignored);
    if (connecting_)
        connecting_->socket.close(ignored);
}

asio::awaitable<result<wire::response_frame>>
rpc_session::call(std::string name, wire::request_header header, wire::bytes args_value,
                  std::chrono::milliseconds timeout, std::uint8_t args_type) {
    return submit(std::move(name), header, std::move(args_value), args_type,
                  steady::now() + timeout, false);
}

asio::awaitable<status> rpc_session::send_oneway(std::string name, wire::request_header header,
                                                 wire::bytes args_value, std::uint8_t args_type) {
    // Awaitables are built in their own statement throughout this file: g++ 12 mishandles
    // class-type temporaries (here the by-value string) inside a co_await expression.
    auto op = submit(std::move(name), header, std::move(args_value), args_type,
                     steady::now() + opts_.write_timeout, true);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    co_return status{};
}

asio::awaitable<result<wire::response_frame>>
rpc_session::submit(std::string name, wire::request_header header, wire::bytes args_value,
                    std::uint8_t args_type, steady::time_point deadline, bool oneway) {
    auto self = shared_from_this();
    if (closed_) {
        spdlog::debug("{}: {} refused: session closed", label_, name);
        co_return failed_with(make_error_code(client_errc::cancelled));
    }
    // Already cancelled: the wait below would throw (Asio's throw_if_cancelled) and leave the
    // request registered; answer as documented instead.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
        co_return failed_with(make_error_code(client_errc::cancelled));
    auto req = std::make_shared<request>(ex_, deadline);
    req->seqid = allocate_seqid();
    req->name = std::move(name);
    req->header = header;
    req->args = std::move(args_value);
    req->args_type = args_type;
    req->oneway = oneway;
    req->deadline = deadline;
    if (!oneway)
        pending_.emplace(req->seqid, req);
    queue_.push_back(req);
    kick();

    // Nothing completes inline, but check anyway: a cancel() with no wait pending would be lost.
    error_code wait_ec;
    if (!req->outcome) {
        auto [ec] = co_await req->wake.async_wait(asio::as_tuple(asio::use_awaitable));
        wait_ec = ec;
    }
    if (req->outcome)
        co_return std::move(*req->outcome);

    // Abandoned: the writer skips it if still queued; a late reply finds no pending entry.
    req->abandoned = true;
    if (auto it = pending_.find(req->seqid); it != pending_.end() && it->second == req)
        pending_.erase(it);
    if (wait_ec == asio::error::operation_aborted) {
        spdlog::debug("{}: {} seqid {} cancelled by the caller", label_, req->name, req->seqid);
        co_return failed_with(make_error_code(client_errc::cancelled));
    }
    spdlog::warn("{}: {} seqid {} timed out", label_, req->name, req->seqid);
    co_return failed_with(make_error_code(client_errc::timeout));
}

std::int32_t rpc_session::allocate_seqid() {
    // Per-connection counter from 1 in the Go client; ours is per session (unique across
    // reconnects, which is stricter). Skips ids still pending after a wrap-around.
    for (;;) {
        const std::int32_t id = next_seqid_;
        next_seqid_ = next_seqid_ == std::numeric_limits<std::int32_t>::max() ? 1 : next_seqid_ + 1;
        if (!pending_.contains(id))
            return id;
    }
}

void rpc_session::kick() {
    if (closed_)
        return;
    if (conn_) {
        start_writer();
    } else if (!connect_running_) {
        connect_running_ = true;
        async::spawn_logged(ex_, connect_loop(shared_from_this()), label_ + " connect");
    }
}

void rpc_session::start_writer() {
    if (!conn_ || conn_->writing || queue_.empty())
        return;
    conn_->writing = true;
    async::spawn_logged(ex_, write_loop(shared_from_this(), conn_), label_ + " writer");
}

asio::awaitable<void> rpc_session::connect_loop(std::shared_ptr<rpc_session> self) {
    (void)self; // keeps the session alive while this loop runs
    if (steady::now() < next_connect_at_) {
        backoff_timer_.expires_at(next_connect_at_);
        (void)co_await backoff_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // Callers may all have given up during the backoff: then there is nothing to connect for.
    const bool wanted = std::any_of(queue_.begin(), queue_.end(),
                                    [](const auto& r) { return !r->abandoned && !r->outcome; });
    if (closed_ || !wanted) {
        std::erase_if(queue_, [](const auto& r) { return r->abandoned || r->outcome; });
        connect_running_ = false;
        co_return;
    }

    auto c = std::make_shared<connection>(ex_, opts_.max_frame_size);
    connecting_ = c;
    const error_code ec = co_await open(c);
    connecting_.reset();
    connect_running_ = false;
    if (closed_) {
        error_code ignored;
        c->socket.close(ignored);
        co_return;
    }
    if (ec) {
        // Debug only: the waiting callers fail with this error and report it once, with their
        // context; a server that stays down must not print a line per reconnect attempt.
        spdlog::debug("{}: connect failed: {} ({} requests waiting)", label_, ec.message(),
                      queue_.size());
        note_failure();
        fail_all(ec);
        co_return;
    }
    error_code ignored;
    c->socket.set_option(tcp::no_delay(true), ignored);
    conn_ = c;
    ++connections_opened_;
    spdlog::debug("{}: connected", label_);
    async::spawn_logged(ex_, read_loop(weak_from_this(), c), label_ + " reader");
    start_writer();
}

asio::awaitable<error_code> rpc_session::open(std::shared_ptr<connection> c) {
    const auto deadline = steady::now() + opts_.connect_timeout;
    const std::string service = std::to_string(ep_.port);
    auto resolve = resolver_.async_resolve(ep_.host, service, tcp::resolver::numeric_service,
                                           asio::as_tuple(asio::use_awaitable));
    auto resolve_op = async::with_deadline(std::move(resolve), deadline);
    auto resolved = co_await std::move(resolve_op);
    if (!resolved)
        co_return resolved.error();
    auto [resolve_ec, endpoints] = std::move(*resolved);
    if (resolve_ec)
        co_return resolve_ec;
    if (closed_)
        co_return make_error_code(client_errc::cancelled);
    auto connect = asio::async_connect(c->socket, endpoints, asio::as_tuple(asio::use_awaitable));
    auto connect_op = async::with_deadline(std::move(connect), deadline);
    auto connected = co_await std::move(connect_op);
    if (!connected)
        co_return connected.error();
    co_return std::get<0>(*connected);
}

asio::awaitable<void> rpc_session::read_loop(std::weak_ptr<rpc_session> weak,
                                             std::shared_ptr<connection> c) {
    // Holds only a weak reference to the session, so an idle connection does not keep a session
    // alive that nobody uses: the destructor closes the socket and this loop ends.
    for (;;) {
        auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(c->read_buffer),
                                                          asio::as_tuple(asio::use_awaitable));
        auto self = weak.lock();
        if (!self || c->failed)
            co_return;
        if (ec) {
            self->fail_connection(
                c, ec == asio::error::eof ? make_error_code(client_errc::connection_closed) : ec,
                "read");
            co_return;
        }
        c->decoder.feed(std::span<const std::uint8_t>(c->read_buffer.data(), n));
        while (auto frame = c->decoder.next()) {
            if (!*frame) {
                self->fail_connection(c, frame->error(), "decode");
                co_return;
            }
            self->dispatch(std::move(**frame));
            if (c->failed) // dispatch resumed nobody inline, but stay defensive
                co_return;
        }
    }
}

asio::awaitable<void> rpc_session::write_loop(std::shared_ptr<rpc_session> self,
                                              std::shared_ptr<connection> c) {
    (void)self; // keeps the session alive while this loop runs
    while (!c->failed && !queue_.empty()) {
        auto req = std::move(queue_.front());
        queue_.pop_front();
        if (req->abandoned || req->outcome)
            continue;
        if (steady::now() >= req->deadline)
            continue; // its own timer fires now; sending it would only waste the server's time
        wire::request_header header = req->header;
        header.client_timeout_ms = remaining_ms(req->deadline);
        const wire::bytes frame =
            wire::encode_request(header, req->name, req->seqid, req->args, req->args_type);
        auto write =
            asio::async_write(c->socket, asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
        auto write_op = async::with_timeout(std::move(write), opts_.write_timeout);
        auto written = co_await std::move(write_op);
        error_code ec = written ? std::get<0>(*written) : written.error();
        if (c->failed) {
            // The connection failed meanwhile (reader, close()); this request was in no list.
            req->deliver(failed_with(c->error));
            break;
        }
        if (ec) {
            spdlog::warn("{}: writing {} seqid {} failed: {}", label_, req->name, req->seqid,
                         ec.message());
            req->deliver(failed_with(ec));
            fail_connection(c, ec, "write");
            break;
        }
        if (req->oneway)
            req->deliver(wire::response_frame{});
    }
    c->writing = false;
}

void rpc_session::dispatch(wire::response_frame frame) {
    auto it = pending_.find(frame.seqid);
    if (it == pending_.end()) {
        spdlog::debug("{}: dropping reply {} for unknown seqid {} (abandoned call)", label_,
                      frame.name, frame.seqid);
        return;
    }
    auto req = std::move(it->second);
    pending_.erase(it);
    backoff_ = opts_.backoff_initial; // the server answers: the connection is healthy
    if (frame.name != req->name + "_ACK") {
        spdlog::warn("{}: {} seqid {} got a reply named {}", label_, req->name, req->seqid,
                     frame.name);
        req->deliver(failed_with(make_error_code(client_errc::unexpected_reply)));
        return;
    }
    if (frame.frame_error)
        spdlog::debug("{}: {} seqid {} answered {}", label_, req->name, req->seqid,
                      frame.error_name);
    req->deliver(std::move(frame));
}

void rpc_session::fail_connection(const std::shared_ptr<connection>& c, error_code ec,
                                  const char* where) {
    if (c->failed)
        return;
    c->failed = true;
    c->error = ec;
    error_code ignored;
    c->socket.close(ignored);
    if (conn_ != c)
        return;
    conn_.reset();
    if (!closed_) {
        spdlog::warn("{}: connection lost ({}): {} ({} calls pending)", label_, where, ec.message(),
                     pending_.size());
        note_failure();
    }
    fail_all(ec);
}

void rpc_session::fail_all(error_code ec) {
    // Detach the lists first: deliver() only cancels timers (completions are posted), but a
    // caller resumed later must not see a half-cleared map.
    auto pending = std::move(pending_);
    pending_.clear();
    auto queued = std::move(queue_);
    queue_.clear();
    for (auto& [seqid, req] : pending) {
        spdlog::debug("{}: {} seqid {} failed: {}", label_, req->name, seqid, ec.message());
        req->deliver(failed_with(ec));
    }
    for (auto& req : queued)
        req->deliver(failed_with(ec));
}

void rpc_session::note_failure() {
    next_connect_at_ = steady::now() + backoff_;
    backoff_ = std::min<steady::duration>(backoff_ * 2, opts_.backoff_max);
}

void rpc_session::close() {
    if (closed_)
        return;
    closed_ = true;
    spdlog::debug("{}: closing ({} calls pending)", label_, pending_.size());
    backoff_timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    if (connecting_)
        connecting_->socket.close(ignored);
    if (conn_)
        fail_connection(conn_, make_error_code(client_errc::cancelled), "close");
    fail_all(make_error_code(client_errc::cancelled));
}

} // namespace tablemigrator::rpc
