// zk::client over zookeeper_mt. The library runs its own I/O and completion threads; every C
// callback only copies its arguments and posts into the io_context (toolchain.md §3 bridging).
#include <tablemigrator/zk/client.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>
#include <zookeeper/zookeeper.h>

#include <cerrno>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

namespace tablemigrator::zk {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// What any ZooKeeper completion can carry; each operation reads the fields it needs.
struct op_reply {
    std::string data;
    zk::stat st;
    std::string path;
};
using op_signature = void(error_code, op_reply);

error_code to_error(int rc) {
    return rc == ZOK ? error_code{} : make_error_code(static_cast<zk_errc>(rc));
}

zk::stat to_stat(const Stat* s) {
    zk::stat out;
    if (s == nullptr)
        return out;
    out.czxid = s->czxid;
    out.mzxid = s->mzxid;
    out.pzxid = s->pzxid;
    out.ctime_ms = s->ctime;
    out.mtime_ms = s->mtime;
    out.version = s->version;
    out.cversion = s->cversion;
    out.aversion = s->aversion;
    out.ephemeral_owner = s->ephemeralOwner;
    out.data_length = s->dataLength;
    out.num_children = s->numChildren;
    return out;
}

// One request in flight. The C completion (ZK thread) and the cancellation handler (io thread)
// race to take the handler under the mutex; whoever loses does nothing, so a late reply after a
// cancellation is dropped safely.
class pending_base {
public:
    virtual ~pending_base() = default;
    virtual void complete(error_code ec, op_reply r) = 0;
};

template <class Handler>
class pending final : public pending_base,
                      public std::enable_shared_from_this<pending<Handler>> {
public:
    pending(Handler h, const asio::any_io_executor& fallback)
        : slot_(asio::get_associated_cancellation_slot(h)) {
        // Tracked work keeps io_context::run() alive while the request is in flight.
        work_.emplace(asio::prefer(asio::get_associated_executor(h, fallback),
                                   asio::execution::outstanding_work.tracked));
        handler_.emplace(std::move(h));
    }

    // io thread, after the library accepted the request.
    void arm_cancellation() {
        if (!slot_.is_connected())
            return;
        slot_.assign([w = this->weak_from_this()](asio::cancellation_type) {
            if (auto self = w.lock())
                self->complete(asio::error::operation_aborted, {});
        });
    }

    // Any thread. Only asio::post touches Asio here.
    void complete(error_code ec, op_reply r) override {
        std::optional<Handler> h;
        std::optional<asio::any_io_executor> ex;
        {
            std::lock_guard lock(mutex_);
            if (!handler_)
                return;
            h.emplace(std::move(*handler_));
            handler_.reset();
            ex.emplace(std::move(*work_));
            work_.reset();
        }
        asio::post(*ex, [self = this->shared_from_this(), h = std::move(*h), ec,
                         r = std::move(r)]() mutable {
            // The slot belongs to the waiting operation until its handler runs: clear it first
            // (on the io thread, never from inside the cancellation handler itself).
            if (self->slot_.is_connected())
                self->slot_.clear();
            std::move(h)(ec, std::move(r));
        });
    }

private:
    std::mutex mutex_;
    std::optional<Handler> handler_;
    std::optional<asio::any_io_executor> work_;
    asio::cancellation_slot slot_;
};

using pending_ptr = std::shared_ptr<pending_base>;

// The C `data` pointer owns one reference to the pending request until the completion runs.
void finish(const void* data, int rc, op_reply r) {
    std::unique_ptr<pending_ptr> p(static_cast<pending_ptr*>(const_cast<void*>(data)));
    (*p)->complete(to_error(rc), std::move(r));
}

void on_data(int rc, const char* value, int len, const Stat* st, const void* data) {
    op_reply r;
    if (rc == ZOK) {
        if (value != nullptr && len > 0)
            r.data.assign(value, static_cast<std::size_t>(len));
        r.st = to_stat(st);
    }
    finish(data, rc, std::move(r));
}

void on_stat(int rc, const Stat* st, const void* data) {
    op_reply r;
    if (rc == ZOK)
        r.st = to_stat(st);
    finish(data, rc, std::move(r));
}

void on_string(int rc, const char* value, const void* data) {
    op_reply r;
    if (rc == ZOK && value != nullptr)
        r.path = value;
    finish(data, rc, std::move(r));
}

void on_void(int rc, const void* data) {
    finish(data, rc, {});
}

// ZooKeeper's log lines arrive on its threads already formatted ("...:ZOO_ERROR@fn@line: text").
// A refused connect during fail-over is logged as ERROR by the library; it is routine for us.
void on_log(const char* message) {
    const std::string_view m(message != nullptr ? message : "");
    if (m.find("ZOO_ERROR@") != std::string_view::npos)
        spdlog::warn("zookeeper: {}", m);
    else if (m.find("ZOO_WARN@") != std::string_view::npos)
        spdlog::info("zookeeper: {}", m);
    else
        spdlog::debug("zookeeper: {}", m);
}

session_state map_state(int s) {
    if (s == ZOO_CONNECTED_STATE)
        return session_state::connected;
    if (s == ZOO_EXPIRED_SESSION_STATE)
        return session_state::expired;
    if (s == ZOO_AUTH_FAILED_STATE)
        return session_state::auth_failed;
    return session_state::connecting;
}

bool is_terminal(session_state s) {
    return s == session_state::expired || s == session_state::auth_failed ||
           s == session_state::closed;
}

error_code terminal_error(session_state s) {
    switch (s) {
    case session_state::expired: return zk_errc::session_expired;
    case session_state::auth_failed: return zk_errc::auth_failed;
    case session_state::closed: return zk_errc::closing;
    default: return {};
    }
}

// Session state as seen on the io thread; notify() wakes every waiter (a condition variable made
// of a timer that never expires on its own).
class session_tracker {
public:
    explicit session_tracker(asio::any_io_executor ex)
        : changed_(ex, asio::steady_timer::time_point::max()) {}

