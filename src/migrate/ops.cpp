// table_ops over the typed clients: the best progress signal each server generation offers
// (pegasus-progress-and-cutover.md): master reads partition_states for the backlog and
// replica.query-progress for the drain; 2.4/2.5 read /replica/duplication on the primaries and the
// absolute decrees from RPC_QUERY_REPLICA_INFO around it.
#include "cluster.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/metaproxy/switch.hpp>
#include <tablemigrator/zk/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <set>

namespace asio = boost::asio;

namespace tablemigrator::migrate {
namespace {

dup_status to_policy(meta::duplication_status s) {
    switch (s) {
    case meta::duplication_status::init: return dup_status::init;
    case meta::duplication_status::prepare: return dup_status::prepare;
    case meta::duplication_status::app: return dup_status::app;
    case meta::duplication_status::log: return dup_status::log;
    case meta::duplication_status::pause: return dup_status::pause;
    case meta::duplication_status::removed: return dup_status::removed;
    }
    return dup_status::init;
}

template <class T>
result<T> fail(error_code ec) {
    return result<T>(boost::system::in_place_error, ec);
}

class live_ops final : public table_ops {
public:
    live_ops(run_context& ctx, table_plan plan) : ctx_(ctx), plan_(std::move(plan)) {}

    asio::awaitable<result<ev_start>> inspect() override {
        ev_start st;
        auto dup_op = paced_duplications();
        auto dups = co_await std::move(dup_op);
        if (!dups)
            co_return fail<ev_start>(dups.error());
        if (const auto* e = find_entry(*dups)) {
            st.duplication_exists = true;
            st.existing_status = to_policy(e->status);
            dupid_ = e->dupid;
        }
        // The envs: one LIST_APPS shared by every table that starts soon after preflight (500
        // tables must not cost 500 listings); a table started later (--parallel) lists again.
        const std::vector<meta::app_entry>* apps = nullptr;
        std::vector<meta::app_entry> fresh;
        if (ctx_.apps_snapshot && std::chrono::steady_clock::now() - ctx_.apps_snapshot_at < apps_snapshot_max_age) {
            apps = &*ctx_.apps_snapshot;
        } else {
            {
                auto wait = pace();
                co_await std::move(wait);
            }
            auto apps_op = ctx_.source_meta->list_apps(meta::app_status::available);
            auto listed = co_await std::move(apps_op);
            if (!listed)
                co_return fail<ev_start>(listed.error());
            fresh = std::move(*listed);
            apps = &fresh;
        }
        for (const auto& a : *apps) {
            if (a.app_name != plan_.table)
                continue;
            const auto it = a.envs.find(deny_env_key);
            st.deny_write_set = it != a.envs.end() && it->second == deny_write_value;
        }
        co_return st;
    }

    asio::awaitable<ev_sync_lowered> lower_sync_period() override {
        auto op = acquire_fast_cutover(ctx_, plan_.table);
        auto r = co_await std::move(op);
        co_return r;
    }

    asio::awaitable<status> add_duplication() override {
        meta::add_duplication_request req;
        req.app_name = plan_.table;
        req.remote_cluster = ctx_.opt.target_cluster;
        req.checkpoint = true;
        {
            auto wait = pace();
            co_await std::move(wait);
        }
        auto op = ctx_.source_meta->add_duplication(req);
        auto r = co_await std::move(op);
        if (!r && r.error() == rdsn_errc::ERR_DUP_EXIST)
            co_return status{}; // master: the existing one is reused
        if (!r)
            co_return status{r.error()};
        if (r->dupid == 0) {
            // 2.4/2.5 answer ERR_OK with dupid 0 when starting the duplication failed (§2.6).
            spdlog::error("table {}: add duplication answered ERR_OK with dupid 0 ({}): starting it failed",
                          plan_.table, r->hint);
            co_return status{make_error_code(client_errc::precondition_failed)};
        }
        dupid_ = r->dupid;
        spdlog::info("table {}: duplication {} to {} added", plan_.table, r->dupid, ctx_.opt.target_cluster);
        co_return status{};
    }

