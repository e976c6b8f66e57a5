// End to end: the engine migrates three tables of different sizes at once from a pegasus-sim
// source to a pegasus-sim target, under a writer, with a MetaProxy switch on a real ZooKeeper, for
// each emulated generation. Every write the source acknowledged must be on the target.
// (The writer stands in for pegasus-load here: it writes through the simulation's model and obeys
// the deny env each replica node has applied, as a real primary would.)
#include "sim/sim_fixture.hpp"
#include "sim_setup.hpp"

#include <tablemigrator/migrate/engine.hpp>
#include <tablemigrator/wire/key.hpp>
#include <tablemigrator/zk/client.hpp>

#include <support/run_coro.hpp>
#include <support/zk_server.hpp>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

using namespace tablemigrator;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Writes keys through the model while the partition's primary does not deny writes; records
// every acknowledged key.
class model_writer {
public:
    model_writer(sim::test::sim_fixture& f, std::vector<std::string> tables) : f_(f), tables_(std::move(tables)) {
        thread_ = std::thread([this] { loop(); });
    }
    ~model_writer() { stop(); }
    void stop() {
        if (running_.exchange(false))
            thread_.join();
    }
    const std::map<std::string, std::vector<std::string>>& acked() const { return acked_; }

private:
    void loop() {
        std::int64_t seq = 0;
        while (running_) {
            for (const auto& table : tables_) {
                const std::string hash = table + "-" + std::to_string(seq);
                auto key_bytes = wire::encode_full_key(hash, "s");
                REQUIRE(key_bytes.has_value());
                const std::string key(key_bytes->begin(), key_bytes->end());
                const bool ok = f_.on_sim([&] {
                    auto& c = f_.sim().cluster("src");
                    auto* t = c.find_table(table);
                    const auto pidx = wire::partition_index(wire::crc64(hash), t->partition_count);
                    const int node = t->partitions.at(static_cast<std::size_t>(pidx)).primary;
                    const auto& n = c.nodes.at(static_cast<std::size_t>(node));
                    if (auto a = n.applied.find(t->app_id); a != n.applied.end() && a->second.deny.writes)
                        return false; // denied: a real client would time out or be redirected
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

    sim::test::sim_fixture& f_;
    std::vector<std::string> tables_;
    std::atomic<bool> running_{true};
    std::map<std::string, std::vector<std::string>> acked_;
    std::thread thread_;
};

struct zk_entries {
    std::string connect;
    std::string root = "/proxy";
    void put(const std::string& table, const std::string& json) {
        asio::io_context io;
        test::run_coro(io, [this, &table, &json]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            auto conn = zk::client::connect(ex, connect, zk::connect_options{});
            auto c = co_await std::move(conn);
            REQUIRE(c.has_value());
            zk::create_options o;
            o.make_parents = true;
            auto cr = (*c)->create(root + "/" + table, json, o);
            auto r = co_await std::move(cr);
            REQUIRE(r.has_value());
            (*c)->close();
        }());
    }
    std::string get(const std::string& table) {
        asio::io_context io;
        return test::run_coro(io, [this, &table]() -> asio::awaitable<std::string> {
            auto ex = co_await asio::this_coro::executor;
            auto conn = zk::client::connect(ex, connect, zk::connect_options{});
            auto c = co_await std::move(conn);
            REQUIRE(c.has_value());
            auto g = (*c)->get(root + "/" + table);
            auto n = co_await std::move(g);
            REQUIRE(n.has_value());
            (*c)->close();
            co_return n->data;
        }());
    }
};

void migrate_three_tables(sim::generation gen) {
    spdlog::set_level(spdlog::level::warn);
    test::zk_server zk;
    sim::test::sim_fixture f(test::two_clusters(gen, zk.connect_string()));
    const std::string src_metas = f.on_sim([&] { return f.sim().cluster("src").meta_list(); });
    const std::string dst_metas = f.on_sim([&] { return f.sim().cluster("dst").meta_list(); });
    const std::vector<std::string> tables{"small", "medium", "large"};

    zk_entries entries{zk.connect_string()};
    for (const auto& t : tables)
        entries.put(t, R"({"cluster_name": "src", "meta_addrs": ")" + src_metas + R"("})");

    model_writer writer(f, tables);
    std::this_thread::sleep_for(200ms);

    migrate::run_options opt;
    auto split = [](const std::string& list) {
        std::vector<std::string> v;
        std::string::size_type s = 0;
        while (true) {
            auto c = list.find(',', s);
            v.push_back(list.substr(s, c == std::string::npos ? std::string::npos : c - s));
            if (c == std::string::npos)
                return v;
            s = c + 1;
        }
    };
    opt.source_metas = split(src_metas);
    opt.target_metas = split(dst_metas);
    opt.target_meta_text = dst_metas;
    opt.target_cluster = "dst";
    opt.tables = tables;
    opt.root = "/proxy";
    opt.threshold = 50;
    opt.max_deny = 20s;
    opt.config_sync_interval = 300ms; // what the operator passes when 2.4 servers cannot tell
    opt.state_file.reset();

    asio::io_context io;
    migrate::engine eng(io.get_executor(), opt);
    auto report = test::run_coro(io, eng.migrate(), 90s);
    writer.stop();

    for (const auto& e : report.preflight.failures)
        INFO("preflight: " << e);
    for (const auto& t : report.preflight.tables)
        for (const auto& e : t.failures)
            INFO(t.table << ": " << e);
    REQUIRE(report.preflight.ok());
    CHECK(report.exit_code == 0);
    REQUIRE(report.tables.size() == 3);
    for (const auto& t : report.tables) {
        INFO(t.table << ": " << migrate::to_string(t.outcome) << " " << t.failure);
        CHECK(t.outcome == migrate::phase::done);
        CHECK(t.entry_switched);
        CHECK(t.reconfig_set);
        CHECK(t.backlog_at_freeze <= 50);
    }
    // MetaProxy entries now name the target.
    for (const auto& t : tables) {
        const std::string e = entries.get(t);
        CHECK(e.find("\"dst\"") != std::string::npos);
        CHECK(e.find(dst_metas.substr(0, dst_metas.find(','))) != std::string::npos);
    }
    // Every acknowledged write reached the target; the source redirects clients.
    f.on_sim([&] {
        auto& src = f.sim().cluster("src");
        auto& dst = f.sim().cluster("dst");
        for (const auto& t : tables) {
            auto* st = src.find_table(t);
            CHECK(st->envs["replica.deny_client_request"] == "reconfig*all");
            auto* dt = dst.find_table(t);
            REQUIRE(dt != nullptr);
            std::size_t missing = 0, total = 0;
            for (const auto& key : writer.acked().at(t)) {
                ++total;
                bool found = false;
                for (const auto& p : dt->partitions)
                    found = found || p.data.count(key) > 0;
                if (!found)
                    ++missing;
            }
            INFO(t << ": acknowledged " << total << ", missing " << missing);
            CHECK(total > 0);
            CHECK(missing == 0);
        }
        CHECK(src.routing_violations.empty());
        return 0;
    });
}

} // namespace

TEST_CASE("engine e2e: three tables migrated together and switched on master servers") {
    migrate_three_tables(sim::generation::master);
}

TEST_CASE("engine e2e: three tables migrated together and switched on 2.5 servers") {
    migrate_three_tables(sim::generation::v2_5);
}

TEST_CASE("engine e2e: three tables migrated together and switched on 2.4 servers") {
    migrate_three_tables(sim::generation::v2_4);
}
