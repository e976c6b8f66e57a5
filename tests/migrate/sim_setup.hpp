// Shared set-up of the migrate tests: a source cluster "src" with three tables of different sizes
// and a target cluster "dst" that it may duplicate to, with shortened server timings.
#pragma once

#include "sim/config.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace tablemigrator::test {

using namespace std::chrono_literals;

inline sim::sim_config two_clusters(sim::generation gen, const std::string& zk) {
    sim::sim_config cfg;
    auto make = [&](const std::string& name) {
        sim::cluster_config c;
        c.name = name;
        c.gen = gen;
        c.meta_ports = {0, 0};
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
        return c;
    };
    auto src = make("src");
    src.remote_clusters["dst"] = "";
    for (auto [name, parts] : {std::pair{"small", 2}, std::pair{"medium", 4}, std::pair{"large", 8}}) {
        sim::table_config t;
        t.name = name;
        t.partition_count = parts;
        src.tables.push_back(t);
    }
    cfg.clusters.push_back(src);
    cfg.clusters.push_back(make("dst"));
    return cfg;
}

} // namespace tablemigrator::test
