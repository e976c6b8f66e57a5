// Scenarios 1 and 8 (issues "migration engine" and "reliability"): preflight failures and bad
// input. The real table-migrator runs against pegasus-sim + ZooKeeper; each case must end with
// exit 2, say what is wrong on one stderr line, and send no state-changing request to either
// cluster (pegasus-sim counts UPDATE_APP_ENV, ADD/MODIFY_DUPLICATION and CREATE_APP).
#include "scenario.hpp"

using namespace tablemigrator;
using namespace tablemigrator::scenarios;

namespace {

// Non-empty lines of stderr.
std::vector<std::string> err_lines(const run_result& r) {
    std::vector<std::string> out;
    for (auto& l : test::split_lines(r.err))
        if (!l.empty())
            out.push_back(l);
    return out;
}

// The common expectation of every case: exit 2, one line on stderr naming `what`, nothing changed.
void expect_refused(scenario& s, const run_result& r, const std::string& what) {
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 2);
    const auto lines = err_lines(r);
    CHECK(lines.size() == 1);
    if (!lines.empty()) {
        CHECK(lines.front().rfind("table-migrator: ", 0) == 0);
        CHECK_MESSAGE(contains(lines.front(), what), "stderr line does not name '" << what << "'");
    }
    CHECK(s.state_changes() == 0);
}

} // namespace

TEST_CASE("scenario preflight: a table with data_version 0 is refused and nothing changes") {
    sim_options o;
    o.tables = {{"t1", 4, 0}};
    scenario s(o);
    s.put_entries({"t1"});
    auto r = s.run(s.migrate_args("t1"), "dv0");
    expect_refused(s, r, "'t1'");
    CHECK(contains(r.err, "data_version"));
    CHECK_FALSE(s.duplication("t1").has_value());
    CHECK(s.deny_env("t1").empty());
}

TEST_CASE(
    "scenario preflight: a target table of the same name that is not our follower is refused") {
    sim_options o;
    o.target_tables = {{"t1", 4, 1}};
    scenario s(o);
    s.put_entries({"t1"});
    auto r = s.run(s.migrate_args("t1"), "target-exists");
    expect_refused(s, r, "'t1'");
    CHECK(contains(r.err, "not the follower"));
    CHECK_FALSE(s.duplication("t1").has_value());
}

TEST_CASE("scenario preflight: -c not matching the target's cluster name is refused") {
    scenario s;
    s.put_entries({"t1"});
    auto args = s.migrate_args("t1");
    const auto c = std::find(args.begin(), args.end(), "-c");
    REQUIRE(c != args.end());
    *(c + 1) = "elsewhere";
    auto r = s.run(args, "wrong-c");
    expect_refused(s, r, "'elsewhere'");
    CHECK(contains(r.err, "'dst'"));
}

TEST_CASE(
    "scenario preflight: an unknown table is refused, named, and the known ones are untouched") {
    scenario s;
    s.put_entries({"t1"});
    auto r = s.run(s.migrate_args("t1,nosuch"), "unknown");
    expect_refused(s, r, "'nosuch'");
    CHECK(contains(r.err, "does not exist"));
    CHECK_FALSE(s.duplication("t1").has_value());
}

TEST_CASE("scenario preflight: source and target being the same cluster by name is refused") {
    scenario s;
    s.put_entries({"t1"});
    // Another spelling of the same metas gets past the address check; the cluster names must not.
    std::string other = s.src_metas();
    for (std::string::size_type at; (at = other.find("127.0.0.1")) != std::string::npos;)
        other.replace(at, 9, "localhost");
    auto r = s.run(
        {"-s", s.src_metas(), "-t", "t1", "-c", "src", "-m", other, "--state-file", s.state_file()},
        "same-cluster");
    expect_refused(s, r, "same cluster");
}

