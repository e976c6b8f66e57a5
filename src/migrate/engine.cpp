// The orchestrator (see engine.hpp): preflight, fan-out over tables, fast cutover lease, reports.
#include "cluster.hpp"

#include <tablemigrator/async/task_group.hpp>
#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace asio = boost::asio;

namespace tablemigrator::migrate {
namespace {

std::vector<rpc::endpoint> to_endpoints(const std::vector<std::string>& texts) {
    std::vector<rpc::endpoint> out;
    for (const auto& t : texts) {
        auto ep = rpc::parse_endpoint(t);
        if (!ep)
            throw std::invalid_argument("engine: unvalidated endpoint '" + t + "'");
        out.push_back(*ep);
    }
    return out;
}

std::string msg(const error_code& ec) {
    if (ec.category() == rdsn_category())
        return rdsn_error_name(ec);
    return ec.message();
}

// status and abort: a source that does not answer is said within seconds, in one line (exit 2),
// before any request that would ride out the meta client's full retry deadline.
asio::awaitable<bool> refuse_if_unreachable(run_context& ctx, run_report& out) {
    auto op = probe_cluster(ctx, *ctx.source_meta);
    auto info = co_await std::move(op);
    if (info)
        co_return false;
    out.preflight.failures.push_back(unreachable_message("source", *ctx.source_meta, info.error()));
    out.exit_code = 2;
    co_return true;
}

} // namespace

// ---- run_context -------------------------------------------------------------------------------

run_context::run_context(asio::any_io_executor e, run_options o, run_observer* obs)
    : ex(e), opt(std::move(o)), observer(obs), pool(e), budget(e, opt.meta_rps_budget), lease(opt.state_file) {
    source_meta = std::make_unique<meta::meta_client>(pool, to_endpoints(opt.source_metas));
    if (!opt.target_metas.empty())
        target_meta = std::make_unique<meta::meta_client>(pool, to_endpoints(opt.target_metas));
}

replica::replica_client& run_context::replica(const rpc::endpoint& ep) {
    auto& slot = replicas[ep];
    if (!slot)
        slot = std::make_shared<replica::replica_client>(ex, pool, ep);
    return *slot;
}

// ---- fast cutover lease ------------------------------------------------------------------------

std::map<std::string, std::int64_t> sync_lease::load_state() const {
    std::map<std::string, std::int64_t> out;
    if (!state_file_)
        return out;
    std::ifstream in(*state_file_);
    if (!in)
        return out;
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = boost::json::parse(ss.str(), ec);
    if (ec || !v.is_object())
        return out;
    const auto* nodes_v = v.as_object().if_contains("config_sync_interval_ms");
    if (!nodes_v || !nodes_v->is_object())
        return out;
    for (const auto& [k, val] : nodes_v->as_object())
        if (val.is_int64())
            out[std::string(k)] = val.as_int64();
    return out;
}

void sync_lease::save_state() const {
    if (!state_file_)
        return;
    boost::json::object nodes_obj;
    auto recorded = load_state();
    for (const auto& [k, n] : nodes)
        recorded[k] = n.original_ms;
    if (recorded.empty() || nodes.empty()) {
        // Everything restored by this run: nothing to remember.
        if (nodes.empty()) {
            std::remove(state_file_->c_str());
            return;
        }
    }
    for (const auto& [k, v] : recorded)
        nodes_obj[k] = v;
    boost::json::object root;
    root["config_sync_interval_ms"] = std::move(nodes_obj);
    const std::string tmp = *state_file_ + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << boost::json::serialize(root) << "\n";
    }
    std::rename(tmp.c_str(), state_file_->c_str());
}

