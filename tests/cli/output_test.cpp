// The live view's pure pieces (ETA, deny window, row rendering, number formats) and what each
// output mode writes for the same events.
#include <tablemigrator/cli/output.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <sstream>

using namespace tablemigrator;
using namespace std::chrono_literals;
using cli::table_view;
using migrate::duration;
using migrate::phase;

namespace {

const migrate::time_point t0 = std::chrono::steady_clock::time_point(std::chrono::hours(1000));

migrate::ev_backlog backlog(std::int64_t n, bool complete = true, std::optional<double> rate = std::nullopt) {
    migrate::ev_backlog b;
    b.backlog = n;
    b.complete = complete;
    b.rate_per_s = rate;
    return b;
}

table_view waiting_for_backlog() {
    table_view t;
    t.table = "orders";
    t.start(t0);
    t.on_phase(phase::wait_backlog, migrate::table_state{}, t0);
    return t;
}

} // namespace

TEST_CASE("durations are printed as seconds, minutes and seconds, or hours and minutes") {
    CHECK(cli::format_duration(0ms) == "0s");
    CHECK(cli::format_duration(999ms) == "0s");
    CHECK(cli::format_duration(42s) == "42s");
    CHECK(cli::format_duration(185s) == "3m05s");
    CHECK(cli::format_duration(7380s) == "2h03m");
    CHECK(cli::format_duration(-5s) == "0s");
}

TEST_CASE("write-deny windows keep a decimal below a minute") {
    CHECK(cli::format_window(1400ms) == "1.4s");
    CHECK(cli::format_window(0ms) == "0.0s");
    CHECK(cli::format_window(65s) == "1m05s");
}

TEST_CASE("counts are exact below 100000 and abbreviated above") {
    CHECK(cli::format_count(0) == "0");
    CHECK(cli::format_count(99999) == "99999");
    CHECK(cli::format_count(123456) == "123.5k");
    CHECK(cli::format_count(999999) == "1.0M");
    CHECK(cli::format_count(12345678) == "12.3M");
}

TEST_CASE("ETA in wait_backlog is the backlog above the threshold over the net drain rate") {
    auto t = waiting_for_backlog();
    cli::view_settings s;
    s.threshold = 1000;
    t.on_backlog(backlog(10000), t0);
    CHECK_FALSE(cli::eta_to_next_phase(t, t0, s).has_value()); // one sample: no rate yet
    t.on_backlog(backlog(5000), t0 + 5s);                      // shrinking by 1000/s
    const auto eta = cli::eta_to_next_phase(t, t0 + 5s, s);
    REQUIRE(eta.has_value());
    CHECK(*eta == 4s);
}

TEST_CASE("ETA in wait_backlog is unknown while the backlog grows or a partition did not report") {
    auto t = waiting_for_backlog();
    cli::view_settings s;
    s.threshold = 100;
    t.on_backlog(backlog(5000), t0);
    t.on_backlog(backlog(6000), t0 + 1s);
    CHECK_FALSE(cli::eta_to_next_phase(t, t0 + 1s, s).has_value());
    t.on_backlog(backlog(100, false), t0 + 2s);
    CHECK_FALSE(cli::eta_to_next_phase(t, t0 + 2s, s).has_value());
}

TEST_CASE("ETA in wait_backlog is zero once the backlog is at the threshold") {
    auto t = waiting_for_backlog();
    cli::view_settings s;
    s.threshold = 100;
    t.on_backlog(backlog(100), t0);
    CHECK(cli::eta_to_next_phase(t, t0, s) == duration(0));
}

TEST_CASE("ETA in wait_frozen is the rest of one config-sync period plus the engine's margin") {
    table_view t;
    t.table = "t";
    t.on_phase(phase::wait_frozen, migrate::table_state{}, t0);
    cli::view_settings s;
    s.config_sync_period = 30s; // margin min(1 s, 3 s) = 1 s
    CHECK(cli::eta_to_next_phase(t, t0 + 10s, s) == duration(21s));
    s.config_sync_period = 2s; // margin max(250 ms, 200 ms) = 250 ms
    CHECK(cli::eta_to_next_phase(t, t0 + 1s, s) == duration(1250ms));
    CHECK(cli::eta_to_next_phase(t, t0 + 1h, s) == duration(0));
}

