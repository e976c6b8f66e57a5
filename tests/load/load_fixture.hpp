// Shared helpers of the pegasus-load component and integration tests: an in-process pegasus-sim
// (its own thread, tests/sim/sim_fixture.hpp), the load client on the test's io_context, and a
// bounded "wait until" for coroutines.
#pragma once

#include "sim/replica_rpc.hpp"
#include "sim/sim_fixture.hpp"

#include "load/generator.hpp"
#include "load/resolver.hpp"
#include "load/verifier.hpp"

#include <support/run_coro.hpp>

#include <tablemigrator/meta/meta_client.hpp>
#include <tablemigrator/rpc/session_pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <functional>

namespace tablemigrator::load::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Polls `pred` every 10 ms; false when `timeout` passes first.
inline asio::awaitable<bool> wait_until(std::function<bool()> pred,
                                        std::chrono::milliseconds timeout) {
    auto ex = co_await asio::this_coro::executor;
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until)
            co_return false;
        asio::steady_timer t(ex, 10ms);
        auto op = t.async_wait(asio::as_tuple(asio::use_awaitable));
        co_await std::move(op);
    }
    co_return true;
}

inline asio::awaitable<void> sleep_ms(std::chrono::milliseconds d) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, d);
    auto op = t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(op);
}

// Fast sessions: tests see failures in tens of milliseconds.
inline rpc::session_options fast_sessions() {
    rpc::session_options o;
    o.connect_timeout = 500ms;
    o.backoff_initial = 10ms;
    o.backoff_max = 100ms;
    return o;
}

inline resolver_options fast_resolver() {
    resolver_options o;
    o.meta.call_timeout = 500ms;
    o.meta.overall_timeout = 2000ms;
    o.meta.backoff_initial = 10ms;
    o.meta.backoff_max = 100ms;
    return o;
}

inline retry_options fast_retry() {
    retry_options r;
    r.attempt_timeout = 200ms;
    r.backoff_initial = 5ms;
    r.backoff_max = 50ms;
    r.resolve_timeout = 2000ms;
    r.min_refresh_interval = 20ms;
    return r;
}

inline load_options fast_load(std::vector<std::string> tables) {
    load_options o;
    o.tables = std::move(tables);
    o.rate = 200;
    o.concurrency = 8;
    o.read_every = 5;
    o.write_timeout = 5000ms;
    o.stop_grace = 2000ms;
    o.progress_interval = 100ms; // exercised (logged at info, below the tests' level)
    o.retry = fast_retry();
    return o;
}

inline verify_options fast_verify(bool scan) {
    verify_options v;
    v.scan = scan;
    v.concurrency = 8;
    v.scan_batch = 7; // several SCAN rounds per partition
    v.key_timeout = 3000ms;
    v.retry = fast_retry();
    return v;
}

// Runs a generator in the background of a test coroutine: start() spawns run(), finish() stops
// it and waits (bounded) for run() to complete.
class running_load {
public:
    explicit running_load(load_generator& gen)
        : gen_(gen) {}

    asio::awaitable<void> start() {
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(ex, gen_.run(), [this](std::exception_ptr e, status st) {
            error_ = e;
            outcome_ = st;
            done_ = true;
        });
    }
    asio::awaitable<bool> finish(std::chrono::milliseconds timeout = 10s) {
        gen_.request_stop();
        auto op = wait_until([this] { return done_; }, timeout);
        co_return co_await std::move(op);
    }
    bool done() const { return done_; }
    const status& outcome() const { return outcome_; }
    std::exception_ptr error() const { return error_; }

private:
    load_generator& gen_;
    bool done_ = false;
    status outcome_;
    std::exception_ptr error_;
};

// Sets or removes replica.deny_client_request of `table` through the meta (the real RPC).
inline asio::awaitable<bool> set_deny(rpc::session_pool& pool, std::uint16_t meta_port,
                                      std::string table, std::string value) {
    meta::meta_client mc(pool, {rpc::endpoint{"127.0.0.1", meta_port}});
    if (value.empty()) {
        auto op = mc.del_app_envs(table, {"replica.deny_client_request"});
        auto r = co_await std::move(op);
        co_return r.has_value();
    }
    auto op = mc.set_app_envs(table, {{"replica.deny_client_request", value}});
    auto r = co_await std::move(op);
    co_return r.has_value();
}

// The stored user value of a key in the simulated cluster, or nullopt.
inline std::optional<std::string> sim_value(sim::test::sim_fixture& fx, const std::string& cluster,
                                            const std::string& table, const std::string& hash_key,
                                            const std::string& sort_key) {
    return fx.on_sim([&]() -> std::optional<std::string> {
        auto& c = fx.sim().cluster(cluster);
        auto* t = c.find_table(table);
        if (!t)
            return std::nullopt;
        auto full = sim::encode_full_key(hash_key, sort_key);
        auto pidx = sim::key_hash(full) % static_cast<std::uint64_t>(t->partition_count);
        auto& data = t->partitions[pidx].data;
        auto it = data.find(full);
        if (it == data.end())
            return std::nullopt;
        auto v = sim::decode_stored_value(it->second, t->data_version);
        if (!v)
            return std::nullopt;
        return v->user;
    });
}

inline std::size_t routing_violations(sim::test::sim_fixture& fx, const std::string& cluster) {
    return fx.on_sim([&] { return fx.sim().cluster(cluster).routing_violations.size(); });
}

} // namespace tablemigrator::load::test