asio::awaitable<void> restore_recorded_periods(run_context& ctx) {
    const auto recorded = ctx.lease.load_state();
    if (recorded.empty())
        co_return;
    bool all_ok = true;
    for (const auto& [node, original] : recorded) {
        auto ep = rpc::parse_endpoint(node);
        if (!ep)
            continue;
        auto op = ctx.replica(*ep).update_config("config_sync_interval_ms", std::to_string(original));
        auto r = co_await std::move(op);
        if (r)
            spdlog::warn("restored config_sync_interval_ms={} on {} (left lowered by an earlier run)",
                         original, node);
        else {
            all_ok = false;
            spdlog::error("could not restore config_sync_interval_ms={} on {}: {}", original, node,
                          msg(r.error()));
        }
    }
    if (all_ok && ctx.lease.nodes.empty())
        ctx.lease.save_state(); // removes the file
}

asio::awaitable<ev_sync_lowered> acquire_fast_cutover(run_context& ctx, std::string table) {
    ev_sync_lowered out;
    if (!ctx.opt.fast_cutover || ctx.generation == replica::server_generation::v2_4)
        co_return out; // not mutable on 2.4: warned at start, normal path
    if (!ctx.lease.holders.insert(table).second)
        co_return out; // asked twice: a driver bug, but never count a table twice
    out.lowered = true;
    out.in_force_from = std::chrono::steady_clock::now();
    for (const auto& ep : ctx.alive_nodes) {
        const std::string key = ep.to_string();
        auto& n = ctx.lease.nodes[key];
        if (n.refs++ > 0) {
            // Another table may still be lowering this node (its RPCs are in flight): lowered_at
            // is unset until then, and counting from it would let this table freeze while the
            // node still ticks at the old period. Wait for it, bounded; past the bound, the node
            // counts as not lowered.
            const time_point give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (n.lowered_at == time_point{} && std::chrono::steady_clock::now() < give_up) {
                auto ex = co_await asio::this_coro::executor;
                asio::steady_timer pause(ex, std::chrono::milliseconds(10));
                auto wait = pause.async_wait(asio::as_tuple(asio::use_awaitable));
                co_await std::move(wait);
            }
            if (n.lowered_at == time_point{} || !n.lowered_ok)
                out.lowered = false;
            else
                out.in_force_from = std::max(out.in_force_from, n.lowered_at + duration(n.original_ms));
            continue;
        }
        n.original_ms = ctx.config_sync_period.count();
        auto cfg_op = ctx.replica(ep).config("config_sync_interval_ms");
        auto cfg = co_await std::move(cfg_op);
        if (cfg && cfg->value) {
            try {
                n.original_ms = std::stoll(*cfg->value);
            } catch (const std::exception&) {
            }
        }
        ctx.lease.save_state(); // before changing anything: a crash must not lose the original
        auto op = ctx.replica(ep).update_config("config_sync_interval_ms",
                                                std::to_string(ctx.opt.fast_cutover->count()));
        auto r = co_await std::move(op);
        n.lowered_ok = static_cast<bool>(r);
        n.lowered_at = std::chrono::steady_clock::now();
        if (!r) {
            // The node keeps (or may keep) its old period: freezes count with the old one.
            out.lowered = false;
            spdlog::warn("fast cutover: lowering config_sync_interval_ms on {} failed: {}; tables on it use "
                         "the normal cutover", key, msg(r.error()));
        } else {
            spdlog::info("fast cutover: config_sync_interval_ms {} -> {} on {} (table {})", n.original_ms,
                         ctx.opt.fast_cutover->count(), key, table);
        }
        out.in_force_from = std::max(out.in_force_from, n.lowered_at + duration(n.original_ms));
    }
    co_return out;
}

