// Fault scenarios around the MetaProxy switch (ZooKeeper restart, session expiry, a concurrent
// writer, an unreachable target) and on the wire (replies past the RPC deadline, truncated or
// garbage frames). Each ends with check_promise() (harness.hpp).
#include "harness.hpp"

#include <tablemigrator/zk/client.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tablemigrator;
using namespace tablemigrator::reliability;
using sim::server_role;

namespace {

bool all_done(const migrate::run_report& r) {
    for (const auto& t : r.tables)
        if (t.outcome != phase::done)
            return false;
    return !r.tables.empty();
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// A server on 127.0.0.1 that answers every request with bytes that are not a valid reply.
class bad_server {
public:
    enum class mode { garbage, truncated };
    explicit bad_server(mode m)
        : mode_(m) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~bad_server() {
        running_ = false;
        thread_.join();
        ::close(fd_);
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int requests() const { return requests_; }

private:
    void loop() {
        std::vector<int> clients;
        while (running_) {
            std::vector<pollfd> fds{{fd_, POLLIN, 0}};
            for (int c : clients)
                fds.push_back({c, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 50) <= 0)
                continue;
            if (fds[0].revents & POLLIN) {
                int c = ::accept(fd_, nullptr, nullptr);
                if (c >= 0)
                    clients.push_back(c);
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                char buf[4096];
                const auto n = ::read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    ::close(fds[i].fd);
                    clients.erase(std::find(clients.begin(), clients.end(), fds[i].fd));
                    continue;
                }
                ++requests_;
                if (mode_ == mode::garbage) {
                    // A length that fits, then bytes that decode to nothing sensible.
                    const unsigned char g[] = {0,    0,    0,    24,   'T',  'H',  'F', 'X',
                                               0xff, 0xfe, 0xfd, 0xfc, 0x13, 0x37, 0,   1,
                                               2,    3,    4,    5,    6,    7,    8,   9};
                    (void)!::write(fds[i].fd, g, sizeof g);
                } else {
                    // A frame announcing 4 KiB, cut after a few bytes, then the connection closes.
                    const unsigned char t[] = {0, 0, 16, 0, 'T', 'H', 'F', 'T', 0, 0, 0, 1};
                    (void)!::write(fds[i].fd, t, sizeof t);
                    ::close(fds[i].fd);
                    clients.erase(std::find(clients.begin(), clients.end(), fds[i].fd));
                }
            }
        }
        for (int c : clients)
            ::close(c);
    }

    mode mode_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> running_{true};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

} // namespace

TEST_CASE("reliability: the ZooKeeper server restarts during the switch") {
    scenario s;
    s.options().switch_hooks.before_write = [&](zk::client&) -> asio::awaitable<void> {
        s.zk().restart(); // the write goes out while the client reconnects
        co_return;
    };
    auto r = s.run();
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}

TEST_CASE("reliability: ZooKeeper is down when the switch starts and comes back") {
    scenario s;
    s.probe().on_enter = once_at(phase::switch_clients, [&] { s.zk().stop(); });
    auto r = s.run([](scenario& sc) {
        if (sc.probe().wait_for(phase::switch_clients, 60s)) {
            std::this_thread::sleep_for(1500ms);
            sc.zk().start();
        }
    });
    s.check_promise(r);
}

TEST_CASE("reliability: the ZooKeeper session expires during the switch") {
    scenario_config cfg;
    cfg.zk.tick_time_ms = 200; // sessions clamped to at most 4 s
    scenario s(cfg);
    auto expired = std::make_shared<int>(0);
    s.options().switch_hooks.before_write = [&s, expired](zk::client& c) -> asio::awaitable<void> {
        if (*expired > 0)
            co_return; // the second table's switch runs normally
        // A paused server keeps its session clock: on resume it expires the session.
        for (int i = 0; i < 3 && c.state() != zk::session_state::expired; ++i) {
            s.zk().pause();
            co_await sleep_for(5000ms);
            s.zk().resume();
            for (int j = 0; j < 40 && c.state() != zk::session_state::expired; ++j)
                co_await sleep_for(100ms);
        }
        if (c.state() == zk::session_state::expired)
            ++*expired;
    };
    s.options().parallel = 1; // one switch at a time, so exactly one meets the expiry
    auto r = s.run({}, 120s);
    CHECK(*expired == 1);
    s.check_promise(r);
    // The expired table is reported; which way it ended is checked by the promise.
    CHECK(r.exit_code != 2);
}

TEST_CASE("reliability: another writer changes the MetaProxy entry between read and write") {
    scenario s;
    const std::string other =
        R"({"cluster_name": "other", "meta_addrs": "127.0.0.1:1,127.0.0.1:2"})";
    auto written = std::make_shared<bool>(false);
    s.options().switch_hooks.before_write = [other,
                                             written](zk::client& c) -> asio::awaitable<void> {
        if (*written)
            co_return;
        *written = true;
        // Someone else repoints both tables while the first switch holds the version it read;
        // the other table reads the new entry or fails its compare-and-set.
        for (const std::string table : {"t1", "t2"}) {
            auto op = c.set("/proxy/" + table, other, -1);
            auto w = co_await std::move(op);
            REQUIRE(w.has_value());
        }
    };
    auto r = s.run();
    s.check_promise(r);
    CHECK(r.exit_code == 1);
    for (const auto& t : r.tables) {
        CHECK(t.outcome == phase::failed);
        CHECK_FALSE(t.entry_switched);
    }
    CHECK(s.entries().get("t1") == other); // their change is left alone
    CHECK(s.entries().get("t2") == other);
}

TEST_CASE("reliability: the target meta servers are unreachable at switch time") {
    scenario s;
    s.probe().on_enter = once_at(phase::switch_clients, [&] {
        for (int i = 0; i < 3; ++i)
            s.stop_server(dst_cluster, server_role::meta, i);
    });
    auto r = s.run();
    // Not switched to a cluster nobody can reach: writes restored on the source instead.
    CHECK(s.check_promise(r) == 0);
    CHECK(r.exit_code == 1);
    for (const auto& t : r.tables) {
        CHECK(t.outcome == phase::failed);
        CHECK(t.failure.find("target cluster did not answer") != std::string::npos);
    }
}

TEST_CASE("reliability: duplication queries answered after the RPC deadline") {
    scenario s;
    s.probe().on_enter = once_at(phase::wait_backlog, [&] {
        s.reply_fault("RPC_CM_QUERY_DUPLICATION", sim::reply_fault{11s, false});
    });
    auto r = s.run([](scenario& sc) {
        if (sc.probe().wait_for(phase::wait_backlog, 60s)) {
            std::this_thread::sleep_for(12s); // past one call deadline (10 s)
            sc.reply_fault("RPC_CM_QUERY_DUPLICATION", std::nullopt);
        }
    });
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}

TEST_CASE("reliability: replica progress replies dropped during the drain, then answered") {
    scenario_config cfg;
    cfg.gen = sim::generation::v2_4;
    scenario s(cfg);
    s.probe().on_enter = once_at(phase::drain, [&] {
        s.reply_fault("RPC_QUERY_REPLICA_INFO", sim::reply_fault{0ms, true});
    });
    auto r = s.run([](scenario& sc) {
        if (sc.probe().wait_for(phase::drain, 60s)) {
            std::this_thread::sleep_for(3s);
            sc.reply_fault("RPC_QUERY_REPLICA_INFO", std::nullopt);
        }
    });
    s.check_promise(r);
}

TEST_CASE("reliability: source metas answering with garbage or truncated frames are skipped") {
    bad_server garbage(bad_server::mode::garbage);
    bad_server truncated(bad_server::mode::truncated);
    scenario s;
    auto& metas = s.options().source_metas;
    metas.insert(metas.begin(), truncated.address());
    metas.insert(metas.begin(), garbage.address());
    auto r = s.run();
    CHECK(garbage.requests() > 0);
    CHECK(truncated.requests() > 0);
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
    CHECK(all_done(r));
}