    asio::awaitable<result<ev_duplication>> query_duplication() override {
        auto op = paced_duplications();
        auto dups = co_await std::move(op);
        if (!dups)
            co_return fail<ev_duplication>(dups.error());
        ev_duplication ev;
        if (const auto* e = find_entry(*dups)) {
            ev.exists = true;
            ev.status = to_policy(e->status);
            dupid_ = e->dupid;
        }
        co_return ev;
    }

    asio::awaitable<result<ev_backlog>> query_backlog() override {
        auto op = paced_duplications();
        auto dups = co_await std::move(op);
        if (!dups)
            co_return fail<ev_backlog>(dups.error());
        const auto* e = find_entry(*dups);
        if (!e)
            co_return ev_backlog{dup_status::removed, 0, std::nullopt, false};
        dupid_ = e->dupid;
        const dup_status st = to_policy(e->status);
        if (st != dup_status::log)
            co_return ev_backlog{st, 0, std::nullopt, false};

        std::vector<partition_progress> parts;
        if (e->partition_states) {
            // master: the meta's per-partition view (lags by a sync period; fine for the threshold).
            for (const auto& [pidx, ps] : *e->partition_states)
                parts.push_back({pidx, ps.last_committed_decree, ps.confirmed_decree});
            ev_backlog b = table_backlog(parts, plan_.partition_count, st);
            std::int64_t acked = 0;
            for (const auto& p : parts)
                acked += std::max<std::int64_t>(0, p.acknowledged);
            rate_.add(std::chrono::steady_clock::now(), acked);
            b.rate_per_s = rate_.per_second();
            if (b.complete && b.backlog <= ctx_.opt.threshold) {
                // The meta's view can be stale (right after DS_LOG it may not have heard from the
                // replicas yet and read 0): before this reading can start a freeze, confirm it with
                // the primaries' own progress (replica.query-progress).
                auto fresh_op = primaries_backlog();
                auto fresh = co_await std::move(fresh_op);
                if (!fresh) {
                    spdlog::debug("table {}: confirming the backlog on the primaries failed: {}", plan_.table,
                                  fresh.error().message());
                    b.complete = false;
                } else {
                    b.backlog = std::max(b.backlog, fresh->backlog);
                    b.complete = fresh->complete;
                }
            }
            co_return b;
        }
        // 2.4/2.5: not_duplicated_mutations_num of this duplication on every primary.
        auto prim_op = primaries();
        auto prim = co_await std::move(prim_op);
        if (!prim)
            co_return fail<ev_backlog>(prim.error());
        std::map<std::int32_t, std::int64_t> unshipped;
        for (const auto& ep : *prim) {
            auto hop = ctx_.replica(ep).duplication(plan_.app_id);
            auto h = co_await std::move(hop);
            if (!h) {
                if (h.error() == client_errc::http_not_found)
                    continue;
                co_return fail<ev_backlog>(h.error());
            }
            const auto d = h->find(dupid_);
            if (d == h->end())
                continue;
            for (const auto& [pid, ps] : d->second)
                if (pid.app_id == plan_.app_id)
                    unshipped[pid.partition_index] = ps.not_duplicated_mutations_num;
        }
        for (const auto& [pidx, n] : unshipped)
            parts.push_back({pidx, n, 0});
        ev_backlog b = table_backlog(parts, plan_.partition_count, st);
        if (!b.complete)
            primaries_at_ = time_point{}; // a primary moved: resolve them again next time
        co_return b;
    }

    asio::awaitable<status> set_deny_write() override {
        {
            auto wait = pace(urgent);
            co_await std::move(wait);
        }
        auto op = ctx_.source_meta->set_app_envs(plan_.table, {{deny_env_key, deny_write_value}});
        auto r = co_await std::move(op);
        if (!r)
            co_return status{r.error()};
        co_return status{};
    }

