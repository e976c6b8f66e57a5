// Scenarios 2, 3, 4, 6 and 7 (issue "migration engine", Tests): the real table-migrator against
// pegasus-sim + ZooKeeper under a writer. A drain that cannot finish in --max-deny-seconds gets
// writes restored; kill -9 during the drain and a rerun completes with every acknowledged write on
// the target; SIGINT during the drain restores writes; status/abort; --json output.
// Shipping is stalled through the sim's fault control so the drain lasts as long as a test needs.
#include "scenario.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <sstream>

using namespace tablemigrator;
using namespace tablemigrator::scenarios;

namespace {

constexpr auto run_deadline = 60s;
const std::string drain_started = "t1: wait_frozen -> drain";

// Replaces the value of an option that migrate_args() set.
void set_opt(std::vector<std::string>& args, const std::string& name, const std::string& value) {
    auto it = std::find(args.begin(), args.end(), name);
    REQUIRE(it != args.end());
    REQUIRE(it + 1 != args.end());
    *(it + 1) = value;
}

// A migration that freezes at once (any backlog is below the threshold) and can only drain once
// shipping is resumed.
std::vector<std::string> stalled_args(scenario& s, const std::string& max_deny_seconds) {
    auto args = s.migrate_args("t1");
    set_opt(args, "-p", "100000000");
    set_opt(args, "--max-deny-seconds", max_deny_seconds);
    return args;
}

bool names_target(const std::string& entry) {
    return contains(entry, "\"dst\"");
}

void expect_all_acked_on_target(scenario& s, const std::string& table) {
    const auto acked = s.writer().acked(table);
    INFO(table << ": acknowledged " << acked.size());
    CHECK(acked.size() > 0);
    CHECK(s.missing_on_target(table, acked) == 0);
}

} // namespace

TEST_CASE("scenario drain timeout: a drain longer than --max-deny-seconds restores writes, keeps "
          "the duplication, exit 1") {
    scenario s;
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    auto r = s.run(stalled_args(s, "3"), "drain-timeout", run_deadline);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 1);
    CHECK(contains(r.out, "t1: drain -> restore"));
    CHECK(contains(r.out, "--max-deny-seconds"));
    CHECK(contains(r.out, "writes restored")); // the report says so, whatever the log level
    CHECK(s.deny_env("t1").empty());
    CHECK(s.duplication("t1") == sim::dup_status::log);
    CHECK_FALSE(names_target(s.entry("t1")));
}

namespace {

void interrupt_during_drain(sim::generation gen, int sig) {
    sim_options o;
    o.gen = gen;
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    auto p = s.start(stalled_args(s, "60"), "sigint");
    REQUIRE(test::wait_for_text(s.dir() / "sigint.out", drain_started, run_deadline, p.get()));
    CHECK(s.deny_env("t1") == "timeout*write");
    p->signal(sig);
    auto r = s.finish(*p, 30s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 130);
    CHECK(contains(r.err, "interrupted"));
    CHECK(contains(r.out,
                   "cancelled; writes restored")); // the report says so, whatever the log level
    CHECK(s.deny_env("t1").empty());
    CHECK(s.duplication("t1") == sim::dup_status::log);
    CHECK_FALSE(names_target(s.entry("t1")));
}

void kill_during_drain_then_rerun(sim::generation gen) {
    sim_options o;
    o.gen = gen;
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    const auto args = stalled_args(s, "60");
    {
        auto p = s.start(args, "killed");
        REQUIRE(test::wait_for_text(s.dir() / "killed.out", drain_started, run_deadline, p.get()));
        CHECK(p->kill() == 128 + SIGKILL);
    }
    // The killed run left the table frozen; nothing restored it.
    CHECK(s.deny_env("t1") == "timeout*write");
    s.stall_shipping(false);
    auto r = s.run(args, "rerun", run_deadline);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    CHECK(contains(r.out, "resumes its duplication"));
    s.writer().stop();
    CHECK(names_target(s.entry("t1")));
    CHECK(s.deny_env("t1") == "reconfig*all");
    expect_all_acked_on_target(s, "t1");
}

} // namespace

TEST_CASE("scenario SIGINT: Ctrl-C during the drain restores writes and exits 130 (master)") {
    interrupt_during_drain(sim::generation::master, SIGINT);
}

TEST_CASE("scenario SIGTERM: SIGTERM during the drain restores writes and exits 130 (2.4)") {
    interrupt_during_drain(sim::generation::v2_4, SIGTERM);
}

TEST_CASE("scenario kill -9: a rerun after kill -9 during the drain completes with every "
          "acknowledged write on the target (master)") {
    kill_during_drain_then_rerun(sim::generation::master);
}

