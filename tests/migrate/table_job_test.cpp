// The per-table coroutine against a scripted table_ops: phases, cancellation, restore on failure.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/migrate/table_job.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <functional>
#include <optional>

namespace asio = boost::asio;
using namespace tablemigrator;
using namespace tablemigrator::migrate;
using namespace std::chrono_literals;

namespace {

// A tiny scripted cluster: DS_PREPARE for a few polls, then DS_LOG with a shrinking backlog; after
// the deny, each partition's acknowledged decree reaches the freeze decree after `drain_polls`.
struct fake_ops : table_ops {
    int prepare_polls = 2;
    std::int64_t backlog = 500;
    std::int64_t backlog_step = 200;
    int partitions = 4;
    int drain_polls = 2;          // polls until drained; -1 = never
    int restore_failures = 0;     // the first N restores fail
    bool switch_entry = true, switch_reconfig = true;

    int add_calls = 0, deny_calls = 0, restore_calls = 0, switch_calls = 0, drain_calls = 0;
    bool deny_set = false;

    asio::awaitable<result<ev_start>> inspect() override { co_return ev_start{}; }
    asio::awaitable<status> add_duplication() override {
        ++add_calls;
        co_return status{};
    }
    asio::awaitable<result<ev_duplication>> query_duplication() override {
        if (prepare_polls-- > 0)
            co_return ev_duplication{true, dup_status::prepare};
        co_return ev_duplication{true, dup_status::log};
    }
    asio::awaitable<result<ev_backlog>> query_backlog() override {
        ev_backlog b{dup_status::log, backlog, 1000.0, true};
        backlog = std::max<std::int64_t>(0, backlog - backlog_step);
        co_return b;
    }
    asio::awaitable<status> set_deny_write() override {
        ++deny_calls;
        deny_set = true;
        co_return status{};
    }
    asio::awaitable<status> restore_writes() override {
        ++restore_calls;
        if (restore_failures-- > 0)
            co_return status{make_error_code(client_errc::timeout)};
        deny_set = false;
        co_return status{};
    }
    asio::awaitable<result<drain_observation>> drain_samples() override {
        ++drain_calls;
        drain_observation o;
        o.partition_count = partitions;
        const bool drained = drain_polls >= 0 && drain_calls > drain_polls;
        for (int p = 0; p < partitions; ++p)
            o.samples.push_back({p, "n1:1", 100, drained ? 100 : 90});
        co_return o;
    }
    asio::awaitable<ev_switched> switch_clients() override {
        ++switch_calls;
        co_return ev_switched{switch_entry, switch_reconfig, {}, ""};
    }
};

settings fast_settings() {
    settings s;
    s.threshold = 100;
    s.config_sync_period = 40ms;
    s.freeze_margin = 10ms;
    s.max_deny = 400ms;
    s.poll_min = 2ms;
    s.poll_max = 10ms;
    s.switch_clients = true;
    return s;
}

// Runs the job to completion under a deadline; `during` runs on the io thread after `delay`.
table_report run_job(table_job& job, std::function<void()> during = {},
                     std::chrono::milliseconds delay = 0ms) {
    asio::io_context io;
    std::optional<table_report> out;
    asio::co_spawn(io, job.run(), [&](std::exception_ptr e, table_report r) {
        if (e)
            std::rethrow_exception(e);
        out = std::move(r);
    });
    asio::steady_timer t(io, delay);
    if (during)
        t.async_wait([&](error_code) { during(); });
    io.run_for(10s);
    REQUIRE_MESSAGE(out.has_value(), "the job did not finish before the test deadline");
    return *out;
}

bool visited(const table_report& r, phase p) {
    for (const auto& s : r.phases)
        if (s.p == p)
            return true;
    return false;
}

} // namespace

TEST_CASE("table_job: a table goes through every phase and is switched") {
    auto ops = std::make_shared<fake_ops>();
    table_job job("t1", fast_settings(), ops);
    auto r = run_job(job);
    CHECK(r.outcome == phase::done);
    CHECK(ops->add_calls == 1);
    CHECK(ops->deny_calls == 1);
    CHECK(ops->restore_calls == 0);
    CHECK(ops->switch_calls == 1);
    CHECK(r.entry_switched);
    CHECK_FALSE(r.writes_may_be_denied);
    CHECK(r.backlog_at_freeze <= 100);
    REQUIRE(r.deny_window.has_value());
    CHECK(*r.deny_window >= 40ms); // at least one config-sync period
    for (phase p : {phase::duplicate, phase::wait_log, phase::wait_backlog, phase::freeze,
                    phase::wait_frozen, phase::drain, phase::switch_clients, phase::done})
        CHECK(visited(r, p));
}

TEST_CASE("table_job: a drain that never finishes restores writes within the deny bound") {
    auto ops = std::make_shared<fake_ops>();
    ops->drain_polls = -1;
    table_job job("t2", fast_settings(), ops);
    auto r = run_job(job);
    CHECK(r.outcome == phase::failed);
    CHECK(ops->restore_calls == 1);
    CHECK_FALSE(ops->deny_set);
    CHECK(ops->switch_calls == 0);
    CHECK_FALSE(r.writes_may_be_denied);
    CHECK(r.error == client_errc::timeout);
}

TEST_CASE("table_job: cancel during the drain restores writes and aborts") {
    auto ops = std::make_shared<fake_ops>();
    ops->drain_polls = -1;
    auto cfg = fast_settings();
    cfg.max_deny = 5s;
    table_job job("t3", cfg, ops);
    auto r = run_job(job, [&] { job.cancel(); }, 150ms);
    CHECK(r.outcome == phase::aborted);
    CHECK(ops->deny_calls == 1);
    CHECK(ops->restore_calls == 1);
    CHECK_FALSE(ops->deny_set);
    CHECK(ops->switch_calls == 0);
}

TEST_CASE("table_job: cancel before the freeze aborts without touching writes") {
    auto ops = std::make_shared<fake_ops>();
    ops->backlog = 1'000'000'000; // never reaches the threshold
    ops->backlog_step = 0;
    table_job job("t4", fast_settings(), ops);
    auto r = run_job(job, [&] { job.cancel(); }, 50ms);
    CHECK(r.outcome == phase::aborted);
    CHECK(ops->deny_calls == 0);
    CHECK(ops->restore_calls == 0);
}

TEST_CASE("table_job: restore failures are retried, then the report says writes may be denied") {
    auto ops = std::make_shared<fake_ops>();
    ops->drain_polls = -1;
    ops->restore_failures = 100;
    table_job job("t5", fast_settings(), ops);
    auto r = run_job(job);
    CHECK(r.outcome == phase::failed);
    CHECK(ops->restore_calls == 6);
    CHECK(r.writes_may_be_denied);
    CHECK(r.failure.find("WRITES MAY STILL BE DENIED") != std::string::npos);
}

TEST_CASE("table_job: a switch that sets the entry but not reconfig*all keeps writes denied") {
    auto ops = std::make_shared<fake_ops>();
    ops->switch_reconfig = false;
    table_job job("t6", fast_settings(), ops);
    auto r = run_job(job);
    CHECK(r.outcome == phase::failed);
    CHECK(ops->restore_calls == 0);
    CHECK(r.entry_switched);
    CHECK_FALSE(r.writes_may_be_denied);
}
