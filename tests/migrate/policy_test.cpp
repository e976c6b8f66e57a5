#include <tablemigrator/core/error.hpp>
#include <tablemigrator/migrate/policy.hpp>

#include <doctest/doctest.h>

using namespace tablemigrator;
using namespace tablemigrator::migrate;
using namespace std::chrono_literals;

namespace {

struct harness {
    settings cfg;
    table_state state;
    time_point now = time_point{} + 1000s;
    action last;

    action feed(const event& ev) {
        auto d = decide(state, ev, now, cfg);
        state = d.next;
        last = d.todo;
        return d.todo;
    }
    void advance(duration d) { now += d; }

    // Drives a fresh table to the point where the duplication is in DS_LOG.
    void to_wait_backlog() {
        feed(ev_start{});
        feed(ev_duplication_added{});
        feed(ev_duplication{true, dup_status::log});
        REQUIRE(state.current == phase::wait_backlog);
    }
    void to_drain() {
        to_wait_backlog();
        feed(ev_backlog{dup_status::log, cfg.threshold, std::nullopt, true});
        REQUIRE(state.current == phase::freeze);
        feed(ev_deny_acked{});
        advance(cfg.config_sync_period + cfg.freeze_margin);
        feed(ev_timer{});
        REQUIRE(state.current == phase::drain);
    }
};

template <class A>
bool is(const action& a) {
    return std::holds_alternative<A>(a);
}

} // namespace

TEST_CASE("policy: a fresh table adds a duplication and waits for DS_LOG") {
    harness h;
    CHECK(is<act_add_duplication>(h.feed(ev_start{})));
    CHECK(h.state.current == phase::duplicate);
    CHECK(is<act_query_duplication>(h.feed(ev_duplication_added{})));
    CHECK(h.state.current == phase::wait_log);
    CHECK(is<act_query_duplication>(h.feed(ev_duplication{true, dup_status::prepare})));
    CHECK(is<act_query_duplication>(h.feed(ev_duplication{true, dup_status::app})));
    CHECK(h.state.current == phase::wait_log);
    CHECK(is<act_query_backlog>(h.feed(ev_duplication{true, dup_status::log})));
    CHECK(h.state.current == phase::wait_backlog);
    CHECK_FALSE(h.state.deny_may_be_set);
}

TEST_CASE("policy: an existing duplication is reused on a rerun") {
    harness h;
    CHECK(is<act_query_backlog>(h.feed(ev_start{true, dup_status::log, false})));
    CHECK(h.state.current == phase::wait_backlog);

    harness h2;
    CHECK(is<act_query_duplication>(h2.feed(ev_start{true, dup_status::app, false})));
    CHECK(h2.state.current == phase::wait_log);

    harness h3;
    CHECK(is<act_add_duplication>(h3.feed(ev_start{true, dup_status::removed, false})));
}

TEST_CASE("policy: a paused duplication fails the table without touching writes") {
    harness h;
    CHECK(is<act_finish>(h.feed(ev_start{true, dup_status::pause, false})));
    CHECK(h.state.current == phase::failed);
    CHECK_FALSE(h.state.deny_may_be_set);
    CHECK(h.state.failure.find("paused") != std::string::npos);
}

TEST_CASE("policy: writes are never denied before DS_LOG, even with a small backlog") {
    harness h;
    h.to_wait_backlog();
    // The same poll says the duplication fell back (e.g. a new duplication replaced it).
    auto a = h.feed(ev_backlog{dup_status::prepare, 0, std::nullopt, true});
    CHECK_FALSE(is<act_set_deny>(a));
    CHECK(h.state.current == phase::wait_log);
    CHECK_FALSE(h.state.deny_may_be_set);
}

TEST_CASE("policy: the freeze waits for this table's backlog to reach the threshold") {
    harness h;
    h.cfg.threshold = 100;
    h.to_wait_backlog();
    CHECK(is<act_query_backlog>(h.feed(ev_backlog{dup_status::log, 101, 50.0, true})));
    CHECK(h.state.current == phase::wait_backlog);
    // An incomplete observation (a partition did not answer) never freezes.
    CHECK(is<act_query_backlog>(h.feed(ev_backlog{dup_status::log, 0, std::nullopt, false})));
    CHECK(h.state.current == phase::wait_backlog);
    CHECK(is<act_set_deny>(h.feed(ev_backlog{dup_status::log, 100, 50.0, true})));
    CHECK(h.state.current == phase::freeze);
    CHECK(h.state.deny_may_be_set);
    CHECK(h.state.backlog_at_freeze == 100);
    CHECK(h.state.deny_requested == h.now);
}