TEST_CASE("scenario kill -9: a rerun after kill -9 during the drain completes with every "
          "acknowledged write on the target (2.4)") {
    kill_during_drain_then_rerun(sim::generation::v2_4);
}

namespace {

void status_and_abort(sim::generation gen) {
    sim_options o;
    o.gen = gen;
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    {
        auto p = s.start(stalled_args(s, "60"), "frozen");
        REQUIRE(test::wait_for_text(s.dir() / "frozen.out", drain_started, run_deadline, p.get()));
        p->kill();
    }
    REQUIRE(s.deny_env("t1") == "timeout*write");

    const auto before = s.state_changes();
    auto st = s.run({"status", "-s", s.src_metas(), "-t", "t1"}, "status", 30s);
    REQUIRE(st.exit_code.has_value());
    CHECK(*st.exit_code == 0);
    const auto status_lines = lines_with(st.out, "t1");
    REQUIRE(status_lines.size() == 1);
    CHECK(contains(status_lines.front(), "DS_LOG"));
    CHECK(contains(status_lines.front(), "backlog"));
    CHECK(contains(status_lines.front(), "writes denied"));
    CHECK(s.state_changes() == before);
    CHECK(s.deny_env("t1") == "timeout*write");

    auto ab = s.run({"abort", "-s", s.src_metas(), "-t", "t1"}, "abort", 30s);
    REQUIRE(ab.exit_code.has_value());
    CHECK(*ab.exit_code == 0);
    CHECK(contains(ab.out, "t1: writes restored"));
    CHECK(s.deny_env("t1").empty());
    CHECK(s.duplication("t1") == sim::dup_status::log);

    auto st2 = s.run({"status", "-s", s.src_metas(), "-t", "t1"}, "status2", 30s);
    REQUIRE(st2.exit_code.has_value());
    CHECK(*st2.exit_code == 0);
    CHECK(contains(st2.out, "writes allowed"));

    auto rm = s.run({"abort", "-s", s.src_metas(), "-t", "t1", "-c", "dst", "-m", s.dst_metas(),
                     "--remove-duplication"},
                    "abort-remove", 30s);
    REQUIRE(rm.exit_code.has_value());
    CHECK(*rm.exit_code == 0);
    CHECK(contains(rm.out, "removed"));
    CHECK_FALSE(s.duplication("t1").has_value());
    CHECK(s.deny_env("t1").empty());
}

} // namespace

TEST_CASE("scenario status and abort: status changes nothing; abort restores writes; "
          "--remove-duplication removes it (master)") {
    status_and_abort(sim::generation::master);
}

TEST_CASE("scenario status and abort: status shows the backlog from the replicas and changes "
          "nothing; abort restores writes (2.4)") {
    status_and_abort(sim::generation::v2_4);
}

