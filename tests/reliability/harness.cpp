// The reliability harness: set-up of the two simulated clusters and ZooKeeper, the writer, the
// engine run with a side thread for faults, and the end-of-scenario promise check.
#include "harness.hpp"

#include <tablemigrator/wire/key.hpp>
#include <tablemigrator/zk/client.hpp>

#include <support/run_coro.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace tablemigrator::reliability {

namespace {

sim::sim_config two_clusters(const scenario_config& sc, const std::string& zk) {
    sim::sim_config cfg;
    auto make = [&](const std::string& name) {
        sim::cluster_config c;
        c.name = name;
        c.gen = sc.gen;
        c.meta_ports = {0, 0, 0};
        c.replica_ports = {0, 0, 0};
        c.zookeeper_hosts = zk;
        c.duplication_group = {{"src", 1}, {"dst", 2}};
        c.timing.config_sync_interval = 300ms;
        c.timing.duplication_sync_period = 200ms;
        c.timing.perf_counter_interval = 200ms;
        c.timing.checkpoint_copy_duration = 300ms;
        c.timing.shipping_rate = 2000;
        c.timing.group_check_interval = 300ms;
        c.timing.meta_persist_throttle = 100ms;
        c.timing.failure_detection = sc.failure_detection;
        return c;
    };
    auto src = make("src");
    src.remote_clusters["dst"] = "";
    for (const auto& [name, parts] : sc.tables) {
        sim::table_config t;
        t.name = name;
        t.partition_count = parts;
        src.tables.push_back(t);
    }
    cfg.clusters.push_back(src);
    cfg.clusters.push_back(make("dst"));
    return cfg;
}

bool names_cluster(const std::string& entry, const std::string& cluster) {
    return entry.find("\"" + cluster + "\"") != std::string::npos;
}

} // namespace

std::vector<std::string> split_list(const std::string& list) {
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

// ---- writer ---------------------------------------------------------------------------------

model_writer::model_writer(sim::test::sim_fixture& f, std::vector<std::string> tables)
    : f_(f)
    , tables_(std::move(tables)) {
    thread_ = std::thread([this] { loop(); });
}

model_writer::~model_writer() {
    stop();
}

void model_writer::stop() {
    if (running_.exchange(false))
        thread_.join();
}

void model_writer::loop() {
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
                    return false; // the client's write times out
                if (auto a = n.applied.find(t->app_id);
                    a != n.applied.end() && a->second.deny.writes)
                    return false; // denied
                sim::write_op op;
                op.key = key;
                op.value = "v" + std::to_string(seq);
                c.apply_write(*t, pidx, "RPC_RRDB_RRDB_PUT", {op}, key.size() + 8);
                return true;
            });
            if (ok)
                acked_[table].push_back(key);
        }
        ++seq;
        std::this_thread::sleep_for(3ms);
    }
}

// ---- ZooKeeper entries ----------------------------------------------------------------------

void zk_entries::put(const std::string& table, const std::string& json) {
    asio::io_context io;
    test::run_coro(
        io,
        [this, &table, &json]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            auto conn = zk::client::connect(ex, connect, zk::connect_options{});
            auto c = co_await std::move(conn);
            REQUIRE(c.has_value());
            const std::string path = root + "/" + table;
            auto ex_op = (*c)->exists(path);
            auto st = co_await std::move(ex_op);
            REQUIRE(st.has_value());
            if (st->has_value()) {
                auto set_op = (*c)->set(path, json, -1);
                auto r = co_await std::move(set_op);
                REQUIRE(r.has_value());
            } else {
                zk::create_options o;
                o.make_parents = true;
                auto cr = (*c)->create(path, json, o);
                auto r = co_await std::move(cr);
                REQUIRE(r.has_value());
            }
            (*c)->close();
        },
        20s);
}

std::string zk_entries::get(const std::string& table) {
    asio::io_context io;
    return test::run_coro(
        io,
        [this, &table]() -> asio::awaitable<std::string> {
            auto ex = co_await asio::this_coro::executor;
            auto conn = zk::client::connect(ex, connect, zk::connect_options{});
            auto c = co_await std::move(conn);
            REQUIRE(c.has_value());
            auto g = (*c)->get(root + "/" + table);
            auto n = co_await std::move(g);
            REQUIRE(n.has_value());
            (*c)->close();
            co_return n->data;
        },
        20s);
}

// ---- probe ----------------------------------------------------------------------------------