    void set(session_state s) {
        if (is_terminal(state_) || s == state_)
            return;
        state_ = s;
        ++generation_;
        changed_.cancel();
    }

    session_state state_ = session_state::connecting;
    std::uint64_t generation_ = 0;
    asio::steady_timer changed_;
};

// Watcher context handed to the C library; it outlives zookeeper_close.
struct watch_context {
    asio::any_io_executor ex;
    std::weak_ptr<session_tracker> tracker;
};

void on_watch(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT || ctx == nullptr)
        return;
    auto* w = static_cast<watch_context*>(ctx);
    const session_state s = map_state(state);
    asio::post(w->ex, [t = w->tracker, s] {
        if (auto tracker = t.lock())
            tracker->set(s);
    });
}

std::once_flag log_level_once;

} // namespace

const char* to_string(session_state s) noexcept {
    switch (s) {
    case session_state::connecting: return "connecting";
    case session_state::connected: return "connected";
    case session_state::expired: return "expired";
    case session_state::auth_failed: return "auth_failed";
    case session_state::closed: return "closed";
    }
    return "unknown";
}

class client::impl {
public:
    impl(asio::any_io_executor ex, std::string cs, connect_options o)
        : ex_(std::move(ex))
        , connect_string_(std::move(cs))
        , options_(std::move(o))
        , tracker_(std::make_shared<session_tracker>(ex_)) {
        watch_ = std::make_unique<watch_context>(watch_context{ex_, tracker_});
    }

    ~impl() { close(); }