TEST_CASE("policy: the freeze counts one config-sync period plus margin after the ack") {
    harness h;
    h.cfg.config_sync_period = 30s;
    h.cfg.freeze_margin = 2s;
    h.to_wait_backlog();
    h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true});
    h.advance(40ms);
    const time_point acked = h.now;
    auto a = h.feed(ev_deny_acked{});
    REQUIRE(is<act_wait>(a));
    CHECK(std::get<act_wait>(a).until == acked + 32s);
    CHECK(h.state.current == phase::wait_frozen);
    // A timer that fires early (clock skew, spurious wake) waits again.
    h.advance(10s);
    a = h.feed(ev_timer{});
    REQUIRE(is<act_wait>(a));
    CHECK(std::get<act_wait>(a).until == acked + 32s);
    h.advance(22s);
    a = h.feed(ev_timer{});
    REQUIRE(is<act_query_drain>(a));
    CHECK(std::get<act_query_drain>(a).capture_freeze_decrees);
    CHECK(h.state.current == phase::drain);
    CHECK(h.state.frozen_at == h.now);
}

TEST_CASE("policy: clients are switched only after consecutive fully drained polls") {
    harness h;
    h.cfg.switch_clients = true;
    h.cfg.drain_stable_polls = 2;
    h.to_drain();
    CHECK(is<act_query_drain>(h.feed(ev_drain{8, 7, false})));
    CHECK(is<act_query_drain>(h.feed(ev_drain{8, 8, false})));
    CHECK(h.state.stable_drained == 1);
    // A partial poll resets the count.
    CHECK(is<act_query_drain>(h.feed(ev_drain{8, 7, false})));
    CHECK(h.state.stable_drained == 0);
    CHECK(is<act_query_drain>(h.feed(ev_drain{8, 8, false})));
    CHECK(is<act_switch>(h.feed(ev_drain{8, 8, false})));
    CHECK(h.state.current == phase::switch_clients);
    CHECK(is<act_finish>(h.feed(ev_switched{true, true, {}, ""})));
    CHECK(h.state.current == phase::done);
    CHECK(h.state.deny_may_be_set); // writes stay denied on the source: reconfig*all redirects
}

TEST_CASE("policy: a primary change restarts the drain check with fresh freeze decrees") {
    harness h;
    h.to_drain();
    h.feed(ev_drain{4, 4, false});
    auto a = h.feed(ev_drain{4, 4, true});
    REQUIRE(is<act_query_drain>(a));
    CHECK(std::get<act_query_drain>(a).capture_freeze_decrees);
    CHECK(h.state.stable_drained == 0);
}

TEST_CASE("policy: zero partitions never count as drained") {
    harness h;
    h.to_drain();
    for (int i = 0; i < 5; ++i)
        CHECK(is<act_query_drain>(h.feed(ev_drain{0, 0, false})));
    CHECK(h.state.current == phase::drain);
}

TEST_CASE("policy: without -r the table is done after the drain and writes stay denied") {
    harness h;
    h.cfg.switch_clients = false;
    h.to_drain();
    h.feed(ev_drain{2, 2, false});
    CHECK(is<act_finish>(h.feed(ev_drain{2, 2, false})));
    CHECK(h.state.current == phase::done);
}

TEST_CASE("policy: a drain that exceeds the deny window restores writes and fails") {
    harness h;
    h.cfg.max_deny = 60s;
    h.to_drain();
    h.advance(61s);
    auto a = h.feed(ev_drain{4, 3, false});
    REQUIRE(is<act_restore_writes>(a));
    CHECK(h.state.current == phase::restore);
    CHECK(is<act_finish>(h.feed(ev_restored{})));
    CHECK(h.state.current == phase::failed);
    CHECK_FALSE(h.state.deny_may_be_set);
    CHECK(h.state.error == client_errc::timeout);
    CHECK(h.state.failure.find("max-deny") != std::string::npos);
}

TEST_CASE("policy: a failed SET of the deny env still restores writes") {
    harness h;
    h.to_wait_backlog();
    h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true});
    auto a = h.feed(ev_error{make_error_code(client_errc::timeout), "meta timed out"});
    CHECK(is<act_restore_writes>(a));
    CHECK(h.state.current == phase::restore);
}