    asio::awaitable<status> restore_writes() override {
        auto op = ctx_.source_meta->del_app_envs(plan_.table, {deny_env_key});
        auto r = co_await std::move(op);
        if (!r)
            co_return status{r.error()};
        spdlog::info("table {}: writes restored ({})", plan_.table, *r);
        co_return status{};
    }

    asio::awaitable<result<drain_observation>> drain_samples() override {
        auto cfg_op = paced_config(urgent);
        auto cfg = co_await std::move(cfg_op);
        if (!cfg)
            co_return fail<drain_observation>(cfg.error());
        drain_observation obs;
        obs.partition_count = cfg->partition_count;
        const auto groups = by_primary(*cfg); // named: the loop body co_awaits
        for (const auto& [ep, pidxs] : groups) {
            // No co_await inside a conditional expression (g++ 12 coroutine miscompilation).
            result<std::vector<drain_sample>> samples{std::vector<drain_sample>{}};
            if (ctx_.generation == replica::server_generation::master) {
                auto op = master_samples(ep, pidxs);
                samples = co_await std::move(op);
            } else {
                auto op = legacy_samples(ep, pidxs);
                samples = co_await std::move(op);
            }
            if (!samples)
                co_return fail<drain_observation>(samples.error());
            obs.samples.insert(obs.samples.end(), samples->begin(), samples->end());
        }
        co_return obs;
    }

    asio::awaitable<ev_switched> switch_clients() override {
        // Right before clients are pointed at the target, it must answer for this table: preflight
        // saw it long ago, and switching to a cluster nobody can reach turns the freeze into an
        // outage, where not switching restores writes on the source. Bounded on its own (15 s).
        if (!ctx_.opt.target_metas.empty()) {
            std::vector<rpc::endpoint> eps;
            for (const auto& t : ctx_.opt.target_metas)
                if (auto ep = rpc::parse_endpoint(t))
                    eps.push_back(*ep);
            meta::meta_client_options mo;
            mo.call_timeout = std::chrono::seconds(5);
            mo.overall_timeout = std::chrono::seconds(15);
            meta::meta_client target(ctx_.pool, eps, mo);
            auto check_op = target.query_config(plan_.table);
            auto check = co_await std::move(check_op);
            if (!check) {
                ev_switched ev;
                ev.entry_switched = false;
                ev.reconfig_set = false;
                ev.error = check.error();
                ev.message = "the target cluster did not answer for " + plan_.table +
                             " right before the switch (" + check.error().message() + "); entry not touched";
                co_return ev;
            }
        }
        metaproxy::switch_request req;
        req.table = plan_.table;
        req.root = *ctx_.opt.root;
        req.source_cluster = ctx_.source_cluster;
        req.target_cluster = ctx_.target_cluster;
        req.expected_target_cluster = ctx_.opt.target_cluster;
        req.target_meta_addrs = ctx_.opt.target_meta_text;
        req.create_missing = ctx_.opt.create_missing;
        auto ex = ctx_.ex;
        const std::string connect = ctx_.zk_connect;
        metaproxy::zk_connector connector = [ex, connect]() {
            return zk::client::connect(ex, connect, zk::connect_options{});
        };
        meta::meta_client* meta = ctx_.source_meta.get();
        async::request_pacer* budget = &ctx_.budget;
        const std::string table = plan_.table;
        metaproxy::reconfig_fn reconfig = [meta, budget, table]() -> asio::awaitable<status> {
            {
                auto wait = budget->acquire(async::request_pacer::priority::urgent);
                co_await std::move(wait);
            }
            auto op = meta->set_app_envs(table, {{deny_env_key, reconfig_all_value}});
            auto r = co_await std::move(op);
            if (!r)
                co_return status{r.error()};
            co_return status{};
        };
        auto op = metaproxy::switch_table(connector, req, reconfig, ctx_.opt.switch_hooks);
        auto out = co_await std::move(op);
        ev_switched ev;
        using st = metaproxy::switch_outcome::state;
        // An entry whose state is unknown may name the target: never restore writes then.
        ev.entry_switched = out.entry_state == st::switched || out.entry_state == st::already_switched ||
                            out.entry_state == st::unknown;
        ev.reconfig_set = out.reconfig_set;
        ev.error = out.error;
        ev.message = std::string(metaproxy::to_string(out.entry_state)) + ": " + out.message;
        for (const auto& w : out.warnings)
            spdlog::warn("table {}: {}", plan_.table, w);
        co_return ev;
    }

private:
    static constexpr std::chrono::seconds apps_snapshot_max_age{30};
    static constexpr auto urgent = async::request_pacer::priority::urgent;
    static constexpr std::chrono::seconds primaries_max_age{10};

