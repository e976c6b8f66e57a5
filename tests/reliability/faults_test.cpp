// Fault scenarios at every phase of a migration (two tables, pegasus-sim + real ZooKeeper,
// shortened server timings). Each ends with check_promise(): every table switched with every
// acknowledged write on the target, or not switched with writes restored (or reported as still
// denied), and an exit code that says which.
#include "harness.hpp"

#include <doctest/doctest.h>

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

void leader_moves_at(phase p) {
    scenario s;
    s.probe().on_enter = once_at(p, [&] {
        s.move_meta_leader(src_cluster);
        s.move_meta_leader(dst_cluster);
    });
    auto r = s.run();
    CHECK(s.probe().entered(p));
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}

void interrupt_at(phase p, sim::generation gen = sim::generation::master) {
    scenario_config cfg;
    cfg.gen = gen;
    scenario s(cfg);
    s.probe().on_enter = once_at(p, [&] { s.interrupt(); });
    auto r = s.run();
    CHECK(s.probe().entered(p));
    s.check_promise(r);
    CHECK(r.exit_code == 130);
    for (const auto& t : r.tables) {
        INFO(t.table << ": " << migrate::to_string(t.outcome));
        CHECK((t.outcome == phase::aborted || t.outcome == phase::done));
        CHECK_FALSE(t.writes_may_be_denied);
    }
}

} // namespace

TEST_CASE("reliability: the meta leader moves while the duplication reaches DS_LOG") {
    leader_moves_at(phase::wait_log);
}

TEST_CASE("reliability: the meta leader moves during the backlog wait") {
    leader_moves_at(phase::wait_backlog);
}

TEST_CASE("reliability: the meta leader moves during the drain") {
    leader_moves_at(phase::drain);
}

TEST_CASE("reliability: the meta leader moves at the switch") {
    leader_moves_at(phase::switch_clients);
}

TEST_CASE("reliability: the first source meta is down from the start") {
    scenario s;
    s.stop_server(src_cluster, server_role::meta, 0);
    auto r = s.run();
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}

TEST_CASE("reliability: a replica server stopped during the backlog wait and restarted") {
    scenario s;
    s.probe().on_enter =
        once_at(phase::wait_backlog, [&] { s.stop_server(src_cluster, server_role::replica, 1); });
    auto r = s.run([](scenario& sc) {
        if (sc.probe().wait_for(phase::wait_backlog, 60s)) {
            std::this_thread::sleep_for(2s); // past failure detection: its primaries moved
            sc.restart_server(src_cluster, server_role::replica, 1);
        }
    });
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}

TEST_CASE("reliability: a replica server stopped during the drain and restarted") {
    for (auto gen : {sim::generation::master, sim::generation::v2_4}) {
        CAPTURE(static_cast<int>(gen));
        scenario_config cfg;
        cfg.gen = gen;
        scenario s(cfg);
        s.probe().on_enter =
            once_at(phase::drain, [&] { s.stop_server(src_cluster, server_role::replica, 0); });
        auto r = s.run([](scenario& sc) {
            if (sc.probe().wait_for(phase::drain, 60s)) {
                std::this_thread::sleep_for(2s);
                sc.restart_server(src_cluster, server_role::replica, 0);
            }
        });
        s.check_promise(r);
        CHECK(all_done(r));
    }
}

TEST_CASE(
    "reliability: shipping stalls, the drain exceeds --max-deny-seconds, writes are restored, "
    "and a rerun completes") {
    scenario_config cfg;
    cfg.max_deny = 3s;
    scenario s(cfg);
    s.probe().on_enter = once_at(phase::freeze, [&] { s.stall_shipping(true); });
    auto r = s.run();
    CHECK(s.check_promise(r) == 0);
    CHECK(r.exit_code == 1);
    for (const auto& t : r.tables) {
        CHECK(t.outcome == phase::failed);
        CHECK_FALSE(t.writes_may_be_denied);
    }
    // The duplications are kept, so a rerun resumes and finishes once shipping flows again.
    const auto dups = s.sim().on_sim([&] { return s.sim().sim().cluster("src").dups.size(); });
    CHECK(dups == 2);
    s.stall_shipping(false);
    s.options().max_deny = 20s;
    auto again = s.run();
    CHECK(s.check_promise(again) == 2);
    CHECK(again.exit_code == 0);
    CHECK(s.sim().on_sim([&] { return s.sim().sim().cluster("src").dups.size(); }) == 2);
}

TEST_CASE("reliability: interrupted while waiting for DS_LOG") {
    interrupt_at(phase::wait_log);
}

TEST_CASE("reliability: interrupted during the backlog wait") {
    interrupt_at(phase::wait_backlog);
}

TEST_CASE("reliability: interrupted right after the freeze request") {
    interrupt_at(phase::wait_frozen);
}

TEST_CASE("reliability: interrupted during the drain restores writes (master and 2.4)") {
    interrupt_at(phase::drain);
    interrupt_at(phase::drain, sim::generation::v2_4);
}

TEST_CASE("reliability: interrupted at the switch") {
    interrupt_at(phase::switch_clients);
}

TEST_CASE("reliability: a run that dies in the drain (abandoned engine) is completed by a rerun") {
    scenario s;
    REQUIRE(s.run_and_abandon(phase::drain));
    // The crashed run left the source frozen; the rerun resumes the drain and switches.
    const std::string env = s.sim().on_sim([&] {
        return s.sim().sim().cluster("src").find_table("t1")->envs["replica.deny_client_request"];
    });
    CHECK(env == "timeout*write");
    auto r = s.run();
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}

TEST_CASE("reliability: a run that dies as the switch starts is completed by a rerun") {
    scenario s;
    REQUIRE(s.run_and_abandon(phase::switch_clients));
    auto r = s.run();
    CHECK(s.check_promise(r) == 2);
    CHECK(r.exit_code == 0);
}