TEST_CASE("policy: retryable errors are retried within the phase deadline, others fail") {
    harness h;
    h.to_wait_backlog();
    CHECK(is<act_query_backlog>(h.feed(ev_error{make_error_code(rdsn_errc::ERR_BUSY), "busy"})));
    CHECK(h.state.current == phase::wait_backlog);
    CHECK(is<act_finish>(h.feed(ev_error{make_error_code(rdsn_errc::ERR_APP_NOT_EXIST), "gone"})));
    CHECK(h.state.current == phase::failed);
    CHECK_FALSE(h.state.deny_may_be_set);

    harness d;
    d.to_drain();
    CHECK(is<act_query_drain>(d.feed(ev_error{make_error_code(client_errc::connection_closed), "reset"})));
    CHECK(is<act_restore_writes>(d.feed(ev_error{make_error_code(rdsn_errc::ERR_INVALID_PARAMETERS), "bad"})));
}

TEST_CASE("policy: Ctrl-C before the freeze aborts without touching writes") {
    harness h;
    h.to_wait_backlog();
    CHECK(is<act_finish>(h.feed(ev_cancel{})));
    CHECK(h.state.current == phase::aborted);
    CHECK_FALSE(h.state.deny_may_be_set);
}

TEST_CASE("policy: Ctrl-C while frozen restores writes, then aborts") {
    harness h;
    h.to_drain();
    CHECK(is<act_restore_writes>(h.feed(ev_cancel{})));
    CHECK(h.state.current == phase::restore);
    CHECK(is<act_finish>(h.feed(ev_restored{})));
    CHECK(h.state.current == phase::aborted);
    CHECK_FALSE(h.state.deny_may_be_set);
}

TEST_CASE("policy: Ctrl-C during the switch finishes the switch") {
    harness h;
    h.cfg.switch_clients = true;
    h.to_drain();
    h.feed(ev_drain{1, 1, false});
    h.feed(ev_drain{1, 1, false});
    REQUIRE(h.state.current == phase::switch_clients);
    CHECK(is<act_switch>(h.feed(ev_cancel{})));
    CHECK(h.state.cancel_requested);
    CHECK(is<act_finish>(h.feed(ev_switched{true, true, {}, ""})));
    CHECK(h.state.current == phase::done);
}

TEST_CASE("policy: a switch that left the entry unchanged restores writes") {
    harness h;
    h.cfg.switch_clients = true;
    h.to_drain();
    h.feed(ev_drain{1, 1, false});
    h.feed(ev_drain{1, 1, false});
    auto a = h.feed(ev_switched{false, false, make_error_code(client_errc::precondition_failed), "version conflict"});
    CHECK(is<act_restore_writes>(a));
    CHECK(h.state.current == phase::restore);
}

TEST_CASE("policy: once the entry names the target, writes are never restored on the source") {
    harness h;
    h.cfg.switch_clients = true;
    h.to_drain();
    h.feed(ev_drain{1, 1, false});
    h.feed(ev_drain{1, 1, false});
    auto a = h.feed(ev_switched{true, false, make_error_code(rdsn_errc::ERR_BUSY), "meta busy"});
    CHECK(is<act_finish>(a));
    CHECK(h.state.current == phase::failed);
    CHECK(h.state.entry_switched);
    CHECK(h.state.failure.find("reconfig*all") != std::string::npos);
}

TEST_CASE("policy: restoring writes is retried, then reported loudly") {
    harness h;
    h.to_drain();
    h.feed(ev_cancel{});
    REQUIRE(h.state.current == phase::restore);
    action a;
    for (int i = 0; i < 5; ++i) {
        a = h.feed(ev_error{make_error_code(client_errc::timeout), "meta down"});
        REQUIRE(is<act_restore_writes>(a));
        CHECK(std::get<act_restore_writes>(a).after > 0ms);
    }
    a = h.feed(ev_error{make_error_code(client_errc::timeout), "meta down"});
    CHECK(is<act_finish>(a));
    CHECK(h.state.current == phase::aborted);
    CHECK(h.state.failure.find("WRITES MAY STILL BE DENIED") != std::string::npos);
}

TEST_CASE("policy: a rerun that finds writes denied and the duplication in DS_LOG resumes the freeze") {
    harness h;
    CHECK(is<act_set_deny>(h.feed(ev_start{true, dup_status::log, true})));
    CHECK(h.state.current == phase::freeze);
    CHECK(h.state.deny_may_be_set);
    h.feed(ev_deny_acked{});
    CHECK(h.state.current == phase::wait_frozen);
}