asio::awaitable<void> release_fast_cutover(run_context& ctx, std::string table) {
    if (ctx.lease.holders.erase(table) == 0)
        co_return; // this table never lowered anything
    for (const auto& ep : ctx.alive_nodes) {
        const std::string key = ep.to_string();
        auto it = ctx.lease.nodes.find(key);
        if (it == ctx.lease.nodes.end() || --it->second.refs > 0)
            continue;
        const std::int64_t original = it->second.original_ms;
        auto op = ctx.replica(ep).update_config("config_sync_interval_ms", std::to_string(original));
        auto r = co_await std::move(op);
        if (!r) {
            spdlog::error("fast cutover: restoring config_sync_interval_ms={} on {} failed: {} (a rerun "
                          "restores it from the state file)", original, key, msg(r.error()));
            it->second.refs = 0;
            it->second.lowered_at = time_point{};
            continue;
        }
        spdlog::info("fast cutover: config_sync_interval_ms restored to {} on {}", original, key);
        ctx.lease.nodes.erase(it);
        ctx.lease.save_state();
    }
}

// ---- engine ------------------------------------------------------------------------------------

struct engine::impl {
    run_context ctx;
    std::vector<std::shared_ptr<table_job>> jobs;
    std::vector<table_report> reports;
    bool interrupted = false;
    bool timed_out = false; // --timeout cancelled the run (a failure, not an operator's Ctrl-C)

    impl(asio::any_io_executor ex, run_options opt, run_observer* obs) : ctx(ex, std::move(opt), obs) {}

    settings table_settings(const table_plan&) const {
        settings s;
        s.threshold = ctx.opt.threshold;
        s.config_sync_period = ctx.config_sync_period;
        s.freeze_margin = freeze_margin_for(ctx.config_sync_period);
        if (ctx.opt.fast_cutover && ctx.generation != replica::server_generation::v2_4 &&
            *ctx.opt.fast_cutover < ctx.config_sync_period) {
            s.fast_period = *ctx.opt.fast_cutover;
            s.fast_freeze_margin = freeze_margin_for(*ctx.opt.fast_cutover);
        }
        s.max_deny = ctx.opt.max_deny;
        s.switch_clients = ctx.opt.root.has_value();
        return s;
    }

    asio::awaitable<tablemigrator::status> run_table(table_plan plan) {
        if (interrupted) {
            table_report r;
            r.table = plan.table;
            r.outcome = phase::aborted;
            r.failure = "interrupted before it started";
            reports.push_back(r);
            co_return tablemigrator::status{};
        }
        settings s = table_settings(plan);
        auto job = std::make_shared<table_job>(plan.table, s, make_table_ops(ctx, plan), ctx.observer);
        jobs.push_back(job);
        if (interrupted)
            job->cancel();
        if (ctx.observer)
            ctx.observer->on_table_start(plan.table);
        auto run_op = job->run();
        table_report report = co_await std::move(run_op);
        auto release_op = release_fast_cutover(ctx, plan.table);
        co_await std::move(release_op);
        if (ctx.observer)
            ctx.observer->on_table_done(report);
        reports.push_back(std::move(report));
        co_return tablemigrator::status{};
    }
};

engine::engine(asio::any_io_executor ex, run_options options, run_observer* observer)
    : impl_(std::make_unique<impl>(ex, std::move(options), observer)) {}

engine::~engine() = default;

bool engine::interrupted() const { return impl_->interrupted; }

void engine::close() { impl_->ctx.pool.close_all(); }

std::vector<std::string> engine::interrupt() {
    std::vector<std::string> denied;
    impl_->interrupted = true;
    for (auto& j : impl_->jobs) {
        j->cancel();
        if (j->state().deny_may_be_set && !j->state().entry_switched && !is_terminal(j->state().current))
            denied.push_back(j->table());
    }
    return denied;
}