TEST_CASE("scenario bad input: each mistake gets one line on stderr, exit 2, and no change") {
    scenario s;
    s.put_entries({"t1"});
    const std::string src = s.src_metas(), dst = s.dst_metas();
    const std::string unreadable = (s.dir() / "no-such-config.toml").string();
    struct bad_case {
        std::string name;
        std::vector<std::string> args;
        std::string says; // the stderr line must contain this
    };
    const std::vector<bad_case> cases{
        {"a table listed twice",
         {"-s", src, "-t", "t1,t1", "-c", "dst", "-m", dst},
         "listed twice"},
        {"an empty -t", {"-s", src, "-t", "", "-c", "dst", "-m", dst}, "empty table name"},
        {"a missing -t", {"-s", src, "-c", "dst", "-m", dst}, "-t/--table"},
        {"a malformed source address",
         {"-s", "127.0.0.1", "-t", "t1", "-c", "dst", "-m", dst},
         "not host:port"},
        {"a malformed target port",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", "127.0.0.1:99999"},
         "invalid port"},
        {"the same address as source and target",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", src},
         "same cluster"},
        {"-m without -c", {"-s", src, "-t", "t1", "-m", dst}, "without -c"},
        {"-c without -m", {"-s", src, "-t", "t1", "-c", "dst"}, "without -m"},
        {"a negative threshold",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", dst, "-p", "-5"},
         "'-5'"},
        {"a negative threshold (long form)",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", dst, "--threshold=-5"},
         "'-5'"},
        {"a non-numeric threshold",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", dst, "-p", "lots"},
         "'lots'"},
        {"an unreadable --config",
         {"--config", unreadable, "-s", src, "-t", "t1", "-c", "dst", "-m", dst},
         unreadable},
        {"-r without a leading '/'",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", dst, "-r", "proxy"},
         "'proxy'"},
        {"an unknown table", {"-s", src, "-t", "nosuch", "-c", "dst", "-m", dst}, "'nosuch'"},
        // Retries are logged at debug level only: at the default level the verdict is the one line.
        {"an unresolvable source address",
         {"-s", "no-such-host.invalid:34601", "-t", "t1", "-c", "dst", "-m", dst},
         "no-such-host.invalid:34601"},
        {"an unresolvable target address",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", "no-such-host.invalid:34601"},
         "no-such-host.invalid:34601"},
        {"a source meta where nothing listens",
         {"-s", "127.0.0.1:1", "-t", "t1", "-c", "dst", "-m", dst},
         "source cluster unreachable (no meta of 127.0.0.1:1"},
        {"target metas where nothing listens",
         {"-s", src, "-t", "t1", "-c", "dst", "-m", "127.0.0.1:1,127.0.0.1:2"},
         "target cluster unreachable (no meta of 127.0.0.1:1,127.0.0.1:2"},
    };
    int n = 0;
    for (const auto& c : cases) {
        CAPTURE(c.name);
        auto args = c.args;
        args.push_back("--state-file");
        args.push_back(s.state_file());
        auto r = s.run(args, "bad" + std::to_string(++n), 30s);
        expect_refused(s, r, c.says);
    }
}

TEST_CASE("scenario --dry-run: the plan is printed, exit 0, and nothing changes") {
    scenario s;
    s.put_entries({"t1"});
    auto args = s.migrate_args("t1");
    args.push_back("--dry-run");
    auto r = s.run(args, "dry-run", 30s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    CHECK(contains(r.out, "plan t1: app_id 1, 4 partitions"));
    CHECK(s.state_changes() == 0);
    CHECK_FALSE(s.duplication("t1").has_value());
    CHECK(s.update_config_requests() == 0);
}

TEST_CASE("scenario status and abort: an unreachable source is one line and exit 2, within seconds") {
    scenario s;
    for (const std::string verb : {"status", "abort"}) {
        CAPTURE(verb);
        std::vector<std::string> args{verb, "-s", "127.0.0.1:1", "-t", "t1"};
        if (verb == "abort") // abort restores what a crashed --fast-cutover run left: it reads the state file
            args.insert(args.end(), {"--state-file", s.state_file()});
        auto r = s.run(args, verb + "-unreachable", 30s);
        expect_refused(s, r, "source cluster unreachable (no meta of 127.0.0.1:1");
    }
}
