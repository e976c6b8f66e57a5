// Preflight: everything checked before any change anywhere. All failures are collected (per table
// and cluster-wide) so the operator sees them together; nothing here writes to any cluster.
#include "cluster.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/metaproxy/switch.hpp>
#include <tablemigrator/zk/client.hpp>

#include <boost/asio/this_coro.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace asio = boost::asio;

namespace tablemigrator::migrate {
namespace {

bool power_of_two(std::int32_t n) { return n >= 2 && (n & (n - 1)) == 0; }

std::string msg(const error_code& ec) {
    if (ec.category() == rdsn_category())
        return rdsn_error_name(ec);
    return ec.message();
}

} // namespace

bool preflight_report::ok() const {
    if (!failures.empty())
        return false;
    return std::all_of(tables.begin(), tables.end(), [](const table_plan& t) { return t.failures.empty(); });
}

asio::awaitable<result<std::map<std::string, std::string>>> probe_cluster(run_context& ctx,
                                                                         const meta::meta_client& client) {
    // A cluster that does not answer at all is told within seconds (one line, nothing changed),
    // not after the full retry deadline that later calls get to ride out a leader election.
    meta::meta_client_options quick;
    quick.call_timeout = std::chrono::seconds(3);
    quick.overall_timeout = probe_deadline;
    meta::meta_client probe(ctx.pool, client.metas(), quick);
    auto op = probe.cluster_info();
    co_return co_await std::move(op);
}

std::string unreachable_message(const std::string& role, const meta::meta_client& client, const error_code& ec) {
    std::string list;
    for (const auto& ep : client.metas())
        list += (list.empty() ? "" : ",") + ep.to_string();
    return role + " cluster unreachable (no meta of " + list + " answered as leader within " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(probe_deadline).count()) +
           " s): " + msg(ec);
}