    error_code init() {
        std::call_once(log_level_once, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
        const auto timeout_ms = static_cast<int>(options_.session_timeout.count());
        errno = 0;
        zh_ = zookeeper_init2(connect_string_.c_str(), &on_watch, timeout_ms, nullptr,
                              watch_.get(), 0, &on_log);
        if (zh_ == nullptr) {
            const int e = errno;
            if (e == 0 || e == EINVAL)
                return zk_errc::bad_arguments;
            return {e, boost::system::system_category()};
        }
        return {};
    }

    void close() {
        if (zh_ != nullptr) {
            // Joins the library's threads; pending requests complete with ZCLOSING (posted).
            zookeeper_close(zh_);
            zh_ = nullptr;
        }
        tracker_->set(session_state::closed);
    }

    // A synchronous refusal: ZINVALIDSTATE means the handle is expired or failed auth.
    error_code sync_error(int rc) const {
        if (rc == ZINVALIDSTATE && zh_ != nullptr) {
            const int s = zoo_state(zh_);
            if (s == ZOO_EXPIRED_SESSION_STATE)
                return zk_errc::session_expired;
            if (s == ZOO_AUTH_FAILED_STATE)
                return zk_errc::auth_failed;
        }
        return to_error(rc);
    }

    template <class Start, class Token>
    auto async_zk(Start start, Token&& token) {
        return asio::async_initiate<Token, op_signature>(
            [this](auto handler, Start start) {
                using handler_type = decltype(handler);
                auto p = std::make_shared<pending<handler_type>>(std::move(handler), ex_);
                if (zh_ == nullptr) {
                    p->complete(zk_errc::closing, {});
                    return;
                }
                auto* data = new pending_ptr(p);
                const int rc = start(zh_, static_cast<const void*>(data));
                if (rc != ZOK) {
                    // The library did not take the request: no callback will come.
                    delete data;
                    p->complete(sync_error(rc), {});
                    return;
                }
                p->arm_cancellation();
            },
            token, std::move(start));
    }

    // Runs one request under the per-operation deadline.
    template <class Start>
    asio::awaitable<std::tuple<error_code, op_reply>> run(Start start) {
        if (auto ec = terminal_error(tracker_->state_))
            co_return std::tuple{ec, op_reply{}};
        asio::steady_timer deadline(ex_, options_.operation_timeout);
        // g++ 12 mishandles class-type temporaries inside a co_await full-expression (a captured
        // string was freed from the wrong address): build the awaitables in their own statements.
        auto request = async_zk(std::move(start), asio::as_tuple(asio::use_awaitable));
        auto timeout = deadline.async_wait(asio::as_tuple(asio::use_awaitable));
        auto r = co_await (std::move(request) || std::move(timeout));
        if (r.index() == 0) {
            auto [ec, reply] = std::get<0>(std::move(r));
            // Requests queued while the session was expiring can come back as connection loss;
            // report what the session really is.
            if (ec == zk_errc::connection_loss && is_terminal(tracker_->state_))
                ec = terminal_error(tracker_->state_);
            co_return std::tuple{ec, std::move(reply)};
        }
        auto [ec] = std::get<1>(r);
        if (ec == asio::error::operation_aborted)
            co_return std::tuple{ec, op_reply{}};
        co_return std::tuple{error_code(zk_errc::operation_timeout), op_reply{}};
    }

    // Waits until pred(state) or the deadline; returns the state or an error.
    template <class Pred>
    asio::awaitable<result<session_state>> wait_until(Pred pred, std::chrono::milliseconds timeout) {
        auto tracker = tracker_;
        asio::steady_timer deadline(ex_, timeout);
        while (!pred(tracker->state_)) {
            auto changed = tracker->changed_.async_wait(asio::as_tuple(asio::use_awaitable));
            auto expired = deadline.async_wait(asio::as_tuple(asio::use_awaitable));
            auto r = co_await (std::move(changed) || std::move(expired));
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none)
                co_return asio::error::operation_aborted;
            if (r.index() == 1)
                co_return client_errc::timeout;
        }
        co_return tracker->state_;
    }

    asio::any_io_executor ex_;
    std::string connect_string_;
    connect_options options_;
    std::shared_ptr<session_tracker> tracker_;
    std::unique_ptr<watch_context> watch_;
    zhandle_t* zh_ = nullptr;
};

client::client(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}

client::~client() = default;

asio::awaitable<result<std::shared_ptr<client>>>
client::connect(asio::any_io_executor ex, std::string connect_string, connect_options options) {
    auto auth = options.digest_auth;
    const auto connect_timeout = options.connect_timeout;
    std::shared_ptr<client> c(
        new client(std::make_unique<impl>(ex, std::move(connect_string), std::move(options))));
    if (auto ec = c->impl_->init())
        co_return ec;
    auto st = co_await c->wait_connected(connect_timeout);
    if (!st) {
        spdlog::warn("zookeeper: connecting to {} failed: {}", c->impl_->connect_string_,
                     st.error().message());
        co_return st.error();
    }
    if (auth) {
        auto start = [cred = *auth](zhandle_t* zh, const void* d) {
            return zoo_add_auth(zh, "digest", cred.data(), static_cast<int>(cred.size()),
                                &on_void, d);
        };
        auto op = c->impl_->run(std::move(start));
        auto [ec, r] = co_await std::move(op);
        if (ec)
            co_return ec;
    }
    co_return c;
}

asio::awaitable<result<node>> client::get(std::string path) {
    auto self = shared_from_this();
    auto start = [path](zhandle_t* zh, const void* d) {
        return zoo_aget(zh, path.c_str(), 0, &on_data, d);
    };
    auto op = impl_->run(std::move(start));
    auto [ec, r] = co_await std::move(op);
    if (ec)
        co_return ec;
    co_return node{std::move(r.data), r.st};
}

