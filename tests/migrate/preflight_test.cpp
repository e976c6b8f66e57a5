// Preflight against pegasus-sim (no ZooKeeper: no -r): what it warns about and refuses, and that a
// dry run changes nothing on either cluster.
#include "sim/sim_fixture.hpp"
#include "sim_setup.hpp"

#include <tablemigrator/migrate/engine.hpp>
#include <tablemigrator/wire/key.hpp>

#include <support/run_coro.hpp>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

using namespace tablemigrator;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> v;
    std::string::size_type s = 0;
    while (true) {
        auto c = list.find(',', s);
        v.push_back(list.substr(s, c == std::string::npos ? std::string::npos : c - s));
        if (c == std::string::npos)
            return v;
        s = c + 1;
    }
}

migrate::run_options dry_run_options(sim::test::sim_fixture& f, std::vector<std::string> tables) {
    migrate::run_options opt;
    const std::string dst = f.on_sim([&] { return f.sim().cluster("dst").meta_list(); });
    opt.source_metas = split(f.on_sim([&] { return f.sim().cluster("src").meta_list(); }));
    opt.target_metas = split(dst);
    opt.target_meta_text = dst;
    opt.target_cluster = "dst";
    opt.tables = std::move(tables);
    opt.dry_run = true;
    opt.max_deny = 20s;
    opt.config_sync_interval = 300ms;
    opt.state_file.reset();
    return opt;
}

migrate::run_report run(const migrate::run_options& opt) {
    asio::io_context io;
    migrate::engine eng(io.get_executor(), opt);
    return test::run_coro(io, eng.migrate(), 30s);
}

const migrate::table_plan& plan_of(const migrate::run_report& r, const std::string& table) {
    for (const auto& t : r.preflight.tables)
        if (t.table == table)
            return t;
    FAIL("no plan for " << table);
    throw std::logic_error("unreachable");
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    for (const auto& l : lines)
        if (l.find(text) != std::string::npos)
            return true;
    return false;
}

std::int64_t state_changes(sim::test::sim_fixture& f) {
    return f.on_sim([&] {
        std::int64_t n = 0;
        for (const char* c : {"src", "dst"})
            for (const auto& [rpc, count] : f.sim().cluster(c).state_changing_requests)
                n += count;
        return n;
    });
}

// Sends one INCR to partition 0 of `table` on its primary; the sim counts it as a real server's
// storage layer would.
void send_incr(sim::test::sim_fixture& f, const std::string& table) {
    auto [port, app_id] = f.on_sim([&] {
        auto& c = f.sim().cluster("src");
        auto* t = c.find_table(table);
        return std::make_pair(c.nodes.at(static_cast<std::size_t>(t->partitions[0].primary)).port, t->app_id);
    });
    sim::test::client c(port);
    REQUIRE(c.connected());
    wire::request_header h;
    h.app_id = app_id;
    h.partition_index = 0;
    h.thread_hash = wire::thread_hash(app_id, 0);
    idl::update_request req;
    auto reply = c.call("RPC_RRDB_RRDB_INCR", req, h);
    REQUIRE(reply.has_value());
}

void non_idempotent_warning(sim::generation gen) {
    spdlog::set_level(spdlog::level::warn);
    sim::test::sim_fixture f(test::two_clusters(gen, "127.0.0.1:1"));
    // Ongoing atomic traffic: 2.4/2.5 report it as a rate over the last perf-counter interval.
    std::atomic<bool> writing{true};
    std::thread writer([&] {
        while (writing) {
            send_incr(f, "medium");
            std::this_thread::sleep_for(20ms);
        }
    });
    std::this_thread::sleep_for(500ms);
    auto r = run(dry_run_options(f, {"small", "medium"}));
    writing = false;
    writer.join();
    REQUIRE(r.preflight.ok());
    CHECK(r.exit_code == 0);
    CHECK(mentions(plan_of(r, "medium").warnings, "non-idempotent"));
    CHECK_FALSE(mentions(plan_of(r, "small").warnings, "non-idempotent"));
    CHECK(state_changes(f) == 0);
    CHECK(r.tables.empty());
}

} // namespace

TEST_CASE("preflight: a table receiving non-idempotent writes is warned about (master metrics)") {
    non_idempotent_warning(sim::generation::master);
}

TEST_CASE("preflight: a table receiving non-idempotent writes is warned about (2.4 perf counters)") {
    non_idempotent_warning(sim::generation::v2_4);
}

TEST_CASE("preflight: refusals are reported together and nothing is changed") {
    spdlog::set_level(spdlog::level::off);
    auto cfg = test::two_clusters(sim::generation::master, "127.0.0.1:1");
    sim::table_config v0;
    v0.name = "old_format";
    v0.partition_count = 4;
    v0.data_version = 0;
    cfg.clusters[0].tables.push_back(v0);
    sim::table_config taken;
    taken.name = "small"; // the target already has an unrelated table of that name
    cfg.clusters[1].tables.push_back(taken);
    sim::test::sim_fixture f(cfg);

    auto opt = dry_run_options(f, {"small", "medium", "old_format", "nosuch"});
    opt.dry_run = false; // even a real run must stop at preflight
    auto r = run(opt);
    CHECK_FALSE(r.preflight.ok());
    CHECK(r.exit_code == 2);
    CHECK(mentions(plan_of(r, "small").failures, "already has a table named 'small'"));
    CHECK(plan_of(r, "medium").failures.empty());
    CHECK(mentions(plan_of(r, "old_format").failures, "data_version 0"));
    CHECK(mentions(plan_of(r, "nosuch").failures, "does not exist"));
    CHECK(r.tables.empty());
    CHECK(state_changes(f) == 0);

    auto wrong = dry_run_options(f, {"medium"});
    wrong.target_cluster = "elsewhere";
    auto w = run(wrong);
    CHECK(w.exit_code == 2);
    CHECK(mentions(w.preflight.failures, "not 'elsewhere'"));
    CHECK(state_changes(f) == 0);
}

TEST_CASE("engine close: after the report and close(), nothing of the engine keeps the io_context busy") {
    spdlog::set_level(spdlog::level::warn);
    sim::test::sim_fixture f(test::two_clusters(sim::generation::master, "127.0.0.1:1"));
    asio::io_context io;
    migrate::engine eng(io.get_executor(), dry_run_options(f, {"small"}));
    auto r = test::run_coro(io, eng.migrate(), 30s);
    REQUIRE(r.preflight.ok());
    eng.close();
    io.restart();
    // Open sessions would keep their readers (and reconnect timers) pending: run_for would then
    // return only at its timeout with the io_context not stopped.
    io.run_for(5s);
    CHECK(io.stopped());
}