asio::awaitable<run_report> engine::migrate() {
    auto& ctx = impl_->ctx;
    run_report out;
    {
        auto op = restore_recorded_periods(ctx);
        co_await std::move(op);
    }
    {
        auto op = run_preflight(ctx);
        out.preflight = co_await std::move(op);
    }
    if (ctx.observer)
        ctx.observer->on_preflight(out.preflight);
    if (!out.preflight.ok()) {
        out.exit_code = 2;
        co_return out;
    }
    if (ctx.opt.fast_cutover && ctx.generation == replica::server_generation::v2_4)
        out.notes.push_back("--fast-cutover: 2.4 servers cannot change config_sync_interval_ms at run time; "
                            "the normal cutover is used");
    if (ctx.opt.dry_run) {
        for (const auto& t : out.preflight.tables)
            out.notes.push_back("plan " + t.table + ": app_id " + std::to_string(t.app_id) + ", " +
                                std::to_string(t.partition_count) + " partitions" +
                                (t.already_switched ? ", already switched (left alone)" : "") +
                                (t.rerun ? ", resumes an existing duplication" : ""));
        co_return out;
    }

    const std::size_t limit = ctx.opt.parallel > 0 ? static_cast<std::size_t>(ctx.opt.parallel)
                                                   : std::max<std::size_t>(1, out.preflight.tables.size());
    async::task_group group(ctx.ex, limit);
    for (const auto& plan : out.preflight.tables) {
        if (plan.already_switched) {
            table_report r;
            r.table = plan.table;
            r.outcome = phase::done;
            r.entry_switched = true;
            r.reconfig_set = true;
            // The entry names the target but the source still only denies writes: an earlier run
            // died between the MetaProxy write and reconfig*all (it switches only drained tables).
            // Without it, clients that still reach the source time out forever instead of being
            // redirected: finish the switch.
            if (plan.deny_env == deny_write_value) {
                auto op = ctx.source_meta->set_app_envs(plan.table, {{deny_env_key, reconfig_all_value}});
                auto set = co_await std::move(op);
                if (set) {
                    out.notes.push_back(plan.table + ": already switched to " + ctx.opt.target_cluster +
                                        "; reconfig*all set on the source (an earlier run stopped before it)");
                } else {
                    r.outcome = phase::failed;
                    r.reconfig_set = false;
                    r.failure = "the MetaProxy entry names the target but setting reconfig*all on the source "
                                "failed: " + msg(set.error()) + " (writes stay denied on the source; rerun)";
                }
            } else {
                out.notes.push_back(plan.table + ": already switched to " + ctx.opt.target_cluster + "; left alone");
            }
            impl_->reports.push_back(r);
            continue;
        }
        group.spawn(plan.table, impl_->run_table(plan));
    }
    std::optional<asio::steady_timer> deadline;
    if (ctx.opt.timeout) {
        deadline.emplace(ctx.ex, *ctx.opt.timeout);
        engine* self = this;
        deadline->async_wait([self](error_code ec) {
            if (!ec && !self->impl_->interrupted) {
                spdlog::error("--timeout reached: cancelling every table");
                self->impl_->timed_out = true;
                self->interrupt();
            }
        });
    }
    auto join_op = group.join();
    auto failures = co_await std::move(join_op);
    if (deadline)
        deadline->cancel();
    for (const auto& f : failures)
        spdlog::error("table {}: {}", f.label, msg(f.error));

    out.tables = impl_->reports;
    // Every source meta in the printed command: the first may be the one that is down.
    std::string source_list;
    for (const auto& m : ctx.opt.source_metas)
        source_list += (source_list.empty() ? "" : ",") + m;
    bool any_failed = !failures.empty(), any_aborted = false;
    for (const auto& r : out.tables) {
        if (r.outcome == phase::failed)
            any_failed = true;
        if (r.outcome == phase::aborted)
            any_aborted = true;
        if (r.outcome == phase::done && !ctx.opt.root)
            out.notes.push_back(r.table + ": point its clients at cluster " + ctx.opt.target_cluster + " (" +
                                ctx.opt.target_meta_text + "); writes stay denied on the source");
        if (r.outcome == phase::done)
            out.notes.push_back(r.table + ": remove the duplication to " + ctx.opt.target_cluster +
                                " when satisfied (table-migrator abort --remove-duplication keeps writes as they are)");
        if (r.writes_may_be_denied && r.outcome != phase::done)
            out.notes.push_back(r.table + ": WRITES MAY STILL BE DENIED on the source: run table-migrator abort -s " +
                                source_list + " -t " + r.table);
    }
    if (impl_->timed_out)
        out.notes.push_back("--timeout reached: every unfinished table was cancelled (each table's line says "
                            "whether its writes were restored); a rerun resumes from the existing duplications");
    // 130 is for the operator's interrupt; a run that hit its own --timeout failed.
    out.exit_code = impl_->timed_out ? 1 : impl_->interrupted ? 130 : any_failed ? 1 : any_aborted ? 130 : 0;
    co_return out;
}