TEST_CASE("policy: a rerun that finds writes denied before DS_LOG restores them and continues") {
    harness h;
    CHECK(is<act_restore_writes>(h.feed(ev_start{true, dup_status::app, true})));
    CHECK(h.state.current == phase::restore);
    CHECK(is<act_query_duplication>(h.feed(ev_restored{})));
    CHECK(h.state.current == phase::duplicate);
    CHECK_FALSE(h.state.deny_may_be_set);
    CHECK(is<act_query_duplication>(h.feed(ev_duplication{true, dup_status::app})));
    CHECK(h.state.current == phase::wait_log);
}

TEST_CASE("policy: terminal states ignore further events") {
    harness h;
    h.to_wait_backlog();
    h.feed(ev_cancel{});
    REQUIRE(h.state.current == phase::aborted);
    CHECK(is<act_finish>(h.feed(ev_backlog{})));
    CHECK(h.state.current == phase::aborted);
}

TEST_CASE("policy: waiting for DS_LOG and for the backlog have deadlines") {
    harness h;
    h.cfg.wait_log_timeout = 60s;
    h.feed(ev_start{});
    h.feed(ev_duplication_added{});
    h.advance(61s);
    CHECK(is<act_finish>(h.feed(ev_duplication{true, dup_status::prepare})));
    CHECK(h.state.current == phase::failed);
    CHECK(h.state.error == client_errc::timeout);

    harness b;
    b.cfg.wait_backlog_timeout = 60s;
    b.to_wait_backlog();
    b.advance(61s);
    CHECK(is<act_finish>(b.feed(ev_backlog{dup_status::log, b.cfg.threshold + 1, 1.0, true})));
    CHECK(b.state.current == phase::failed);
}

TEST_CASE("backlog_poll_delay: slow far from the threshold, fast near it, always bounded") {
    settings cfg;
    cfg.threshold = 1000;
    cfg.poll_min = 250ms;
    cfg.poll_max = 10s;
    CHECK(backlog_poll_delay(500, 100.0, cfg) == cfg.poll_min);
    CHECK(backlog_poll_delay(1'000'000, 100.0, cfg) == cfg.poll_max);
    const auto near = backlog_poll_delay(1300, 100.0, cfg); // 3 s to go -> 1 s
    CHECK(near == 1000ms);
    CHECK(backlog_poll_delay(2000, std::nullopt, cfg) == 5s);
    CHECK(backlog_poll_delay(2000, 0.0, cfg) == 5s);
}

TEST_CASE("policy: fast cutover lowers the period only near the freeze, then waits until it is in force") {
    harness h;
    h.cfg.fast_period = 1000ms;
    h.cfg.fast_freeze_margin = 250ms;
    h.cfg.poll_max = 10s;
    h.to_wait_backlog();
    // Far above the threshold with no rate: nothing is lowered yet.
    CHECK(is<act_query_backlog>(h.feed(ev_backlog{dup_status::log, 50'000, std::nullopt, true})));
    CHECK_FALSE(h.state.sync_lowering_requested);
    // At the threshold: lower first, still in wait_backlog, writes untouched.
    CHECK(is<act_lower_sync_period>(h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true})));
    CHECK(h.state.current == phase::wait_backlog);
    CHECK_FALSE(h.state.deny_may_be_set);
    // The nodes lowered it; it governs their ticks only one old period later.
    const time_point in_force = h.now + 30s;
    CHECK(is<act_query_backlog>(h.feed(ev_sync_lowered{true, in_force})));
    auto a = h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true});
    REQUIRE(is<act_query_backlog>(a));
    CHECK(std::get<act_query_backlog>(a).after == 10s);
    CHECK_FALSE(h.state.deny_may_be_set);
    h.advance(30s);
    CHECK(is<act_set_deny>(h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true})));
    // Never asked twice.
    CHECK(h.state.sync_lowering_requested);
    auto w = h.feed(ev_deny_acked{});
    REQUIRE(is<act_wait>(w));
    CHECK(std::get<act_wait>(w).until == h.now + 1000ms + 250ms);
    h.advance(1250ms);
    auto d = h.feed(ev_timer{});
    REQUIRE(is<act_query_drain>(d));
    // Drain polls as fast as allowed while the lowered period is in force.
    auto d2 = h.feed(ev_drain{4, 0, false});
    REQUIRE(is<act_query_drain>(d2));
    CHECK(std::get<act_query_drain>(d2).after == h.cfg.poll_min);
}

