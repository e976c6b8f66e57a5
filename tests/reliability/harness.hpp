// Fault-injection harness of the reliability suite: pegasus-sim (source "src", target "dst") in
// process, a real ZooKeeper holding the MetaProxy entries, a writer, and the engine on the test's
// thread with an observer that fires faults when a table enters a phase. check_promise() asserts
// the operator promise: every table either switched with every acknowledged write on the target,
// or not switched with writes restored (or plainly reported as still denied).
#pragma once

#include "sim/sim_fixture.hpp"

#include <tablemigrator/migrate/engine.hpp>

#include <support/zk_server.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tablemigrator::reliability {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using migrate::phase;

inline constexpr int src_cluster = 0; // index in the sim config
inline constexpr int dst_cluster = 1;

struct scenario_config {
    sim::generation gen = sim::generation::master;
    std::vector<std::pair<std::string, int>> tables{{"t1", 4}, {"t2", 2}};
    std::chrono::milliseconds max_deny = 20s;
    std::chrono::milliseconds failure_detection = 1000ms; // a stopped replica's primaries move
    test::zk_server_options zk;
};

// Writes keys through the model while the partition's primary is up and does not deny writes (a
// real client's write would time out otherwise); records every acknowledged key.
class model_writer {
public:
    model_writer(sim::test::sim_fixture& f, std::vector<std::string> tables);
    ~model_writer();
    void stop();
    // Valid after stop().
    const std::map<std::string, std::vector<std::string>>& acked() const { return acked_; }

private:
    void loop();
    sim::test::sim_fixture& f_;
    std::vector<std::string> tables_;
    std::atomic<bool> running_{true};
    std::map<std::string, std::vector<std::string>> acked_;
    std::thread thread_;
};

// MetaProxy entries through a short-lived ZooKeeper session of their own.
struct zk_entries {
    std::string connect;
    std::string root = "/proxy";
    void put(const std::string& table, const std::string& json); // create or overwrite
    std::string get(const std::string& table);
};

// Records the phases entered; calls `on_enter` synchronously on the engine's thread, so a fault
// injected there happens before the phase's first action.
class phase_probe : public migrate::run_observer {
public:
    std::function<void(const std::string& table, phase to)> on_enter;
    void on_phase(const std::string& table, phase from, phase to,
                  const migrate::table_state& s) override;
    bool entered(phase p);
    bool wait_for(phase p, std::chrono::milliseconds deadline);

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::set<phase> entered_;
};

class scenario {
public:
    explicit scenario(scenario_config cfg = {});
    ~scenario();

    sim::test::sim_fixture& sim() { return *fixture_; }
    test::zk_server& zk() { return *zk_; }
    zk_entries& entries() { return entries_; }
    migrate::run_options& options() { return opt_; }
    phase_probe& probe() { return probe_; }
    std::string src_metas() const { return src_metas_; }
    std::string dst_metas() const { return dst_metas_; }
    const std::vector<std::string>& tables() const { return tables_; }

    // Runs the engine to its report on a fresh io_context (deadline: fails instead of hanging).
    // `during` runs on its own thread while the engine runs and may call interrupt().
    migrate::run_report run(std::function<void(scenario&)> during = {},
                            std::chrono::milliseconds deadline = 90s);
    // Runs an engine until a table enters `p`, then abandons it the way a crash (kill -9) would:
    // its io_context never runs again and nothing is cleaned up (kept reachable, never freed, so
    // leak checkers stay quiet). False when `p` was not reached within the deadline.
    bool run_and_abandon(phase p, std::chrono::milliseconds deadline = 60s);
    // Posts engine::interrupt() to the engine's thread (what SIGINT does). Only during run().
    void interrupt();
    // Stops the writer (idempotent); run() does it when the engine returns.
    void stop_writer() { writer_->stop(); }

    // Fault helpers, each executed on the simulation's thread.
    void move_meta_leader(int cluster);
    void stop_server(int cluster, sim::server_role role, int index);
    void restart_server(int cluster, sim::server_role role, int index);
    void stall_shipping(bool on);
    void reply_fault(const std::string& rpc, std::optional<sim::reply_fault> f);

    // The promise, for every table of the report. Returns the number of tables switched.
    int check_promise(const migrate::run_report& r);

private:
    scenario_config cfg_;
    std::unique_ptr<test::zk_server> zk_;
    std::unique_ptr<sim::test::sim_fixture> fixture_;
    zk_entries entries_;
    std::string src_metas_, dst_metas_;
    std::vector<std::string> tables_;
    migrate::run_options opt_;
    phase_probe probe_;
    std::unique_ptr<model_writer> writer_;
    asio::io_context* io_ = nullptr;
    migrate::engine* engine_ = nullptr;
};

std::vector<std::string> split_list(const std::string& list);

// Runs `f` once, for the first table entering `p`.
inline std::function<void(const std::string&, phase)> once_at(phase p, std::function<void()> f) {
    auto fired = std::make_shared<bool>(false);
    return [p, f = std::move(f), fired](const std::string&, phase to) {
        if (to == p && !*fired) {
            *fired = true;
            f();
        }
    };
}

} // namespace tablemigrator::reliability