asio::awaitable<result<std::optional<stat>>> client::exists(std::string path) {
    auto self = shared_from_this();
    auto start = [path](zhandle_t* zh, const void* d) {
        return zoo_aexists(zh, path.c_str(), 0, &on_stat, d);
    };
    auto op = impl_->run(std::move(start));
    auto [ec, r] = co_await std::move(op);
    if (ec == zk_errc::no_node)
        co_return std::optional<stat>{};
    if (ec)
        co_return ec;
    co_return std::optional<stat>{r.st};
}

asio::awaitable<result<stat>> client::set(std::string path, std::string data,
                                          std::int32_t expected_version) {
    auto self = shared_from_this();
    auto start = [path, data, expected_version](zhandle_t* zh, const void* d) {
        return zoo_aset(zh, path.c_str(), data.data(), static_cast<int>(data.size()),
                        expected_version, &on_stat, d);
    };
    auto op = impl_->run(std::move(start));
    auto [ec, r] = co_await std::move(op);
    if (ec)
        co_return ec;
    co_return r.st;
}

asio::awaitable<result<std::string>> client::create(std::string path, std::string data,
                                                    create_options options) {
    auto self = shared_from_this();
    const int mode = options.ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT;
    auto create_one = [this, &options](std::string p, std::string value, int m) {
        auto start = [p, value, m, acl_user = options.digest_acl](zhandle_t* zh,
                                                                  const void* d) {
            // The library serialises the ACL during the call, so locals are enough.
            if (!acl_user)
                return zoo_acreate(zh, p.c_str(), value.data(), static_cast<int>(value.size()),
                                   &ZOO_OPEN_ACL_UNSAFE, m, &on_string, d);
            std::string scheme = "digest";
            std::string id = digest_acl_id(*acl_user);
            struct ACL acl {};
            acl.perms = ZOO_PERM_ALL;
            acl.id.scheme = scheme.data();
            acl.id.id = id.data();
            struct ACL_vector acls {};
            acls.count = 1;
            acls.data = &acl;
            return zoo_acreate(zh, p.c_str(), value.data(), static_cast<int>(value.size()), &acls,
                               m, &on_string, d);
        };
        return impl_->run(std::move(start));
    };
    auto first = create_one(path, data, mode);
    auto [ec, r] = co_await std::move(first);
    if (ec == zk_errc::no_node && options.make_parents) {
        // Ancestors first, shallowest to deepest; someone else creating one meanwhile is fine.
        for (std::size_t pos = path.find('/', 1); pos != std::string::npos;
             pos = path.find('/', pos + 1)) {
            auto parent = create_one(path.substr(0, pos), std::string{}, ZOO_PERSISTENT);
            auto [pec, pr] = co_await std::move(parent);
            if (pec && pec != zk_errc::node_exists)
                co_return pec;
        }
        auto again = create_one(path, data, mode);
        std::tie(ec, r) = co_await std::move(again);
    }
    if (ec)
        co_return ec;
    co_return std::move(r.path);
}

asio::awaitable<status> client::remove(std::string path, std::int32_t expected_version) {
    auto self = shared_from_this();
    auto start = [path, expected_version](zhandle_t* zh, const void* d) {
        return zoo_adelete(zh, path.c_str(), expected_version, &on_void, d);
    };
    auto op = impl_->run(std::move(start));
    auto [ec, r] = co_await std::move(op);
    if (ec)
        co_return ec;
    co_return status{};
}

session_state client::state() const noexcept {
    return impl_->tracker_->state_;
}

asio::awaitable<result<session_state>> client::wait_for_event(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    const auto generation = impl_->tracker_->generation_;
    auto tracker = impl_->tracker_;
    auto op = impl_->wait_until(
        [tracker, generation](session_state) { return tracker->generation_ != generation; },
        timeout);
    co_return co_await std::move(op);
}

asio::awaitable<status> client::wait_connected(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    auto op = impl_->wait_until(
        [](session_state s) { return s == session_state::connected || is_terminal(s); }, timeout);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    if (auto ec = terminal_error(*r))
        co_return ec;
    co_return status{};
}

void client::close() {
    impl_->close();
}

const std::string& client::connect_string() const noexcept {
    return impl_->connect_string_;
}

} // namespace tablemigrator::zk