namespace {

// 2.4/2.5 give no per-partition progress in the meta's answer: sum not_duplicated_mutations_num
// of the duplication over the table's primaries (the replicas' view). nullopt when a primary
// cannot be read, so the status never shows a partial sum as the backlog.
asio::awaitable<std::optional<std::int64_t>> replica_backlog(run_context& ctx, std::string table,
                                                               std::int32_t app_id, std::int32_t dupid) {
    auto cfg_op = ctx.source_meta->query_config(table);
    auto cfg = co_await std::move(cfg_op);
    if (!cfg)
        co_return std::nullopt;
    std::set<rpc::endpoint> primaries;
    for (const auto& p : cfg->partitions)
        if (p.primary)
            primaries.insert(*p.primary);
    std::map<std::int32_t, std::int64_t> unshipped;
    for (const auto& ep : primaries) {
        auto op = ctx.replica(ep).duplication(app_id);
        auto h = co_await std::move(op);
        if (!h)
            co_return std::nullopt;
        const auto d = h->find(dupid);
        if (d == h->end())
            continue;
        for (const auto& [pid, ps] : d->second)
            if (pid.app_id == app_id)
                unshipped[pid.partition_index] = ps.not_duplicated_mutations_num;
    }
    if (unshipped.size() != cfg->partitions.size())
        co_return std::nullopt;
    std::int64_t sum = 0;
    for (const auto& [pidx, n] : unshipped)
        sum += std::max<std::int64_t>(0, n);
    co_return sum;
}

} // namespace

asio::awaitable<run_report> engine::status() {
    auto& ctx = impl_->ctx;
    run_report out;
    {
        auto probe_op = refuse_if_unreachable(ctx, out);
        const bool refused = co_await std::move(probe_op);
        if (refused)
            co_return out;
    }
    auto apps_op = ctx.source_meta->list_apps(meta::app_status::invalid);
    auto apps = co_await std::move(apps_op);
    if (!apps) {
        out.preflight.failures.push_back("source cluster unreachable: " + msg(apps.error()));
        out.exit_code = 2;
        co_return out;
    }
    for (const auto& table : ctx.opt.tables) {
        const auto it = std::find_if(apps->begin(), apps->end(),
                                     [&](const meta::app_entry& a) { return a.app_name == table; });
        if (it == apps->end()) {
            out.notes.push_back("status " + table + ": no such table on the source");
            out.exit_code = 1;
            continue;
        }
        std::string writes = "writes allowed";
        if (auto d = it->envs.find(deny_env_key); d != it->envs.end())
            writes = d->second == deny_write_value ? "writes denied (timeout*write: frozen)"
                                                   : "clients redirected (" + d->second + ")";
        auto dup_op = ctx.source_meta->query_duplication(table);
        auto dups = co_await std::move(dup_op);
        std::string dup = "no duplication";
        if (!dups) {
            dup = "duplication query failed: " + msg(dups.error());
        } else {
            for (const auto& e : dups->entries) {
                if (!ctx.opt.target_cluster.empty() && e.remote != ctx.opt.target_cluster)
                    continue;
                static const char* names[] = {"DS_INIT", "DS_PREPARE", "DS_APP", "DS_LOG", "DS_PAUSE", "DS_REMOVED"};
                const int s = static_cast<int>(e.status);
                dup = "duplication " + std::to_string(e.dupid) + " to " + e.remote + " " +
                      (s >= 0 && s < 6 ? names[s] : std::to_string(s));
                if (e.partition_states) {
                    std::int64_t backlog = 0;
                    for (const auto& [p, ps] : *e.partition_states)
                        backlog += std::max<std::int64_t>(0, ps.last_committed_decree - ps.confirmed_decree);
                    dup += ", backlog " + std::to_string(backlog) + " (meta view)";
                } else if (e.status == meta::duplication_status::log) {
                    auto op = replica_backlog(ctx, table, it->app_id, e.dupid);
                    auto backlog = co_await std::move(op);
                    dup += backlog ? ", backlog " + std::to_string(*backlog) + " (replica view)"
                                   : std::string(", backlog unknown (a primary did not answer)");
                }
            }
        }
        out.notes.push_back("status " + table + ": " + dup + "; " + writes);
    }
    co_return out;
}