    // Every request to the source meta passes the run's budget (--meta-rps), except deleting the
    // deny env: restoring writes never queues behind other tables' polls.
    asio::awaitable<void> pace(async::request_pacer::priority p = async::request_pacer::priority::normal) {
        auto op = ctx_.budget.acquire(p);
        co_await std::move(op);
    }

    asio::awaitable<result<meta::duplication_list>> paced_duplications() {
        {
            auto wait = pace();
            co_await std::move(wait);
        }
        auto op = ctx_.source_meta->query_duplication(plan_.table);
        co_return co_await std::move(op);
    }

    asio::awaitable<result<meta::table_config>>
    paced_config(async::request_pacer::priority p = async::request_pacer::priority::normal) {
        {
            auto wait = pace(p);
            co_await std::move(wait);
        }
        auto op = ctx_.source_meta->query_config(plan_.table);
        co_return co_await std::move(op);
    }

    static std::map<rpc::endpoint, std::vector<std::int32_t>> by_primary(const meta::table_config& cfg) {
        std::map<rpc::endpoint, std::vector<std::int32_t>> out;
        for (const auto& p : cfg.partitions)
            if (p.primary)
                out[*p.primary].push_back(p.partition_index);
        return out;
    }

    // The table's primaries, from a query-config at most primaries_max_age old (2.4/2.5 backlog
    // polls need them every time; they move rarely, and a move shows as an incomplete reading,
    // which drops the cache).
    asio::awaitable<result<std::set<rpc::endpoint>>> primaries() {
        const auto now = std::chrono::steady_clock::now();
        if (primaries_at_ != time_point{} && now - primaries_at_ < primaries_max_age)
            co_return primaries_;
        auto cfg_op = paced_config();
        auto cfg = co_await std::move(cfg_op);
        if (!cfg)
            co_return fail<std::set<rpc::endpoint>>(cfg.error());
        primaries_.clear();
        for (const auto& p : cfg->partitions)
            if (p.primary)
                primaries_.insert(*p.primary);
        primaries_at_ = now;
        co_return primaries_;
    }

    // master: this table's backlog as its primaries see it (replica.query-progress): committed
    // minus this duplication's replica_confirmed_decree, per partition.
    asio::awaitable<result<ev_backlog>> primaries_backlog() {
        auto cfg_op = paced_config(urgent);
        auto cfg = co_await std::move(cfg_op);
        if (!cfg)
            co_return fail<ev_backlog>(cfg.error());
        std::vector<partition_progress> parts;
        const auto groups = by_primary(*cfg); // named: the loop body co_awaits
        for (const auto& [ep, pidxs] : groups) {
            auto op = master_samples(ep, pidxs);
            auto samples = co_await std::move(op);
            if (!samples)
                co_return fail<ev_backlog>(samples.error());
            for (const auto& smp : *samples)
                if (smp.acknowledged >= 0)
                    parts.push_back({smp.pidx, smp.freeze_decree, smp.acknowledged});
        }
        co_return table_backlog(parts, plan_.partition_count, dup_status::log);
    }

    const meta::duplication_info* find_entry(const meta::duplication_list& l) const {
        const meta::duplication_info* best = nullptr;
        for (const auto& e : l.entries)
            if (e.remote == ctx_.opt.target_cluster && e.status != meta::duplication_status::removed)
                if (!best || e.dupid > best->dupid)
                    best = &e;
        return best;
    }