TEST_CASE("ETA in wait_frozen follows the instant the engine gave (fast cutover, resumed freeze)") {
    table_view t;
    t.table = "t";
    migrate::table_state st;
    st.freeze_in_force_at = t0 + 1250ms; // lowered period 1 s + 250 ms margin
    t.on_phase(phase::wait_frozen, st, t0);
    cli::view_settings s;
    s.config_sync_period = 30s; // the original period is not what the engine waits for
    CHECK(cli::eta_to_next_phase(t, t0 + 250ms, s) == duration(1s));
}

TEST_CASE("a resumed freeze is printed as such, not with a backlog of -1") {
    std::ostringstream out;
    cli::console_observer o(out, cli::output_mode::plain);
    migrate::table_state resumed;
    resumed.deny_may_be_set = true; // backlog_at_freeze stays -1: never measured by this run
    o.on_phase("t", phase::duplicate, phase::freeze, resumed);
    CHECK(out.str().find("backlog -1") == std::string::npos);
    CHECK(out.str().find("resumed") != std::string::npos);
    migrate::table_state fresh;
    fresh.backlog_at_freeze = 42;
    o.on_phase("u", phase::wait_backlog, phase::freeze, fresh);
    CHECK(out.str().find("u: wait_backlog -> freeze (backlog 42)") != std::string::npos);
}

TEST_CASE("no ETA is invented for the checkpoint copy or the drain") {
    cli::view_settings s;
    for (auto p : {phase::duplicate, phase::wait_log, phase::drain, phase::switch_clients}) {
        table_view t;
        t.on_phase(p, migrate::table_state{}, t0);
        t.on_backlog(backlog(10), t0);
        CHECK_FALSE(cli::eta_to_next_phase(t, t0 + 1s, s).has_value());
    }
}

TEST_CASE("the write-deny time runs from the deny request until the switch") {
    table_view t;
    t.table = "t";
    migrate::table_state s;
    s.deny_may_be_set = true;
    s.deny_requested = t0;
    t.on_phase(phase::freeze, s, t0 + 100ms);
    CHECK_FALSE(table_view{}.deny_so_far(t0).has_value());
    CHECK(t.deny_so_far(t0 + 5s) == duration(5s));
    s.entry_switched = true;
    t.on_phase(phase::switch_clients, s, t0 + 7s);
    CHECK(t.deny_so_far(t0 + 60s) == duration(7s));
    migrate::table_report r;
    r.outcome = phase::done;
    r.deny_window = 6900ms; // the report's measurement wins once the table is done
    t.on_done(r, t0 + 8s);
    CHECK(t.deny_so_far(t0 + 60s) == duration(6900ms));
}

TEST_CASE("the write-deny time ends when writes are restored") {
    table_view t;
    migrate::table_state s;
    s.deny_may_be_set = true;
    s.deny_requested = t0;
    t.on_phase(phase::freeze, s, t0);
    s.deny_may_be_set = false;
    t.on_phase(phase::wait_backlog, s, t0 + 3s);
    CHECK(t.deny_so_far(t0 + 30s) == duration(3s));
}

TEST_CASE("the view has a header, one row per table and a footer with totals, cut to the width") {
    cli::view_settings s;
    s.threshold = 1000;
    auto a = waiting_for_backlog();
    a.on_backlog(backlog(10000, true, 2500.0), t0);
    a.on_backlog(backlog(5000, true, 2500.0), t0 + 5s);
    table_view b;
    b.table = "queued_table";
    table_view c;
    c.table = "done_table";
    c.start(t0);
    migrate::table_report r;
    r.outcome = phase::done;
    r.deny_window = 1400ms;
    c.on_done(r, t0 + 3s);
    table_view d;
    d.table = "drain_table";
    d.on_phase(phase::drain, migrate::table_state{}, t0);
    migrate::ev_drain dr;
    dr.partitions = 8;
    dr.drained = 3;
    d.on_drain(dr);

    const auto lines = cli::render_view({a, b, c, d}, t0, t0 + 5s, s, 200);
    REQUIRE(lines.size() == 6);
    CHECK(lines[0].find("table") == 0);
    CHECK(lines[0].find("ETA") != std::string::npos);
    CHECK(lines[1].find("orders") == 0);
    CHECK(lines[1].find("wait_backlog") != std::string::npos);
    CHECK(lines[1].find("5000") != std::string::npos);
    CHECK(lines[1].find("2500/s") != std::string::npos);
    CHECK(lines[1].find("~4s") != std::string::npos);
    CHECK(lines[2].find("queued") != std::string::npos);
    CHECK(lines[3].find("done") != std::string::npos);
    CHECK(lines[3].find("5000") == std::string::npos); // no backlog for a finished table
    CHECK(lines[3].find("1.4s") != std::string::npos);
    CHECK(lines[4].find("3/8 drained") != std::string::npos);
    CHECK(lines[5] == "4 tables: 1 done, 2 running, 1 queued | backlog 5000 | shipping 2500/s | elapsed 5s | "
                      "longest deny 1.4s");

    for (const auto& l : cli::render_view({a, b, c, d}, t0, t0 + 5s, s, 30)) {
        CHECK(l.size() <= 30);
        CHECK((l.empty() || l.back() != ' '));
    }
}

