// kill -9 of the real table-migrator at each phase, then the same command again: the rerun must
// finish the migration (entry switched, reconfig*all on the source, every acknowledged write on
// the target) and reuse the duplication. The drain case lives in cutover_test.cpp; here: waiting
// for DS_LOG, waiting for the backlog, right after the freeze, and a run that died between the
// MetaProxy write and reconfig*all. Sim faults and timings hold the run in the phase.
#include "scenario.hpp"

#include <csignal>

using namespace tablemigrator;
using namespace tablemigrator::scenarios;

namespace {

constexpr auto run_deadline = 60s;

bool names_target(const std::string& entry) { return contains(entry, "\"dst\""); }

void expect_completed(scenario& s, const run_result& r) {
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    s.writer().stop();
    CHECK(names_target(s.entry("t1")));
    CHECK(s.deny_env("t1") == "reconfig*all");
    CHECK(s.duplication_count("t1") == 1); // reused, never a second one
    const auto acked = s.writer().acked("t1");
    INFO("acknowledged " << acked.size());
    CHECK(acked.size() > 0);
    CHECK(s.missing_on_target("t1", acked) == 0);
}

// Starts the migration, waits for `marker` in its output, kills it with SIGKILL.
void kill_at(scenario& s, const std::vector<std::string>& args, const std::string& marker) {
    auto p = s.start(args, "killed");
    REQUIRE(test::wait_for_text(s.dir() / "killed.out", marker, run_deadline, p.get()));
    CHECK(p->kill() == 128 + SIGKILL);
}

} // namespace

TEST_CASE("scenario kill -9 while waiting for DS_LOG: the rerun reuses the duplication and completes (master)") {
    sim_options o;
    o.checkpoint_copy = 3000ms; // the new duplication stays in DS_PREPARE/DS_APP for a while
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    const auto args = s.migrate_args("t1");
    kill_at(s, args, "t1: duplicate -> wait_log");
    CHECK(s.duplication("t1").has_value());
    CHECK(s.duplication("t1") != sim::dup_status::log);
    CHECK(s.deny_env("t1").empty());
    expect_completed(s, s.run(args, "rerun", run_deadline));
}

TEST_CASE("scenario kill -9 while waiting for the backlog: writes were never denied; the rerun completes (2.4)") {
    sim_options o;
    o.gen = sim::generation::v2_4;
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true); // the backlog only grows: the run stays in wait_backlog
    auto args = s.migrate_args("t1");
    const auto p_it = std::find(args.begin(), args.end(), "-p");
    REQUIRE(p_it != args.end());
    *(p_it + 1) = "0";
    {
        auto p = s.start(args, "killed");
        REQUIRE(test::wait_for_text(s.dir() / "killed.out", "t1: wait_log -> wait_backlog", run_deadline, p.get()));
        std::this_thread::sleep_for(500ms); // a few backlog polls
        CHECK(p->kill() == 128 + SIGKILL);
        CHECK_FALSE(contains(p->stdout_text(), "-> freeze"));
    }
    CHECK(s.duplication("t1") == sim::dup_status::log);
    CHECK(s.deny_env("t1").empty());
    s.stall_shipping(false);
    *(p_it + 1) = "1000000"; // the writer never stops: any backlog will do once shipping resumes
    expect_completed(s, s.run(args, "rerun", run_deadline));
}

TEST_CASE("scenario kill -9 right after the freeze: the rerun re-freezes, waits a full period, drains and "
          "switches (master)") {
    sim_options o;
    o.config_sync = 2000ms; // wait_frozen lasts the period plus the margin
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    auto args = s.migrate_args("t1");
    const auto c_it = std::find(args.begin(), args.end(), "--config-sync-interval-ms");
    REQUIRE(c_it != args.end());
    *(c_it + 1) = "2000";
    kill_at(s, args, "t1: freeze -> wait_frozen");
    CHECK(s.deny_env("t1") == "timeout*write");
    auto r = s.run(args, "rerun", run_deadline);
    CHECK(contains(r.out, "resumed"));
    expect_completed(s, r);
}

TEST_CASE("scenario a run that died between the MetaProxy write and reconfig*all: the rerun sets "
          "reconfig*all (2.5)") {
    sim_options o;
    o.gen = sim::generation::v2_5;
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    const auto args = s.migrate_args("t1");
    // A complete run first, then put the source back in the state of a run killed after the
    // ZooKeeper write: entry on the target, writes only denied.
    auto first = s.run(args, "first", run_deadline);
    REQUIRE(first.exit_code.has_value());
    REQUIRE(*first.exit_code == 0);
    s.set_env("t1", "replica.deny_client_request", "timeout*write");
    REQUIRE(names_target(s.entry("t1")));
    auto r = s.run(args, "rerun", run_deadline);
    CHECK(contains(r.out, "reconfig*all set on the source"));
    expect_completed(s, r);
}