    // master: replica.query-progress on the primary; F_p = max_prepared_decree, acknowledged =
    // this duplication's replica_confirmed_decree (progress doc §2.4).
    asio::awaitable<result<std::vector<drain_sample>>> master_samples(rpc::endpoint ep,
                                                                      std::vector<std::int32_t> pidxs) {
        std::vector<replica::partition_id> pids;
        for (auto p : pidxs)
            pids.push_back({plan_.app_id, p});
        auto op = ctx_.replica(ep).query_progress(pids);
        auto out = co_await std::move(op);
        if (!out)
            co_return fail<std::vector<drain_sample>>(out.error());
        std::vector<drain_sample> samples;
        for (const auto& e : out->entries) {
            if (e.not_found || e.role != replica::replica_role::primary || e.pid.app_id != plan_.app_id)
                continue;
            drain_sample s{e.pid.partition_index, ep.to_string(),
                           std::max(e.progress.max_prepared_decree, e.progress.last_committed_decree), -1};
            for (const auto& d : e.progress.duplications)
                if (d.dupid == dupid_ || (dupid_ == 0 && d.remote_cluster_name == ctx_.opt.target_cluster))
                    s.acknowledged = d.replica_confirmed_decree;
            samples.push_back(s);
        }
        co_return samples;
    }

    // 2.4/2.5: F_p = last committed decree; acknowledged = committed - not_duplicated, accepted
    // only when the committed decree did not move around the HTTP read (progress doc §5.3).
    asio::awaitable<result<std::vector<drain_sample>>> legacy_samples(rpc::endpoint ep,
                                                                      std::vector<std::int32_t> pidxs) {
        auto& rc = ctx_.replica(ep);
        auto before_op = rc.query_replica_info();
        auto before = co_await std::move(before_op);
        if (!before)
            co_return fail<std::vector<drain_sample>>(before.error());
        auto http_op = rc.duplication(plan_.app_id);
        auto http = co_await std::move(http_op);
        if (!http && http.error() != client_errc::http_not_found)
            co_return fail<std::vector<drain_sample>>(http.error());
        auto after_op = rc.query_replica_info();
        auto after = co_await std::move(after_op);
        if (!after)
            co_return fail<std::vector<drain_sample>>(after.error());
        auto find = [&](const std::vector<replica::replica_info_entry>& v,
                        std::int32_t pidx) -> const replica::replica_info_entry* {
            for (const auto& r : v)
                if (r.pid.app_id == plan_.app_id && r.pid.partition_index == pidx)
                    return &r;
            return nullptr;
        };
        std::vector<drain_sample> samples;
        for (auto pidx : pidxs) {
            const auto* r0 = find(*before, pidx);
            const auto* r1 = find(*after, pidx);
            const std::int64_t c0 = r0 ? r0->last_committed_decree : -1;
            const std::int64_t c1 = r1 ? r1->last_committed_decree : -1;
            // F_p covers writes prepared but not yet committed when it is read.
            const std::int64_t f = r1 ? std::max(r1->last_committed_decree, r1->last_prepared_decree) : -1;
            drain_sample s{pidx, ep.to_string(), f, -1};
            if (c0 >= 0 && c0 == c1 && http) {
                const auto d = http->find(dupid_);
                if (d != http->end()) {
                    const auto it = d->second.find(replica::partition_id{plan_.app_id, pidx});
                    if (it != d->second.end())
                        s.acknowledged = c1 - it->second.not_duplicated_mutations_num;
                }
            }
            samples.push_back(s);
        }
        co_return samples;
    }

    run_context& ctx_;
    table_plan plan_;
    std::int32_t dupid_ = 0;
    rate_estimator rate_;
    std::set<rpc::endpoint> primaries_;
    time_point primaries_at_{};
};

} // namespace

std::shared_ptr<table_ops> make_table_ops(run_context& ctx, const table_plan& plan) {
    return std::make_shared<live_ops>(ctx, plan);
}

} // namespace tablemigrator::migrate