void phase_probe::on_phase(const std::string& table, phase /*from*/, phase to,
                           const migrate::table_state& /*s*/) {
    {
        std::lock_guard lock(m_);
        entered_.insert(to);
    }
    cv_.notify_all();
    if (on_enter)
        on_enter(table, to);
}

bool phase_probe::entered(phase p) {
    std::lock_guard lock(m_);
    return entered_.count(p) > 0;
}

bool phase_probe::wait_for(phase p, std::chrono::milliseconds deadline) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, deadline, [&] { return entered_.count(p) > 0; });
}

// ---- scenario -------------------------------------------------------------------------------

scenario::scenario(scenario_config cfg)
    : cfg_(std::move(cfg)) {
    spdlog::set_level(spdlog::level::err); // faults make warnings by design
    zk_ = std::make_unique<test::zk_server>(cfg_.zk);
    fixture_ = std::make_unique<sim::test::sim_fixture>(two_clusters(cfg_, zk_->connect_string()));
    src_metas_ = fixture_->on_sim([&] { return fixture_->sim().cluster("src").meta_list(); });
    dst_metas_ = fixture_->on_sim([&] { return fixture_->sim().cluster("dst").meta_list(); });
    for (const auto& [name, parts] : cfg_.tables)
        tables_.push_back(name);
    entries_.connect = zk_->connect_string();
    for (const auto& t : tables_)
        entries_.put(t, R"({"cluster_name": "src", "meta_addrs": ")" + src_metas_ + R"("})");

    opt_.source_metas = split_list(src_metas_);
    opt_.target_metas = split_list(dst_metas_);
    opt_.target_meta_text = dst_metas_;
    opt_.target_cluster = "dst";
    opt_.tables = tables_;
    opt_.root = "/proxy";
    opt_.threshold = 50;
    opt_.max_deny = cfg_.max_deny;
    opt_.config_sync_interval = 300ms; // the sim's period (2.4 servers cannot tell it)
    opt_.state_file.reset();

    writer_ = std::make_unique<model_writer>(*fixture_, tables_);
    std::this_thread::sleep_for(200ms);
}

scenario::~scenario() {
    writer_.reset();
    fixture_.reset();
    zk_.reset();
}

migrate::run_report scenario::run(std::function<void(scenario&)> during,
                                  std::chrono::milliseconds deadline) {
    asio::io_context io;
    migrate::engine eng(io.get_executor(), opt_, &probe_);
    io_ = &io;
    engine_ = &eng;
    std::thread side;
    if (during)
        side = std::thread([this, during] { during(*this); });
    auto report = test::run_coro(io, eng.migrate(), deadline);
    if (side.joinable())
        side.join();
    // Handlers the side thread posted after the engine returned.
    io.restart();
    io.poll();
    io_ = nullptr;
    engine_ = nullptr;
    writer_->stop();
    for (const auto& e : report.preflight.failures)
        MESSAGE("preflight: " << e);
    for (const auto& t : report.preflight.tables)
        for (const auto& e : t.failures)
            MESSAGE(t.table << ": preflight: " << e);
    for (const auto& n : report.notes)
        MESSAGE("note: " << n);
    for (const auto& t : report.tables)
        MESSAGE(t.table << ": " << std::string(migrate::to_string(t.outcome))
                        << std::string(t.failure.empty() ? "" : " - ") << t.failure);
    return report;
}

namespace {
// Abandoned engines stay reachable from here until the process exits.
std::vector<std::pair<asio::io_context*, migrate::engine*>> abandoned;
} // namespace

bool scenario::run_and_abandon(phase p, std::chrono::milliseconds deadline) {
    auto* io = new asio::io_context;
    auto* eng = new migrate::engine(io->get_executor(), opt_, &probe_);
    abandoned.emplace_back(io, eng);
    bool hit = false;
    probe_.on_enter = once_at(p, [&hit, io] {
        hit = true;
        io->stop(); // the process dies here: not one more handler runs
    });
    asio::co_spawn(*io, eng->migrate(), asio::detached);
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!hit && !io->stopped() && std::chrono::steady_clock::now() < until)
        io->run_for(100ms);
    probe_.on_enter = {};
    return hit;
}

void scenario::interrupt() {
    if (io_ && engine_) {
        auto* e = engine_;
        asio::post(*io_, [e] { e->interrupt(); });
    }
}