asio::awaitable<preflight_report> run_preflight(run_context& ctx) {
    preflight_report r;
    for (const auto& t : ctx.opt.tables) {
        table_plan plan;
        plan.table = t;
        r.tables.push_back(std::move(plan));
    }

    // 1. Both clusters reachable; names as expected.
    auto src_info_op = probe_cluster(ctx, *ctx.source_meta);
    auto src_info = co_await std::move(src_info_op);
    if (!src_info) {
        r.failures.push_back(unreachable_message("source", *ctx.source_meta, src_info.error()));
        co_return r;
    }
    ctx.source_cluster = (*src_info)["cluster_name"];
    r.source_cluster = ctx.source_cluster;
    const std::string zk_hosts = (*src_info)["zookeeper_hosts"];
    if (ctx.opt.target_metas.empty()) {
        // status / abort without a target: nothing more to check at cluster level
    } else {
        auto dst_info_op = probe_cluster(ctx, *ctx.target_meta);
        auto dst_info = co_await std::move(dst_info_op);
        if (!dst_info) {
            r.failures.push_back(unreachable_message("target", *ctx.target_meta, dst_info.error()));
        } else {
            ctx.target_cluster = (*dst_info)["cluster_name"];
            r.target_cluster = ctx.target_cluster;
            if (ctx.target_cluster != ctx.opt.target_cluster)
                r.failures.push_back("the target cluster at -m is named '" + ctx.target_cluster +
                                     "', not '" + ctx.opt.target_cluster + "' (-c)");
            if (ctx.target_cluster == ctx.source_cluster)
                r.failures.push_back("source and target are the same cluster '" + ctx.source_cluster + "'");
        }
    }

    // 2. Replica nodes and the server generation.
    auto nodes_op = ctx.source_meta->list_nodes(meta::node_status::invalid);
    auto nodes = co_await std::move(nodes_op);
    if (!nodes) {
        r.failures.push_back("listing the source's replica nodes failed: " + msg(nodes.error()));
        co_return r;
    }
    ctx.alive_nodes.clear();
    for (const auto& n : *nodes) {
        if (n.status == meta::node_status::alive)
            ctx.alive_nodes.push_back(n.address);
        else
            r.warnings.push_back("replica node " + n.address.to_string() + " is not alive: skipped");
    }
    if (ctx.alive_nodes.empty()) {
        r.failures.push_back("the source cluster has no alive replica node");
        co_return r;
    }
    {
        auto& first = ctx.replica(ctx.alive_nodes.front());
        auto gen_op = first.detect_generation();
        auto gen = co_await std::move(gen_op);
        if (gen)
            ctx.generation = *gen;
        if (ctx.generation == replica::server_generation::unknown && ctx.source_meta->host_port_fields_seen())
            ctx.generation = replica::server_generation::master;
        if (ctx.generation == replica::server_generation::unknown)
            r.failures.push_back("the source servers' generation is unknown or older than 2.4 (" +
                                 (gen ? std::string("unrecognised version") : msg(gen.error())) +
                                 " on " + ctx.alive_nodes.front().to_string() +
                                 "): checkpoint duplication needs Pegasus 2.4 or newer");
        r.generation = std::string(replica::to_string(ctx.generation));
    }

    // 3. The config-sync period the freeze must wait for.
    ctx.config_sync_period = ctx.opt.config_sync_interval;
    if (ctx.generation == replica::server_generation::v2_5 || ctx.generation == replica::server_generation::master) {
        std::int64_t longest = 0;
        for (const auto& ep : ctx.alive_nodes) {
            auto op = ctx.replica(ep).config("config_sync_interval_ms");
            auto cfg = co_await std::move(op);
            if (cfg && cfg->value) {
                try {
                    longest = std::max<std::int64_t>(longest, std::stoll(*cfg->value));
                } catch (const std::exception&) {
                }
            }
        }
        if (longest > 0)
            ctx.config_sync_period = duration(longest);
    }
    r.config_sync_period = ctx.config_sync_period;

    // 4. Tables on the source.
    auto apps_op = ctx.source_meta->list_apps(meta::app_status::invalid);
    auto apps = co_await std::move(apps_op);
    if (!apps) {
        r.failures.push_back("listing the source's tables failed: " + msg(apps.error()));
        co_return r;
    }
    ctx.apps_snapshot = *apps;
    ctx.apps_snapshot_at = std::chrono::steady_clock::now();
    std::optional<std::vector<meta::app_entry>> target_apps;
    // Not when the target is unreachable (already reported) or is the source itself (every table
    // would "exist on the target", which says nothing new).
    if (ctx.target_meta && !ctx.target_cluster.empty() && ctx.target_cluster != ctx.source_cluster) {
        auto op = ctx.target_meta->list_apps(meta::app_status::invalid);
        auto t = co_await std::move(op);
        if (t)
            target_apps = std::move(*t);
        else
            r.failures.push_back("listing the target's tables failed: " + msg(t.error()));
    }
    for (auto& plan : r.tables) {
        const auto it = std::find_if(apps->begin(), apps->end(),
                                     [&](const meta::app_entry& a) { return a.app_name == plan.table; });
        if (it == apps->end() || it->status == meta::app_status::dropped) {
            plan.failures.push_back("table '" + plan.table + "' does not exist on the source cluster");
            continue;
        }
        if (it->status != meta::app_status::available) {
            plan.failures.push_back("table '" + plan.table + "' is not available on the source (status " +
                                    std::to_string(static_cast<int>(it->status)) + ")");
            continue;
        }
        plan.app_id = it->app_id;
        plan.partition_count = it->partition_count;
        if (const auto d = it->envs.find(deny_env_key); d != it->envs.end())
            plan.deny_env = d->second;
        if (!power_of_two(plan.partition_count))
            plan.warnings.push_back("partition count " + std::to_string(plan.partition_count) +
                                    " is not a power of two >= 2: the Go client refuses such tables");

        // data_version "1" on every alive node hosting it; a 404 means "no replica here". One
        // failure per table, naming every node that reports another version.
        std::string bad_version, bad_nodes;
        for (const auto& ep : ctx.alive_nodes) {
            auto op = ctx.replica(ep).data_version(plan.app_id);
            auto dv = co_await std::move(op);
            if (!dv) {
                if (dv.error() == client_errc::http_not_found)
                    continue;
                plan.failures.push_back("reading data_version of '" + plan.table + "' on " + ep.to_string() +
                                        " failed: " + msg(dv.error()));
                continue;
            }
            for (const auto& [pidx, version] : *dv)
                if (version != "1") {
                    bad_version = version;
                    bad_nodes += (bad_nodes.empty() ? "" : ", ") + ep.to_string() + " (partition " +
                                 std::to_string(pidx) + ")";
                    break;
                }
        }
        if (!bad_nodes.empty())
            plan.failures.push_back("table '" + plan.table + "' has data_version " + bad_version + " on " +
                                    bad_nodes + ": only data version 1 can be duplicated");

        // Non-idempotent writes are rejected once the table has a duplication (data-plane §7.4):
        // warn where the servers let us see them (2.4/2.5 perf counters: recent rate; master
        // metrics: totals since the replica opened).
        {
            static const std::vector<std::string> metric_names{"incr_requests", "check_and_set_requests",
                                                               "check_and_mutate_requests"};
            static const std::vector<std::string> counter_names{"incr_qps", "check_and_set_qps",
                                                                "check_and_mutate_qps"};
            bool seen = false;
            for (const auto& ep : ctx.alive_nodes) {
                if (seen)
                    break;
                if (ctx.generation == replica::server_generation::master) {
                    replica::metrics_query q;
                    q.with_metric_fields = {"name", "value"};
                    q.types = {"replica"};
                    q.attributes = {{"table_id", std::to_string(plan.app_id)}};
                    q.metrics = metric_names;
                    auto op = ctx.replica(ep).metrics(q);
                    auto m = co_await std::move(op);
                    if (!m)
                        continue;
                    for (const auto& e : m->entities)
                        for (const auto& [name, value] : e.metrics)
                            seen = seen || (value > 0 && std::find(metric_names.begin(), metric_names.end(),
                                                                   name) != metric_names.end());
                } else {
                    std::vector<std::string> subs;
                    for (const auto& c : counter_names)
                        subs.push_back(c + "@" + std::to_string(plan.app_id) + ".");
                    auto op = ctx.replica(ep).perf_counters_by_substr(subs);
                    auto pc = co_await std::move(op);
                    if (!pc)
                        continue;
                    for (const auto& c : counter_names)
                        for (const auto& [pidx, v] : pc->per_partition(c, plan.app_id))
                            seen = seen || v > 0;
                }
            }
            if (seen)
                plan.warnings.push_back("table '" + plan.table + "' receives non-idempotent writes (incr, "
                                        "check_and_set, check_and_mutate): Pegasus rejects them with "
                                        "ERR_OPERATION_DISABLED once the table has a duplication");
        }

        if (target_apps) {
            const auto t = std::find_if(target_apps->begin(), target_apps->end(), [&](const meta::app_entry& a) {
                return a.app_name == plan.table && a.status != meta::app_status::dropped;
            });
            if (t != target_apps->end()) {
                const auto master = t->envs.find("duplication.master_cluster");
                const auto master_app = t->envs.find("duplication.master_app_name");
                const bool ours = master != t->envs.end() && master->second == ctx.source_cluster &&
                                  (master_app == t->envs.end() || master_app->second == plan.table);
                if (ours)
                    plan.rerun = true;
                else
                    plan.failures.push_back("the target cluster already has a table named '" + plan.table +
                                            "' that is not the follower of this table's duplication");
            }
        }
    }

    // 5. MetaProxy entries.
    if (ctx.opt.root) {
        ctx.zk_connect = ctx.opt.zk_connect ? *ctx.opt.zk_connect : metaproxy::zk_connect_string(zk_hosts);
        r.zk_connect = ctx.zk_connect;
        if (ctx.zk_connect.empty()) {
            r.failures.push_back("no ZooKeeper address: the source's cluster info has no zookeeper_hosts; give -n");
        } else {
            auto ex = co_await asio::this_coro::executor;
            auto conn_op = zk::client::connect(ex, ctx.zk_connect, zk::connect_options{});
            auto zk = co_await std::move(conn_op);
            if (!zk) {
                r.failures.push_back("connecting to ZooKeeper '" + ctx.zk_connect + "' failed: " + msg(zk.error()));
            } else {
                for (auto& plan : r.tables) {
                    if (plan.app_id == 0)
                        continue; // not on the source: already reported, its entry is irrelevant
                    const std::string path = metaproxy::entry_path(*ctx.opt.root, plan.table);
                    auto get_op = (*zk)->get(path);
                    auto node = co_await std::move(get_op);
                    if (!node) {
                        if (ctx.opt.create_missing)
                            plan.warnings.push_back("MetaProxy entry " + path + " is missing: it will be created at the switch");
                        else
                            plan.failures.push_back("MetaProxy entry " + path + " cannot be read (" + msg(node.error()) +
                                                    "); give --create-missing to create it");
                        continue;
                    }
                    auto entry = metaproxy::parse_entry(node->data);
                    if (!entry) {
                        plan.failures.push_back("MetaProxy entry " + path + " is not the expected JSON");
                        continue;
                    }
                    if (entry->cluster_name == ctx.source_cluster)
                        continue;
                    if (entry->cluster_name == ctx.opt.target_cluster &&
                        metaproxy::same_meta_list(entry->meta_addrs, ctx.opt.target_meta_text)) {
                        plan.already_switched = true;
                        continue;
                    }
                    plan.failures.push_back("MetaProxy entry " + path + " names cluster '" + entry->cluster_name +
                                            "', neither the source '" + ctx.source_cluster + "' nor the target");
                }
                (*zk)->close();
            }
        }
        if (metaproxy::split_list(ctx.opt.target_meta_text).size() < 2)
            r.warnings.push_back("-m lists fewer than two meta servers: MetaProxy rejects such lists");
    }

    // 6. The deny window must cover at least one config-sync period plus the margin.
    const duration period = ctx.opt.fast_cutover ? std::min(*ctx.opt.fast_cutover, ctx.config_sync_period)
                                                  : ctx.config_sync_period;
    const duration needed = period + freeze_margin_for(period);
    if (ctx.opt.max_deny <= needed)
        r.failures.push_back("--max-deny-seconds is too small: the freeze needs one config-sync period (" +
                             std::to_string(needed.count()) + " ms with margin) before the drain can even start");
    co_return r;
}

} // namespace tablemigrator::migrate