TEST_CASE("policy: fast cutover lowers the period one old period ahead when the rate predicts the freeze") {
    harness h;
    h.cfg.fast_period = 1000ms;
    h.cfg.config_sync_period = 30s;
    h.cfg.threshold = 1000;
    h.to_wait_backlog();
    // 10 000 above the threshold at 100/s: 100 s away, more than one period.
    CHECK(is<act_query_backlog>(h.feed(ev_backlog{dup_status::log, 11'000, 100.0, true})));
    // 2 000 above at 100/s: 20 s away, within one period: lower now.
    CHECK(is<act_lower_sync_period>(h.feed(ev_backlog{dup_status::log, 3'000, 100.0, true})));
    // An incomplete reading never triggers it (checked on a fresh table).
    harness h2;
    h2.cfg.fast_period = 1000ms;
    h2.to_wait_backlog();
    CHECK(is<act_query_backlog>(h2.feed(ev_backlog{dup_status::log, 0, 100.0, false})));
    CHECK_FALSE(h2.state.sync_lowering_requested);
}

TEST_CASE("policy: when a node did not take the lowered period, the freeze counts with the old one") {
    harness h;
    h.cfg.fast_period = 1000ms;
    h.cfg.config_sync_period = 30s;
    h.cfg.freeze_margin = 1s;
    h.to_wait_backlog();
    REQUIRE(is<act_lower_sync_period>(h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true})));
    CHECK(is<act_query_backlog>(h.feed(ev_sync_lowered{false, h.now + 30s})));
    // Not lowered everywhere: no reason to wait for it, and no reason to trust it.
    CHECK(is<act_set_deny>(h.feed(ev_backlog{dup_status::log, 0, std::nullopt, true})));
    auto w = h.feed(ev_deny_acked{});
    REQUIRE(is<act_wait>(w));
    CHECK(std::get<act_wait>(w).until == h.now + 30s + 1s);
}

TEST_CASE("policy: a resumed freeze (writes already denied by a crashed run) waits the full original period") {
    harness h;
    h.cfg.fast_period = 1000ms;
    h.cfg.config_sync_period = 30s;
    h.cfg.freeze_margin = 1s;
    // The crashed run may have lowered the period; this run did not: the old period counts.
    CHECK(is<act_set_deny>(h.feed(ev_start{true, dup_status::log, true})));
    CHECK(h.state.current == phase::freeze);
    CHECK(h.state.deny_may_be_set);
    CHECK(h.state.backlog_at_freeze == -1);
    auto w = h.feed(ev_deny_acked{});
    REQUIRE(is<act_wait>(w));
    CHECK(std::get<act_wait>(w).until == h.now + 30s + 1s);
    h.advance(29s);
    auto early = h.feed(ev_timer{});
    REQUIRE(is<act_wait>(early));
    CHECK(h.state.current == phase::wait_frozen);
    h.advance(2s);
    CHECK(is<act_query_drain>(h.feed(ev_timer{})));
    CHECK(h.state.current == phase::drain);
    CHECK_FALSE(h.state.sync_lowering_requested);
}

TEST_CASE("policy: a fully drained observation is confirmed by the next poll at once") {
    harness h;
    h.cfg.poll_min = 100ms;
    h.to_drain();
    auto a = h.feed(ev_drain{4, 3, false});
    REQUIRE(is<act_query_drain>(a));
    CHECK(std::get<act_query_drain>(a).after == 500ms);
    auto b = h.feed(ev_drain{4, 4, false});
    REQUIRE(is<act_query_drain>(b));
    CHECK(std::get<act_query_drain>(b).after == 100ms);
    CHECK(is<act_finish>(h.feed(ev_drain{4, 4, false})));
    CHECK(h.state.current == phase::done);
}

TEST_CASE("freeze_margin_for: at least 250 ms, a tenth of the period, at most a second") {
    CHECK(freeze_margin_for(1000ms) == 250ms);
    CHECK(freeze_margin_for(3000ms) == 300ms);
    CHECK(freeze_margin_for(30000ms) == 1000ms);
    CHECK(freeze_margin_for(600000ms) == 1000ms);
}