void scenario::move_meta_leader(int cluster) {
    fixture_->on_sim([&] {
        auto& c = *fixture_->sim().state().clusters().at(static_cast<std::size_t>(cluster));
        const int n = static_cast<int>(c.metas.size());
        for (int i = 1; i <= n; ++i) {
            const int next = (c.leader + i) % n;
            if (c.metas.at(static_cast<std::size_t>(next)).alive) {
                c.leader = next;
                break;
            }
        }
        return 0;
    });
}

void scenario::stop_server(int cluster, sim::server_role role, int index) {
    auto st = fixture_->on_sim([&] {
        fixture_->sim().server().sync_clock();
        return fixture_->sim().server().stop_server(cluster, role, index);
    });
    CHECK(st.has_value());
}

void scenario::restart_server(int cluster, sim::server_role role, int index) {
    auto st = fixture_->on_sim([&] {
        fixture_->sim().server().sync_clock();
        return fixture_->sim().server().restart_server(cluster, role, index);
    });
    CHECK(st.has_value());
}

void scenario::stall_shipping(bool on) {
    fixture_->on_sim([&] {
        fixture_->sim().cluster("src").fault.stall_shipping = on;
        return 0;
    });
}

void scenario::reply_fault(const std::string& rpc, std::optional<sim::reply_fault> f) {
    fixture_->on_sim([&] {
        fixture_->sim().server().set_reply_fault(rpc, f);
        return 0;
    });
}

int scenario::check_promise(const migrate::run_report& r) {
    writer_->stop();
    REQUIRE(r.preflight.ok());
    REQUIRE(r.tables.size() == tables_.size());
    int switched = 0;
    bool all_done = true;
    for (const auto& t : r.tables) {
        INFO("table " << t.table << ": " << migrate::to_string(t.outcome) << " " << t.failure);
        const std::string entry = entries_.get(t.table);
        INFO("entry " << entry);
        const bool entry_on_target = names_cluster(entry, "dst");
        all_done = all_done && t.outcome == phase::done;
        if (t.outcome == phase::done) {
            CHECK(t.entry_switched);
            CHECK(t.reconfig_set);
        } else {
            CHECK(t.failure != "");
        }
        CHECK(t.entry_switched == entry_on_target);
        if (entry_on_target) {
            ++switched;
            // Switched: every acknowledged write must reach the target. A failed table whose
            // entry moved keeps shipping, so wait for it.
            const auto& keys = writer_->acked().at(t.table);
            CHECK(!keys.empty());
            std::size_t missing = 0;
            const bool complete = sim().eventually(
                [&] {
                    auto* dt = sim().sim().cluster("dst").find_table(t.table);
                    missing = keys.size();
                    if (dt == nullptr)
                        return false;
                    missing = 0;
                    for (const auto& key : keys) {
                        bool found = false;
                        for (const auto& p : dt->partitions)
                            found = found || p.data.count(key) > 0;
                        missing += found ? 0 : 1;
                    }
                    return missing == 0;
                },
                t.outcome == phase::done ? 0ms : 10s);
            INFO("acknowledged " << keys.size() << ", missing " << missing);
            CHECK((complete || missing == 0));
            CHECK(missing == 0);
            if (t.outcome == phase::done) {
                const std::string env = sim().on_sim([&] {
                    auto* st = sim().sim().cluster("src").find_table(t.table);
                    auto it = st->envs.find("replica.deny_client_request");
                    return it == st->envs.end() ? std::string() : it->second;
                });
                CHECK(env == "reconfig*all");
            }
        } else {
            // (It names the source, or whatever a concurrent writer put there.)
            // Not switched: writes restored, or the report says plainly they may still be denied
            // and what to run.
            const std::string env = sim().on_sim([&] {
                auto* st = sim().sim().cluster("src").find_table(t.table);
                auto it = st->envs.find("replica.deny_client_request");
                return it == st->envs.end() ? std::string() : it->second;
            });
            INFO("source deny env '" << env << "'");
            if (t.writes_may_be_denied) {
                bool told = false;
                for (const auto& n : r.notes)
                    told = told || (n.find(t.table) != std::string::npos &&
                                    n.find("table-migrator abort") != std::string::npos);
                CHECK(told);
            } else {
                CHECK(env.empty());
            }
        }
    }
    if (all_done)
        CHECK((r.exit_code == 0 || r.exit_code == 130));
    else
        CHECK((r.exit_code == 1 || r.exit_code == 130));
    return switched;
}

} // namespace tablemigrator::reliability