TEST_CASE("scenario --json: every stdout line is a JSON object and the last one is the report "
          "(2.5, two tables, switched)") {
    sim_options o;
    o.gen = sim::generation::v2_5;
    o.tables = {{"t1", 4, 1}, {"t2", 2, 1}};
    scenario s(o);
    s.put_entries({"t1", "t2"});
    s.start_writer({"t1", "t2"});
    auto args = s.migrate_args("t1,t2");
    args.push_back("--json");
    auto r = s.run(args, "json", run_deadline);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    s.writer().stop();

    const auto lines = test::split_lines(r.out);
    REQUIRE(lines.size() >= 2);
    std::set<std::string> events;
    boost::json::value last;
    for (const auto& l : lines) {
        CAPTURE(l);
        boost::system::error_code ec;
        auto v = boost::json::parse(l, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(v.is_object());
        REQUIRE(v.as_object().contains("event"));
        events.insert(std::string(v.as_object().at("event").as_string()));
        last = v;
    }
    CHECK(events.count("preflight") == 1);
    CHECK(events.count("phase") == 1);
    const auto& report = last.as_object();
    CHECK(report.at("event").as_string() == "report");
    CHECK(report.at("exit_code").as_int64() == 0);
    REQUIRE(report.at("tables").as_array().size() == 2);
    for (const auto& t : report.at("tables").as_array()) {
        CHECK(t.as_object().at("outcome").as_string() == "done");
        CHECK(t.as_object().at("entry_switched").as_bool());
    }
    for (const std::string t : {"t1", "t2"}) {
        CHECK(names_target(s.entry(t)));
        expect_all_acked_on_target(s, t);
    }
}

TEST_CASE(
    "scenario --json: a refused preflight still gives JSON lines only, ending with the report") {
    scenario s;
    s.put_entries({"t1"});
    auto args = s.migrate_args("t1,nosuch");
    args.push_back("--json");
    auto r = s.run(args, "json-refused", 30s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 2);
    const auto lines = test::split_lines(r.out);
    REQUIRE_FALSE(lines.empty());
    for (const auto& l : lines) {
        CAPTURE(l);
        boost::system::error_code ec;
        auto v = boost::json::parse(l, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(v.is_object());
    }
    auto last = boost::json::parse(lines.back());
    CHECK(last.as_object().at("event").as_string() == "report");
    CHECK(last.as_object().at("exit_code").as_int64() == 2);
    CHECK(s.state_changes() == 0);
}

TEST_CASE(
    "scenario SIGINT before the freeze: the run stops with exit 130 and writes were never denied") {
    scenario s;
    s.put_entries({"t1"});
    auto p = s.start(s.migrate_args("t1"), "early");
    REQUIRE(test::wait_for_text(s.dir() / "early.out", "t1: duplicate -> wait_log", run_deadline,
                                p.get()));
    p->signal(SIGINT);
    auto r = s.finish(*p, 30s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 130);
    CHECK(contains(r.out, "t1: wait_log -> aborted"));
    CHECK(s.deny_env("t1").empty());
    CHECK(s.sim().on_sim([&] {
        return s.sim().sim().cluster("src").state_changing_requests["RPC_CM_UPDATE_APP_ENV"];
    }) == 0);
}

TEST_CASE("scenario second Ctrl-C: exits at once, names the table that may still be denied, and "
          "the command it prints restores it") {
    scenario s;
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    auto p = s.start(stalled_args(s, "60"), "twice");
    REQUIRE(test::wait_for_text(s.dir() / "twice.out", drain_started, run_deadline, p.get()));
    // The restore's reply is held back, so the table is still being restored at the second signal.
    s.sim().on_sim([&] {
        s.sim().sim().server().set_reply_fault("RPC_CM_UPDATE_APP_ENV",
                                               sim::reply_fault{20s, false});
        return 0;
    });
    p->signal(SIGINT);
    REQUIRE(test::wait_for_text(s.dir() / "twice.out", "t1: drain -> restore", 10s, p.get()));
    std::this_thread::sleep_for(200ms);
    p->signal(SIGINT);
    auto r = s.finish(*p, 5s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 130);
    const auto lines = lines_with(r.err, "WRITES MAY STILL BE DENIED on table t1");
    REQUIRE(lines.size() == 1);
    const auto at = lines.front().find("run table-migrator ");
    REQUIRE(at != std::string::npos);
    // The sim applied the delete before holding its reply back; make the table frozen again, as
    // when the delete never reached the meta, so the printed command has something to restore.
    s.sim().on_sim([&] {
        s.sim().sim().server().set_reply_fault("RPC_CM_UPDATE_APP_ENV", std::nullopt);
        auto* t = s.sim().sim().cluster("src").find_table("t1");
        t->envs["replica.deny_client_request"] = "timeout*write";
        ++t->envs_version;
        return 0;
    });
    // Run exactly what it printed (word-split; no quoting is needed for these arguments).
    std::vector<std::string> args;
    std::istringstream words(lines.front().substr(at + 19));
    for (std::string w; words >> w;)
        args.push_back(w);
    // Every source meta is in it: the first one may be the one that is down.
    CHECK(args == std::vector<std::string>{"abort", "-s", s.src_metas(), "-t", "t1"});
    auto ab = s.run(args, "printed-abort", 30s);
    REQUIRE(ab.exit_code.has_value());
    CHECK(*ab.exit_code == 0);
    CHECK(contains(ab.out, "t1: writes restored"));
    CHECK(s.deny_env("t1").empty());
}

TEST_CASE("scenario --timeout: the run's own deadline cancels the drain, restores writes and exits "
          "1 (not 130)") {
    scenario s;
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    auto args = stalled_args(s, "60");
    args.push_back("--timeout");
    args.push_back("6");
    auto r = s.run(args, "timeout", run_deadline);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 1);
    CHECK(contains(r.out, "--timeout reached"));
    CHECK(contains(r.out, "writes restored"));
    CHECK(s.deny_env("t1").empty());
    CHECK(s.duplication("t1") == sim::dup_status::log);
}

TEST_CASE("scenario without -r: the table drains, writes stay denied on the source, and the manual "
          "step is printed") {
    sim_options o;
    o.gen = sim::generation::v2_5;
    scenario s(o);
    s.start_writer({"t1"});
    auto args = s.base_args("t1");
    for (const char* a : {"-p", "100", "--max-deny-seconds", "30"})
        args.push_back(a);
    auto r = s.run(args, "no-switch", run_deadline);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    CHECK(contains(r.out, "t1: point its clients at cluster dst"));
    CHECK(s.deny_env("t1") == "timeout*write");
    // Frozen and drained: everything the source acknowledged is on the target.
    s.writer().stop();
    expect_all_acked_on_target(s, "t1");
}
