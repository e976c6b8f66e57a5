// The migration rehearsal as an operator runs it, every part a process except the simulated
// clusters: pegasus-load writes three tables of different sizes through MetaProxy (ZooKeeper),
// table-migrator migrates and switches them at once, pegasus-load follows the switch, and
// `pegasus-load verify` must find every acknowledged write on the cluster now serving each table.
#include "scenario.hpp"

#include <csignal>

using namespace tablemigrator;
using namespace tablemigrator::scenarios;

namespace {

std::filesystem::path pegasus_load_exe() {
    const char* p = std::getenv("PEGASUS_LOAD");
    REQUIRE_MESSAGE(p != nullptr,
                    "PEGASUS_LOAD must name the pegasus-load executable (meson sets it)");
    return p;
}

void rehearsal(sim::generation gen) {
    sim_options o;
    o.gen = gen;
    o.tables = {{"small", 2, 1}, {"medium", 4, 1}, {"large", 8, 1}};
    scenario s(o);
    const std::vector<std::string> tables{"small", "medium", "large"};
    s.put_entries(tables);
    const std::string zk = shared_zk().connect_string();
    const auto record = s.dir() / "load.record";

    test::process_options lo;
    lo.args = {"run",
               "--zk",
               zk,
               "--root",
               s.root(),
               "--tables",
               "small,medium,large",
               "--rate",
               "100",
               "--record",
               record.string(),
               "--progress-ms",
               "0",
               "--log-level",
               "warn"};
    lo.stdout_file = s.dir() / "load.out";
    lo.stderr_file = s.dir() / "load.err";
    test::child_process load(pegasus_load_exe(), lo);
    // Writes are under way before the migration starts.
    REQUIRE(test::wait_for_text(record, "ack large", 20s, &load));

    auto r = s.run(s.migrate_args("small,medium,large"), "migrate", 90s);
    REQUIRE(r.exit_code.has_value());
    CHECK(*r.exit_code == 0);
    for (const auto& t : tables) {
        CHECK(contains(s.entry(t), "\"dst\""));
        CHECK(s.deny_env(t) == "reconfig*all");
    }
    // Let the writer follow the switch and write on the target for a moment.
    std::this_thread::sleep_for(1s);
    load.signal(SIGINT);
    const auto load_exit = load.wait_for(30s);
    INFO("pegasus-load run:\n" << load.stdout_text() << load.stderr_text());
    REQUIRE(load_exit.has_value());
    CHECK(*load_exit == 0);
    CHECK(contains(test::read_text_file(record), " dst "));

    test::process_options vo;
    vo.args = {"verify",        "--zk",        zk,    "--root", s.root(), "--record",
               record.string(), "--log-level", "warn"};
    vo.stdout_file = s.dir() / "verify.out";
    vo.stderr_file = s.dir() / "verify.err";
    test::child_process verify(pegasus_load_exe(), vo);
    const auto verify_exit = verify.wait_for(60s);
    const std::string out = verify.stdout_text();
    INFO("pegasus-load verify:\n" << out << verify.stderr_text());
    REQUIRE(verify_exit.has_value());
    CHECK(*verify_exit == 0);
    for (const auto& t : tables) {
        const auto lines = lines_with(out, "verify " + t + ":");
        REQUIRE(lines.size() == 1);
        CHECK(contains(lines.front(), "missing 0"));
        CHECK_FALSE(contains(lines.front(), "acknowledged 0,"));
    }
    CHECK(s.sim().on_sim([&] { return s.sim().sim().cluster("src").routing_violations.size(); }) ==
          0);
}

} // namespace

TEST_CASE("scenario rehearsal: pegasus-load + table-migrator + verify, three tables switched "
          "together, missing 0 (master)") {
    rehearsal(sim::generation::master);
}

TEST_CASE("scenario rehearsal: pegasus-load + table-migrator + verify, three tables switched "
          "together, missing 0 (2.4)") {
    rehearsal(sim::generation::v2_4);
}

TEST_CASE("scenario rehearsal: pegasus-load + table-migrator + verify, three tables switched "
          "together, missing 0 (2.5)") {
    rehearsal(sim::generation::v2_5);
}
