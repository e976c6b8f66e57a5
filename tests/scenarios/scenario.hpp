// Scenario test support: pegasus-sim in this process (two clusters "src" and "dst", shortened
// timings, ground truth read straight from the model), a real ZooKeeper shared by the test
// executable, a writer that records every acknowledged write, and the REAL table-migrator binary
// run as a child process (its path comes from the TABLE_MIGRATOR environment variable).
#pragma once

#include "sim/sim_fixture.hpp"

#include <tablemigrator/wire/key.hpp>
#include <tablemigrator/zk/client.hpp>

#include <support/process.hpp>
#include <support/run_coro.hpp>
#include <support/zk_server.hpp>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

namespace tablemigrator::scenarios {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline std::filesystem::path table_migrator_exe() {
    const char* p = std::getenv("TABLE_MIGRATOR");
    REQUIRE_MESSAGE(p != nullptr,
                    "TABLE_MIGRATOR must name the table-migrator executable (meson sets it)");
    return p;
}

// One ZooKeeper server for the whole executable (the JVM takes a while to start); each test
// case uses its own MetaProxy root.
inline test::zk_server& shared_zk() {
    static test::zk_server zk;
    return zk;
}

inline std::string unique_root() {
    static int n = 0;
    return "/proxy" + std::to_string(++n);
}

struct table_spec {
    std::string name;
    std::int32_t partitions = 4;
    int data_version = 1;
};

struct sim_options {
    sim::generation gen = sim::generation::master;
    std::vector<table_spec> tables{{"t1", 4, 1}};
    std::vector<table_spec> target_tables; // tables that already exist on the target
    std::string target_name = "dst";
    std::chrono::milliseconds config_sync{300};
    std::chrono::milliseconds checkpoint_copy{300}; // how long a new duplication stays before DS_LOG
};

inline sim::sim_config make_config(const sim_options& o, const std::string& zk) {
    sim::sim_config cfg;
    auto make = [&](const std::string& name) {
        sim::cluster_config c;
        c.name = name;
        c.gen = o.gen;
        c.meta_ports = {0, 0};
        c.replica_ports = {0, 0, 0};
        c.zookeeper_hosts = zk;
        c.duplication_group = {{"src", 1}, {o.target_name, 2}};
        c.timing.config_sync_interval = o.config_sync;
        c.timing.duplication_sync_period = 200ms;
        c.timing.perf_counter_interval = 200ms;
        c.timing.checkpoint_copy_duration = o.checkpoint_copy;
        c.timing.shipping_rate = 2000;
        c.timing.group_check_interval = 300ms;
        c.timing.meta_persist_throttle = 100ms;
        c.timing.failure_detection = 2000ms;
        return c;
    };
    auto src = make("src");
    src.remote_clusters[o.target_name] = "";
    for (const auto& t : o.tables) {
        sim::table_config tc;
        tc.name = t.name;
        tc.partition_count = t.partitions;
        tc.data_version = t.data_version;
        src.tables.push_back(tc);
    }
    auto dst = make(o.target_name);
    for (const auto& t : o.target_tables) {
        sim::table_config tc;
        tc.name = t.name;
        tc.partition_count = t.partitions;
        dst.tables.push_back(tc);
    }
    cfg.clusters.push_back(src);
    cfg.clusters.push_back(dst);
    return cfg;
}

// Writes keys through the model wherever the partition's primary node does not deny writes (as a
// real primary would answer), and records each acknowledged key.
class model_writer {
public:
    model_writer(sim::test::sim_fixture& f, std::vector<std::string> tables)
        : f_(f)
        , tables_(std::move(tables)) {
        thread_ = std::thread([this] { loop(); });
    }
    ~model_writer() { stop(); }
    void stop() {
        if (running_.exchange(false))
            thread_.join();
    }
    std::vector<std::string> acked(const std::string& table) const {
        std::lock_guard lock(mutex_);
        auto it = acked_.find(table);
        return it == acked_.end() ? std::vector<std::string>{} : it->second;
    }

private:
    void loop() {
        std::int64_t seq = 0;
        while (running_) {
            for (const auto& table : tables_) {
                const std::string hash = table + "-" + std::to_string(seq);
                auto key_bytes = wire::encode_full_key(hash, "s");
                if (!key_bytes)
                    continue;
                const std::string key(key_bytes->begin(), key_bytes->end());
                const bool ok = f_.on_sim([&] {
                    auto& c = f_.sim().cluster("src");
                    auto* t = c.find_table(table);
                    const auto pidx = wire::partition_index(wire::crc64(hash), t->partition_count);
                    const int node = t->partitions.at(static_cast<std::size_t>(pidx)).primary;
                    const auto& n = c.nodes.at(static_cast<std::size_t>(node));
                    if (!n.alive)
                        return false;
                    if (auto a = n.applied.find(t->app_id);
                        a != n.applied.end() && a->second.deny.writes)
                        return false;
                    sim::write_op op;
                    op.key = key;
                    op.value = "v" + std::to_string(seq);
                    c.apply_write(*t, pidx, "RPC_RRDB_RRDB_PUT", {op}, key.size() + 8);
                    return true;
                });
                if (ok) {
                    std::lock_guard lock(mutex_);
                    acked_[table].push_back(key);
                }
            }
            ++seq;
            std::this_thread::sleep_for(5ms);
        }
    }