TEST_CASE("without a shipping rate from the servers the row shows the net drain rate") {
    auto t = waiting_for_backlog();
    t.on_backlog(backlog(3000), t0);
    t.on_backlog(backlog(2000), t0 + 2s);
    const auto lines = cli::render_view({t}, t0, t0 + 2s, cli::view_settings{}, 200);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].find("500/s net") != std::string::npos);
    CHECK(lines[2].find("shipping") == std::string::npos); // no total invented either
    t.on_backlog(backlog(2600), t0 + 3s); // growing: (2000 - 2600) / 1 s = -600, smoothed -50
    CHECK(cli::render_view({t}, t0, t0 + 3s, cli::view_settings{}, 200)[1].find("-50/s net") != std::string::npos);
}

TEST_CASE("plain mode prints timestamped phase lines and the summary with what is left to do") {
    std::ostringstream out;
    cli::console_observer o(out, cli::output_mode::plain);
    migrate::table_state s;
    s.backlog_at_freeze = 42;
    o.on_phase("orders", phase::wait_backlog, phase::freeze, s);
    migrate::run_report rep;
    migrate::table_report tr;
    tr.table = "orders";
    tr.outcome = phase::done;
    tr.entry_switched = true;
    tr.reconfig_set = true;
    rep.tables.push_back(tr);
    rep.notes.push_back("orders: remove the duplication when satisfied");
    o.print_report(rep);
    const std::string text = out.str();
    CHECK(text.find("orders: wait_backlog -> freeze (backlog 42)") != std::string::npos);
    CHECK(text.find("switched") != std::string::npos);
    CHECK(text.find("orders: remove the duplication when satisfied") != std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
}

TEST_CASE("json mode writes one parseable object per event and a final report") {
    std::ostringstream out;
    cli::console_observer o(out, cli::output_mode::json);
    o.on_backlog("orders", backlog(7, true, 12.5));
    o.on_phase("orders", phase::wait_backlog, phase::freeze, migrate::table_state{});
    o.print_report(migrate::run_report{});
    std::istringstream lines(out.str());
    std::vector<std::string> events;
    for (std::string line; std::getline(lines, line);) {
        auto v = boost::json::parse(line);
        events.emplace_back(v.as_object().at("event").as_string());
    }
    CHECK(events == std::vector<std::string>{"backlog", "phase", "report"});
}

TEST_CASE("live mode draws the view in place, keeps important lines above it and stops its timer") {
    std::ostringstream out;
    boost::asio::io_context io;
    cli::console_observer o(out, cli::output_mode::live);
    o.start_live(io.get_executor(), cli::view_settings{});
    migrate::preflight_report pf;
    pf.source_cluster = "src";
    pf.target_cluster = "dst";
    migrate::table_plan plan;
    plan.table = "orders";
    plan.partition_count = 8;
    pf.tables.push_back(plan);
    o.on_preflight(pf);
    o.on_table_start("orders");
    migrate::table_state s;
    s.failure = "the target table exists";
    o.on_phase("orders", phase::duplicate, phase::failed, s);
    o.finish();
    io.run_for(10s); // returns at once when finish() cancelled the timer; the bound only avoids a hang
    CHECK(io.stopped());
    const std::string text = out.str();
    CHECK(text.find("preflight: source 'src'") != std::string::npos);
    CHECK(text.find("orders: duplicate -> failed: the target table exists") != std::string::npos);
    CHECK(text.find("\x1b[") != std::string::npos);         // redrawn in place
    CHECK(text.rfind("1 table: 0 done, 1 failed") != std::string::npos);
}
