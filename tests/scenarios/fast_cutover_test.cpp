// Scenario 5 (issue "migration engine", Tests): with --fast-cutover, every source node's
// config_sync_interval_ms is lowered during the run and back to its original value after a
// failure, after SIGINT, and after kill -9 followed by a rerun that completes (the state file).
// On 2.4 the run warns, changes no node's period and takes the normal path.
#include "scenario.hpp"

#include <csignal>

using namespace tablemigrator;
using namespace tablemigrator::scenarios;

namespace {

constexpr std::int64_t original_ms = 1000;
constexpr std::int64_t fast_ms = 200;
constexpr auto run_deadline = 60s;
const std::string drain_started = "t1: wait_frozen -> drain";

void set_opt(std::vector<std::string>& args, const std::string& name, const std::string& value) {
    auto it = std::find(args.begin(), args.end(), name);
    REQUIRE(it != args.end());
    REQUIRE(it + 1 != args.end());
    *(it + 1) = value;
}

std::vector<std::string> fast_args(scenario& s, const std::string& max_deny_seconds) {
    auto args = s.migrate_args("t1");
    set_opt(args, "-p", "100000000"); // freeze at once; shipping is stalled by the test
    set_opt(args, "--max-deny-seconds", max_deny_seconds);
    args.push_back("--fast-cutover=" + std::to_string(fast_ms));
    return args;
}

bool all_equal(const std::vector<std::int64_t>& v, std::int64_t x) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [x](std::int64_t y) { return y == x; });
}

// Polls the nodes while the child runs: true once every node was seen at the lowered period.
bool lowered_while_running(scenario& s, test::child_process& p, const std::string& until_text,
                           const std::filesystem::path& out) {
    bool seen = false;
    const auto deadline = std::chrono::steady_clock::now() + run_deadline;
    while (std::chrono::steady_clock::now() < deadline && p.running()) {
        seen = seen || all_equal(s.sync_intervals(), fast_ms);
        if (!until_text.empty() && contains(test::read_text_file(out), until_text))
            break;
        std::this_thread::sleep_for(20ms);
    }
    return seen || all_equal(s.sync_intervals(), fast_ms);
}

void fast_cutover_story(sim::generation gen) {
    sim_options o;
    o.gen = gen;
    o.config_sync = std::chrono::milliseconds(original_ms);
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    REQUIRE(all_equal(s.sync_intervals(), original_ms));
    s.stall_shipping(true);

    {
        INFO("a drain that exceeds --max-deny-seconds");
        auto p = s.start(fast_args(s, "4"), "fail");
        CHECK(lowered_while_running(s, *p, "", s.dir() / "fail.out"));
        auto r = s.finish(*p, run_deadline);
        REQUIRE(r.exit_code.has_value());
        CHECK(*r.exit_code == 1);
        CHECK(all_equal(s.sync_intervals(), original_ms));
        CHECK_FALSE(std::filesystem::exists(s.state_file()));
        CHECK(s.deny_env("t1").empty());
    }
    {
        INFO("SIGINT during the drain");
        auto p = s.start(fast_args(s, "60"), "sigint");
        CHECK(lowered_while_running(s, *p, drain_started, s.dir() / "sigint.out"));
        REQUIRE(test::wait_for_text(s.dir() / "sigint.out", drain_started, run_deadline, p.get()));
        CHECK(all_equal(s.sync_intervals(), fast_ms));
        p->signal(SIGINT);
        auto r = s.finish(*p, 30s);
        REQUIRE(r.exit_code.has_value());
        CHECK(*r.exit_code == 130);
        CHECK(all_equal(s.sync_intervals(), original_ms));
        CHECK_FALSE(std::filesystem::exists(s.state_file()));
        CHECK(s.deny_env("t1").empty());
    }
    {
        INFO("kill -9 during the drain, then a rerun");
        const auto args = fast_args(s, "60");
        {
            auto p = s.start(args, "killed");
            REQUIRE(
                test::wait_for_text(s.dir() / "killed.out", drain_started, run_deadline, p.get()));
            p->kill();
        }
        // The crash left the nodes lowered; the state file remembers the originals.
        CHECK(all_equal(s.sync_intervals(), fast_ms));
        REQUIRE(std::filesystem::exists(s.state_file()));
        CHECK(contains(test::read_text_file(s.state_file()), std::to_string(original_ms)));
        s.stall_shipping(false);
        auto r = s.run(args, "rerun", run_deadline);
        REQUIRE(r.exit_code.has_value());
        CHECK(*r.exit_code == 0);
        CHECK(contains(r.err, "left lowered by an earlier run"));
        CHECK(all_equal(s.sync_intervals(), original_ms));
        CHECK_FALSE(std::filesystem::exists(s.state_file()));
        CHECK(s.deny_env("t1") == "reconfig*all");
        s.writer().stop();
        const auto acked = s.writer().acked("t1");
        CHECK(acked.size() > 0);
        CHECK(s.missing_on_target("t1", acked) == 0);
    }
}

} // namespace

TEST_CASE("scenario fast cutover on 2.5: periods restored after a failure, after SIGINT, and after "
          "kill -9 + rerun") {
    fast_cutover_story(sim::generation::v2_5);
}

TEST_CASE("scenario fast cutover on master: periods restored after a failure, after SIGINT, and "
          "after kill -9 + rerun") {
    fast_cutover_story(sim::generation::master);
}

TEST_CASE("scenario fast cutover on 2.4: the run warns, changes no period and completes normally") {
    sim_options o;
    o.gen = sim::generation::v2_4;
    o.config_sync = std::chrono::milliseconds(original_ms);
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    auto args = s.migrate_args("t1");
    set_opt(args, "--config-sync-interval-ms", std::to_string(original_ms));
    args.push_back("--fast-cutover=" + std::to_string(fast_ms));
    auto r = s.run(args, "v24", run_deadline);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    CHECK(contains(r.out, "--fast-cutover: 2.4 servers cannot change config_sync_interval_ms"));
    CHECK(all_equal(s.sync_intervals(), original_ms));
    CHECK(s.update_config_requests() == 0);
    s.writer().stop();
    const auto acked = s.writer().acked("t1");
    CHECK(acked.size() > 0);
    CHECK(s.missing_on_target("t1", acked) == 0);
}

TEST_CASE("scenario fast cutover: abort after kill -9 restores writes and the recorded config-sync "
          "periods (2.5)") {
    sim_options o;
    o.gen = sim::generation::v2_5;
    o.config_sync = std::chrono::milliseconds(original_ms);
    scenario s(o);
    s.put_entries({"t1"});
    s.start_writer({"t1"});
    s.stall_shipping(true);
    {
        auto p = s.start(fast_args(s, "60"), "killed");
        REQUIRE(test::wait_for_text(s.dir() / "killed.out", drain_started, run_deadline, p.get()));
        p->kill();
    }
    REQUIRE(all_equal(s.sync_intervals(), fast_ms));
    REQUIRE(s.deny_env("t1") == "timeout*write");
    auto r = s.run({"abort", "-s", s.src_metas(), "-t", "t1", "--state-file", s.state_file()},
                   "abort", 30s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    CHECK(s.deny_env("t1").empty());
    CHECK(all_equal(s.sync_intervals(), original_ms));
    CHECK_FALSE(std::filesystem::exists(s.state_file()));
}
