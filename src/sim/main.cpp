// pegasus-sim: serves simulated Pegasus clusters on 127.0.0.1 from a JSON config
// (docs/pegasus-sim.md), prints the bound ports as JSON on stdout and optionally writes them to
// --ports-file.
#include "sim/simulation.hpp"

#include <tablemigrator/core/log.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>

using namespace tablemigrator;
using namespace tablemigrator::sim;

int main(int argc, char** argv) {
    CLI::App app{"pegasus-sim: simulated Apache Pegasus clusters speaking the real wire protocol"};
    std::string config_file, ports_file, generation_text, log_level_text = "info";
    std::optional<int> admin_port;
    std::optional<std::int64_t> config_sync_ms, group_check_ms, checkpoint_ms, dup_sync_ms, perf_ms;
    std::optional<double> shipping_rate;
    app.add_option("-c,--config", config_file, "JSON config file (default: one cluster 'onebox')");
    app.add_option("--ports-file", ports_file, "write the bound ports as JSON to this file");
    app.add_option("--admin-port", admin_port, "admin HTTP port (0 = any)");
    app.add_option("--generation", generation_text,
                   "override every cluster's generation: 2.4, 2.5, master");
    app.add_option("--config-sync-interval-ms", config_sync_ms, "override config_sync_interval_ms");
    app.add_option("--duplication-sync-period-ms", dup_sync_ms,
                   "override duplication_sync_period_ms");
    app.add_option("--perf-counter-interval-ms", perf_ms, "override perf_counter_interval_ms");
    app.add_option("--group-check-interval-ms", group_check_ms, "override group_check_interval_ms");
    app.add_option("--checkpoint-copy-ms", checkpoint_ms, "override checkpoint_copy_ms");
    app.add_option("--shipping-rate", shipping_rate,
                   "override shipping_rate (mutations/s per partition)");
    app.add_option("--log-level", log_level_text, "trace|debug|info|warn|error|off");
    std::string cluster_name;
    app.add_option("--cluster-name", cluster_name,
                   "rename the only cluster (single-cluster configs)");
    CLI11_PARSE(app, argc, argv);

    auto level = parse_log_level(log_level_text);
    if (!level) {
        std::cerr << "pegasus-sim: bad --log-level\n";
        return 2;
    }
    setup_logging(*level);

    sim_config cfg = default_config();
    if (!config_file.empty()) {
        std::ifstream in(config_file);
        if (!in) {
            std::cerr << "pegasus-sim: cannot read " << config_file << "\n";
            return 2;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        std::string why;
        auto parsed = parse_config(ss.str(), &why);
        if (!parsed) {
            std::cerr << "pegasus-sim: bad config: " << why << "\n";
            return 2;
        }
        cfg = std::move(*parsed);
    }
    if (admin_port)
        cfg.admin_port = static_cast<std::uint16_t>(*admin_port);
    if (!ports_file.empty())
        cfg.ports_file = ports_file;
    if (!cluster_name.empty()) {
        if (cfg.clusters.size() != 1) {
            std::cerr << "pegasus-sim: --cluster-name needs a config with exactly one cluster\n";
            return 2;
        }
        auto& c = cfg.clusters[0];
        if (auto it = c.duplication_group.find(c.name); it != c.duplication_group.end()) {
            auto id = it->second;
            c.duplication_group.erase(it);
            c.duplication_group[cluster_name] = id;
        }
        if (c.zookeeper_root == "/pegasus/" + c.name)
            c.zookeeper_root = "/pegasus/" + cluster_name;
        c.name = cluster_name;
    }
    std::optional<generation> gen;
    if (!generation_text.empty()) {
        gen = parse_generation(generation_text);
        if (!gen) {
            std::cerr << "pegasus-sim: --generation must be 2.4, 2.5 or master\n";
            return 2;
        }
    }
    for (auto& c : cfg.clusters) {
        if (gen)
            c.gen = *gen;
        if (config_sync_ms)
            c.timing.config_sync_interval = millis(*config_sync_ms);
        if (dup_sync_ms)
            c.timing.duplication_sync_period = millis(*dup_sync_ms);
        if (perf_ms)
            c.timing.perf_counter_interval = millis(*perf_ms);
        if (group_check_ms)
            c.timing.group_check_interval = millis(*group_check_ms);
        if (checkpoint_ms)
            c.timing.checkpoint_copy_duration = millis(*checkpoint_ms);
        if (shipping_rate)
            c.timing.shipping_rate = *shipping_rate;
    }

    asio::io_context io;
    simulation sim(io, cfg);
    if (auto st = sim.start(); !st) {
        std::cerr << "pegasus-sim: cannot start: " << st.error().message() << "\n";
        return 1;
    }
    auto ports = sim.server().ports_json();
    std::cout << ports << std::endl;
    if (!cfg.ports_file.empty()) {
        // Write then rename so a reader never sees a half-written file.
        auto tmp = cfg.ports_file + ".tmp";
        std::ofstream(tmp) << ports << "\n";
        std::rename(tmp.c_str(), cfg.ports_file.c_str());
    }
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        spdlog::info("pegasus-sim: stopping");
        sim.stop();
        io.stop();
    });
    io.run();
    return 0;
}