asio::awaitable<run_report> engine::abort() {
    auto& ctx = impl_->ctx;
    run_report out;
    {
        auto probe_op = refuse_if_unreachable(ctx, out);
        const bool refused = co_await std::move(probe_op);
        if (refused)
            co_return out;
    }
    {
        // A crashed --fast-cutover run may have left source nodes on the lowered period.
        auto op = restore_recorded_periods(ctx);
        co_await std::move(op);
    }
    auto apps_op = ctx.source_meta->list_apps(meta::app_status::invalid);
    auto apps = co_await std::move(apps_op);
    if (!apps) {
        out.preflight.failures.push_back("source cluster unreachable: " + msg(apps.error()));
        out.exit_code = 2;
        co_return out;
    }
    for (const auto& table : ctx.opt.tables) {
        const auto it = std::find_if(apps->begin(), apps->end(),
                                     [&](const meta::app_entry& a) { return a.app_name == table; });
        if (it == apps->end()) {
            out.notes.push_back("abort " + table + ": no such table on the source");
            out.exit_code = 1;
            continue;
        }
        const auto d = it->envs.find(deny_env_key);
        if (d == it->envs.end()) {
            out.notes.push_back("abort " + table + ": writes are not denied");
        } else if (d->second == deny_write_value) {
            auto op = ctx.source_meta->del_app_envs(table, {deny_env_key});
            auto r = co_await std::move(op);
            if (r)
                out.notes.push_back("abort " + table + ": writes restored (the servers apply it within one "
                                    "config-sync period)");
            else {
                out.notes.push_back("abort " + table + ": restoring writes failed: " + msg(r.error()));
                out.exit_code = 1;
            }
        } else {
            out.notes.push_back("abort " + table + ": clients are redirected (" + d->second +
                                "): the table was switched; left as it is");
        }
        if (ctx.opt.remove_duplication) {
            auto dup_op = ctx.source_meta->query_duplication(table);
            auto dups = co_await std::move(dup_op);
            if (!dups) {
                out.notes.push_back("abort " + table + ": querying duplications failed: " + msg(dups.error()));
                out.exit_code = 1;
                continue;
            }
            for (const auto& e : dups->entries) {
                if (!ctx.opt.target_cluster.empty() && e.remote != ctx.opt.target_cluster)
                    continue;
                auto mod_op = ctx.source_meta->modify_duplication(table, e.dupid, meta::duplication_status::removed,
                                                                  std::nullopt);
                auto m = co_await std::move(mod_op);
                out.notes.push_back("abort " + table + ": duplication " + std::to_string(e.dupid) + " to " + e.remote +
                                    (m ? " removed" : " not removed: " + msg(m.error())));
                if (!m)
                    out.exit_code = 1;
            }
        }
    }
    co_return out;
}

} // namespace tablemigrator::migrate