    sim::test::sim_fixture& f_;
    std::vector<std::string> tables_;
    std::atomic<bool> running_{true};
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> acked_;
    std::thread thread_;
};

struct run_result {
    std::optional<int> exit_code; // nullopt: did not finish before the deadline (then killed)
    std::string out;
    std::string err;
};

class scenario {
public:
    explicit scenario(sim_options o = {})
        : opts_(std::move(o))
        , dir_(test::make_temp_dir("tm-scenario"))
        , sim_(make_config(opts_, shared_zk().connect_string())) {
        src_metas_ = sim_.on_sim([&] { return sim_.sim().cluster("src").meta_list(); });
        dst_metas_ = sim_.on_sim([&] { return sim_.sim().cluster(opts_.target_name).meta_list(); });
    }
    ~scenario() {
        writer_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    sim::test::sim_fixture& sim() { return sim_; }
    const std::string& src_metas() const { return src_metas_; }
    const std::string& dst_metas() const { return dst_metas_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::string state_file() const { return (dir_ / "state.json").string(); }
    const std::string& root() const { return root_; }

    // -s/-t/-c/-m and the state file; callers add the rest.
    std::vector<std::string> base_args(const std::string& tables) const {
        return {"-s", src_metas_, "-t",           tables,      "-c", opts_.target_name,
                "-m", dst_metas_, "--state-file", state_file()};
    }
    // A migration with the MetaProxy switch, short timings and a generous deny bound.
    std::vector<std::string> migrate_args(const std::string& tables) const {
        auto a = base_args(tables);
        for (const char* s : {"-r", root_.c_str(), "-p", "100", "--config-sync-interval-ms", "300",
                              "--max-deny-seconds", "30", "--log-level", "info"})
            a.push_back(s);
        return a;
    }

    // Starts table-migrator; output goes to files named after `tag` in the scenario's directory.
    std::unique_ptr<test::child_process> start(std::vector<std::string> args,
                                               const std::string& tag) {
        test::process_options o;
        o.args = std::move(args);
        o.stdout_file = dir_ / (tag + ".out");
        o.stderr_file = dir_ / (tag + ".err");
        o.cwd = dir_;
        return std::make_unique<test::child_process>(table_migrator_exe(), std::move(o));
    }

    run_result finish(test::child_process& p, std::chrono::milliseconds deadline) {
        run_result r;
        r.exit_code = p.wait_for(deadline);
        if (!r.exit_code)
            p.kill();
        r.out = p.stdout_text();
        r.err = p.stderr_text();
        MESSAGE("table-migrator " << join(p.options().args) << "\n  exit "
                                  << (r.exit_code ? std::to_string(*r.exit_code) : "DEADLINE")
                                  << "\n--- stdout\n"
                                  << r.out << "--- stderr\n"
                                  << r.err);
        return r;
    }

    run_result run(std::vector<std::string> args, const std::string& tag,
                   std::chrono::milliseconds deadline = 60s) {
        auto p = start(std::move(args), tag);
        return finish(*p, deadline);
    }

    // ---- ground truth -----------------------------------------------------------------------

    // UPDATE_APP_ENV, ADD/MODIFY_DUPLICATION (and the target's CREATE_APP) on both clusters.
    std::int64_t state_changes() {
        return sim_.on_sim([&] {
            std::int64_t n = 0;
            for (const char* c : {"src", opts_.target_name.c_str()})
                for (const auto& [rpc, count] : sim_.sim().cluster(c).state_changing_requests)
                    n += count;
            return n;
        });
    }

    // The source meta's replica.deny_client_request for the table ("" = not set).
    std::string deny_env(const std::string& table) {
        return sim_.on_sim([&] {
            auto* t = sim_.sim().cluster("src").find_table(table);
            REQUIRE(t != nullptr);
            auto it = t->envs.find("replica.deny_client_request");
            return it == t->envs.end() ? std::string() : it->second;
        });
    }

    // Status of the table's duplication to the target, nullopt when there is none.
    std::optional<sim::dup_status> duplication(const std::string& table) {
        return sim_.on_sim([&]() -> std::optional<sim::dup_status> {
            auto& c = sim_.sim().cluster("src");
            auto* t = c.find_table(table);
            REQUIRE(t != nullptr);
            for (const auto& [id, d] : c.dups)
                if (d.app_id == t->app_id && d.remote_cluster == opts_.target_name)
                    return d.status;
            return std::nullopt;
        });
    }

    // How many duplications of the table to the target exist (any status but removed).
    int duplication_count(const std::string& table) {
        return sim_.on_sim([&] {
            auto& c = sim_.sim().cluster("src");
            auto* t = c.find_table(table);
            REQUIRE(t != nullptr);
            int n = 0;
            for (const auto& [id, d] : c.dups)
                if (d.app_id == t->app_id && d.remote_cluster == opts_.target_name &&
                    d.status != sim::dup_status::removed)
                    ++n;
            return n;
        });
    }

    // Sets an env of a source table directly in the sim's model (emulates what an earlier run left).
    void set_env(const std::string& table, const std::string& key, const std::string& value) {
        sim_.on_sim([&] {
            auto* t = sim_.sim().cluster("src").find_table(table);
            REQUIRE(t != nullptr);
            t->envs[key] = value;
            ++t->envs_version; // the nodes apply it at their next config sync
            return 0;
        });
    }

    void stall_shipping(bool stall) {
        sim_.on_sim([&] {
            sim_.sim().cluster("src").fault.stall_shipping = stall;
            return 0;
        });
    }

    // Every source replica node's current config_sync_interval_ms.
    std::vector<std::int64_t> sync_intervals() {
        return sim_.on_sim([&] {
            std::vector<std::int64_t> v;
            for (const auto& n : sim_.sim().cluster("src").nodes)
                v.push_back(
                    std::chrono::duration_cast<std::chrono::milliseconds>(n.config_sync_interval)
                        .count());
            return v;
        });
    }

    // HTTP /updateConfig requests the source replicas received.
    std::int64_t update_config_requests() {
        return sim_.on_sim([&] {
            std::int64_t n = 0;
            for (const auto& [server, secs] : sim_.sim().state().request_counts())
                for (const auto& [sec, rpcs] : secs)
                    for (const auto& [rpc, count] : rpcs)
                        if (rpc.find("/updateConfig") != std::string::npos)
                            n += count;
            return n;
        });
    }

    // Acknowledged keys of the table that the target does not hold.
    std::size_t missing_on_target(const std::string& table, const std::vector<std::string>& keys) {
        return sim_.on_sim([&] {
            auto* dt = sim_.sim().cluster(opts_.target_name).find_table(table);
            if (!dt)
                return keys.size();
            std::size_t missing = 0;
            for (const auto& key : keys) {
                bool found = false;
                for (const auto& p : dt->partitions)
                    found = found || p.data.count(key) > 0;
                if (!found)
                    ++missing;
            }
            return missing;
        });
    }

    model_writer& start_writer(std::vector<std::string> tables) {
        writer_ = std::make_unique<model_writer>(sim_, std::move(tables));
        return *writer_;
    }
    model_writer& writer() { return *writer_; }

    // ---- MetaProxy entries on the shared ZooKeeper -------------------------------------------

    void put_entries(const std::vector<std::string>& tables) {
        for (const auto& t : tables)
            zk_put(root_ + "/" + t,
                   R"({"cluster_name": "src", "meta_addrs": ")" + src_metas_ + R"("})");
    }
    std::string entry(const std::string& table) { return zk_get(root_ + "/" + table); }

private:
    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (const auto& a : v)
            s += (s.empty() ? "" : " ") + (a.empty() ? std::string("''") : a);
        return s;
    }

    void zk_put(const std::string& path, const std::string& json) {
        asio::io_context io;
        const std::string connect = shared_zk().connect_string();
        test::run_coro(io, [connect, path, json]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            auto conn = zk::client::connect(ex, connect, zk::connect_options{});
            auto c = co_await std::move(conn);
            REQUIRE(c.has_value());
            zk::create_options o;
            o.make_parents = true;
            auto cr = (*c)->create(path, json, o);
            auto r = co_await std::move(cr);
            REQUIRE(r.has_value());
            (*c)->close();
        });
    }
    std::string zk_get(const std::string& path) {
        asio::io_context io;
        const std::string connect = shared_zk().connect_string();
        return test::run_coro(io, [connect, path]() -> asio::awaitable<std::string> {
            auto ex = co_await asio::this_coro::executor;
            auto conn = zk::client::connect(ex, connect, zk::connect_options{});
            auto c = co_await std::move(conn);
            REQUIRE(c.has_value());
            auto g = (*c)->get(path);
            auto n = co_await std::move(g);
            REQUIRE(n.has_value());
            (*c)->close();
            co_return n->data;
        });
    }

    sim_options opts_;
    std::filesystem::path dir_;
    sim::test::sim_fixture sim_;
    std::string src_metas_;
    std::string dst_metas_;
    std::string root_ = unique_root();
    std::unique_ptr<model_writer> writer_;
};

// Lines of `text` containing `needle`.
inline std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    for (auto& l : test::split_lines(text))
        if (l.find(needle) != std::string::npos)
            out.push_back(l);
    return out;
}

inline bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

} // namespace tablemigrator::scenarios
