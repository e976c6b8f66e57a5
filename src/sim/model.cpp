// The simulated deployment's state machine: writes and decrees, per-node timers (config sync,
// duplication sync, perf-counter snapshot, group check), the duplication lifecycle and the
// rate-limited shipper.
#include "sim/model.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace tablemigrator::sim {

std::string_view dup_status_name(dup_status s) noexcept {
    switch (s) {
    case dup_status::init:
        return "DS_INIT";
    case dup_status::prepare:
        return "DS_PREPARE";
    case dup_status::app:
        return "DS_APP";
    case dup_status::log:
        return "DS_LOG";
    case dup_status::pause:
        return "DS_PAUSE";
    case dup_status::removed:
        return "DS_REMOVED";
    }
    return "DS_INVALID";
}

std::string_view fail_mode_name(fail_mode m) noexcept {
    switch (m) {
    case fail_mode::slow:
        return "FAIL_SLOW";
    case fail_mode::skip:
        return "FAIL_SKIP";
    case fail_mode::fast:
        return "FAIL_FAST";
    }
    return "FAIL_INVALID";
}

bool is_valid_deny_value(std::string_view v) noexcept {
    auto star = v.find('*');
    if (star == std::string_view::npos)
        return false;
    auto mode = v.substr(0, star);
    auto ops = v.substr(star + 1);
    return (mode == "timeout" || mode == "reconfig") &&
           (ops == "all" || ops == "write" || ops == "read");
}

deny_flags parse_deny(std::string_view v) noexcept {
    deny_flags f;
    if (!is_valid_deny_value(v))
        return f;
    auto star = v.find('*');
    f.timeout = v.substr(0, star) == "timeout";
    auto ops = v.substr(star + 1);
    f.reads = ops == "read" || ops == "all";
    f.writes = ops == "write" || ops == "all";
    return f;
}

std::uint64_t make_timetag(std::int64_t timestamp_us, int cluster_id, bool deleted) noexcept {
    return (static_cast<std::uint64_t>(timestamp_us) << 8) |
           (static_cast<std::uint64_t>(cluster_id & 0x7f) << 1) | (deleted ? 1u : 0u);
}

std::string encode_stored_value(std::uint32_t expire_ts, std::uint64_t timetag,
                                std::string_view user) {
    std::string out;
    out.reserve(12 + user.size());
    for (int i = 3; i >= 0; --i)
        out.push_back(static_cast<char>((expire_ts >> (8 * i)) & 0xff));
    for (int i = 7; i >= 0; --i)
        out.push_back(static_cast<char>((timetag >> (8 * i)) & 0xff));
    out.append(user);
    return out;
}

std::optional<stored_value> decode_stored_value(std::string_view s, int data_version) {
    std::size_t header = data_version >= 1 ? 12 : 4;
    if (s.size() < header)
        return std::nullopt;
    stored_value v;
    for (int i = 0; i < 4; ++i)
        v.expire_ts =
            (v.expire_ts << 8) | static_cast<std::uint8_t>(s[static_cast<std::size_t>(i)]);
    if (data_version >= 1)
        for (std::size_t i = 4; i < 12; ++i)
            v.timetag = (v.timetag << 8) | static_cast<std::uint8_t>(s[i]);
    v.user = std::string(s.substr(header));
    return v;
}

// ---- cluster_state -----------------------------------------------------------------------------

cluster_state::cluster_state(model& m, cluster_config cfg, int index)
    : model_(m)
    , cfg_(std::move(cfg))
    , index_(index) {
    for (std::size_t i = 0; i < cfg_.meta_ports.size(); ++i)
        metas.push_back(meta_node{static_cast<int>(i), cfg_.meta_ports[i], true});
    for (std::size_t i = 0; i < cfg_.replica_ports.size(); ++i) {
        replica_node n;
        n.index = static_cast<int>(i);
        n.port = cfg_.replica_ports[i];
        n.config_sync_interval = cfg_.timing.config_sync_interval;
        n.empty_write_disabled = cfg_.empty_write_disabled;
        nodes.push_back(std::move(n));
    }
    for (const auto& t : cfg_.tables)
        create_table(t);
}

table_state* cluster_state::find_table(std::string_view name) {
    for (auto& [id, t] : tables)
        if (t.name == name)
            return &t;
    return nullptr;
}

table_state* cluster_state::find_table(std::int32_t app_id) {
    auto it = tables.find(app_id);
    return it == tables.end() ? nullptr : &it->second;
}

std::int64_t cluster_state::node_start_unix_s(int node) const {
    const auto& n = nodes.at(static_cast<std::size_t>(node));
    return (model_.unix_us() - (model_.now() - n.started_at).count()) / 1000000;
}

std::string cluster_state::meta_list() const {
    std::string out;
    for (const auto& m : metas) {
        if (!out.empty())
            out += ',';
        out += "127.0.0.1:" + std::to_string(m.port);
    }
    return out;
}

std::string cluster_state::node_address(int node) const {
    return "127.0.0.1:" + std::to_string(nodes.at(static_cast<std::size_t>(node)).port);
}

int cluster_state::own_cluster_id() const {
    auto it = cfg_.duplication_group.find(cfg_.name);
    return it == cfg_.duplication_group.end() ? 0 : it->second;
}

bool cluster_state::node_hosts(const table_state& t, std::int32_t pidx, int node) const {
    if (pidx < 0 || pidx >= t.partition_count)
        return false;
    const auto& p = t.partitions[static_cast<std::size_t>(pidx)];
    return p.primary == node ||
           std::find(p.secondaries.begin(), p.secondaries.end(), node) != p.secondaries.end();
}

table_state& cluster_state::create_table(const table_config& c) {
    table_state t;
    t.app_id = next_app_id++;
    t.name = c.name;
    t.partition_count = c.partition_count;
    t.max_replica_count = c.replica_count;
    t.data_version = c.data_version;
    t.envs = c.envs;
    t.create_second = model_.unix_us() / 1000000;
    auto n = static_cast<int>(nodes.size());
    int replicas = std::min(c.replica_count, n);
    for (std::int32_t p = 0; p < c.partition_count; ++p) {
        partition_state ps;
        ps.index = p;
        // Spread primaries round-robin, offset by app id, secondaries on the following nodes.
        ps.primary = (t.app_id + p) % n;
        for (int r = 1; r < replicas; ++r)
            ps.secondaries.push_back((ps.primary + r) % n);
        ps.last_prepare_at = model_.now();
        auto& pn = nodes[static_cast<std::size_t>(ps.primary)];
        pn.primaries.emplace_back(t.app_id, p);
        pn.hosted_apps.insert(t.app_id);
        ++pn.replica_count;
        for (auto s : ps.secondaries) {
            nodes[static_cast<std::size_t>(s)].hosted_apps.insert(t.app_id);
            ++nodes[static_cast<std::size_t>(s)].replica_count;
        }
        t.partitions.push_back(std::move(ps));
    }
    auto id = t.app_id;
    return tables.emplace(id, std::move(t)).first->second;
}

std::int64_t cluster_state::apply_write(table_state& t, std::int32_t pidx, std::string task_code,
                                        std::vector<write_op> ops, std::size_t bytes) {
    auto& p = t.partitions.at(static_cast<std::size_t>(pidx));
    mutation m;
    m.decree = ++p.last_committed;
    m.timestamp_us = std::max(p.last_timestamp_us + 1, model_.unix_us());
    p.last_timestamp_us = m.timestamp_us;
    p.last_prepare_at = model_.now();
    if (!task_code.empty())
        p.last_real_decree = m.decree;
    int cid = own_cluster_id();
    for (const auto& op : ops) {
        if (op.op == write_op::kind::remove) {
            p.data.erase(op.key);
            continue;
        }
        if (t.data_version >= 1)
            // Duplicated writes keep the source's timestamp and cluster id in their timetag (§7.2).
            p.data[op.key] = encode_stored_value(
                op.expire_ts, op.timetag ? op.timetag : make_timetag(m.timestamp_us, cid, false),
                op.value);
        else {
            std::string v;
            for (int i = 3; i >= 0; --i)
                v.push_back(static_cast<char>((op.expire_ts >> (8 * i)) & 0xff));
            p.data[op.key] = v + op.value;
        }
    }
    if (!t.dups.empty()) {
        m.task_code = std::move(task_code);
        m.ops = std::move(ops);
        m.bytes = bytes;
        p.log.push_back(std::move(m));
    }
    return p.last_committed;
}

std::int64_t cluster_state::add_empty_write(table_state& t, std::int32_t pidx) {
    ++t.partitions.at(static_cast<std::size_t>(pidx)).empty_writes;
    return apply_write(t, pidx, "", {}, 0);
}

void cluster_state::start_node_timers(int node) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    auto gen_id = ++n.generation_id;
    auto& ev = model_.events();
    n.started_at = model_.now();
    // All node timers start together at start-up, first tick one period later, strictly periodic:
    // the node's phase is fixed by its start time (progress doc §6.1).
    ev.schedule_after(n.config_sync_interval,
                      [this, node, gen_id] { on_config_sync(node, gen_id); });
    ev.schedule_after(cfg_.timing.duplication_sync_period,
                      [this, node, gen_id] { on_duplication_sync(node, gen_id); });
    // The counters exist (as zeros) from start-up; the reporter refreshes them every interval.
    ev.schedule_after(sim_time(0), [this, node, gen_id] { on_perf_snapshot(node, gen_id); });
    ev.schedule_after(cfg_.timing.group_check_interval,
                      [this, node, gen_id] { on_group_check(node, gen_id); });
}

void cluster_state::on_config_sync(int node, std::uint64_t gen_id) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    if (n.generation_id != gen_id || !n.alive)
        return;
    // The period is read when the next tick is scheduled, so a changed period only affects ticks
    // after the one already scheduled (progress doc §6.1).
    model_.events().schedule_after(n.config_sync_interval,
                                   [this, node, gen_id] { on_config_sync(node, gen_id); });
    if (!metas.at(static_cast<std::size_t>(leader)).alive)
        return; // the sync RPC fails; envs stay as they were
    ++n.config_syncs;
    std::map<std::int32_t, applied_envs> snap;
    for (const auto& [id, t] : tables) {
        // Unchanged envs need no copy (keeps a tick cheap with thousands of tables).
        if (auto it = n.applied.find(id);
            it != n.applied.end() && it->second.version == t.envs_version)
            continue;
        if (!n.hosted_apps.count(id))
            continue;
        applied_envs a;
        a.version = t.envs_version;
        a.envs = t.envs;
        auto it = t.envs.find("replica.deny_client_request");
        if (it != t.envs.end())
            a.deny = parse_deny(it->second);
        snap.emplace(id, std::move(a));
    }
    if (fault.env_propagation_delay.count() > 0) {
        model_.events().schedule_after(
            fault.env_propagation_delay, [this, node, gen_id, s = std::move(snap)]() mutable {
                if (nodes[static_cast<std::size_t>(node)].generation_id == gen_id)
                    apply_envs(node, std::move(s));
            });
    } else {
        apply_envs(node, std::move(snap));
    }
}

void cluster_state::apply_envs(int node, std::map<std::int32_t, applied_envs> snap) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    for (auto& [id, a] : snap) {
        auto& cur = n.applied[id];
        if (cur.version == a.version)
            continue;
        auto* t = find_table(id);
        if (t)
            record_env_effects(node, *t, cur, a);
        cur = std::move(a);
    }
}

void cluster_state::record_env_effects(int node, const table_state& t, const applied_envs& before,
                                       const applied_envs& after) {
    auto get = [](const applied_envs& a) {
        auto it = a.envs.find("replica.deny_client_request");
        return it == a.envs.end() ? std::string() : it->second;
    };
    auto old_v = get(before);
    auto new_v = get(after);
    if (old_v == new_v)
        return;
    env_effect e;
    e.cluster = cfg_.name;
    e.table = t.name;
    e.node = node;
    e.value = new_v;
    e.at = model_.now();
    e.unix_ms = model_.unix_us() / 1000;
    env_effects.push_back(e);
    spdlog::debug("sim {}: node {} applies {}={} for table {}", cfg_.name, node,
                  "replica.deny_client_request", new_v, t.name);
    if (!before.deny.writes && after.deny.writes) {
        // The freeze: remember each primary's last real decree to time its acknowledgement.
        for (const auto& p : t.partitions) {
            if (p.primary != node)
                continue;
            auto key = std::make_pair(t.app_id, p.index);
            if (freezes.count(key))
                continue;
            freeze_record f;
            f.last_decree = p.last_real_decree;
            f.frozen_at = model_.now();
            freezes.emplace(key, f);
            for (auto dupid : t.dups) {
                auto& d = dups.at(dupid);
                check_freeze_acks(const_cast<table_state&>(t), p.index,
                                  d.partitions[static_cast<std::size_t>(p.index)]);
            }
        }
    }
}

void cluster_state::check_freeze_acks(table_state& t, std::int32_t pidx, const dup_partition& p) {
    auto it = freezes.find({t.app_id, pidx});
    if (it == freezes.end() || it->second.acked_at)
        return;
    if (p.has_duplicator && p.confirmed >= it->second.last_decree && p.confirmed >= 0) {
        it->second.acked_at = model_.now();
        it->second.acked_unix_ms = model_.unix_us() / 1000;
    }
}

std::int64_t cluster_state::pending_for_node(int node) const {
    std::int64_t sum = 0;
    for (const auto& [id, d] : dups) {
        auto it = tables.find(d.app_id);
        if (it == tables.end())
            continue;
        for (std::size_t p = 0; p < d.partitions.size(); ++p) {
            const auto& dp = d.partitions[p];
            if (!dp.has_duplicator || it->second.partitions[p].primary != node)
                continue;
            sum +=
                std::max<std::int64_t>(0, it->second.partitions[p].last_committed - dp.confirmed);
        }
    }
    return sum;
}

void cluster_state::on_duplication_sync(int node, std::uint64_t gen_id) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    if (n.generation_id != gen_id || !n.alive)
        return;
    model_.events().schedule_after(cfg_.timing.duplication_sync_period,
                                   [this, node, gen_id] { on_duplication_sync(node, gen_id); });
    bool meta_up = metas.at(static_cast<std::size_t>(leader)).alive;
    std::vector<std::int32_t> to_create;
    for (auto& [dupid, d] : dups) {
        auto* t = find_table(d.app_id);
        if (!t)
            continue;
        for (std::size_t p = 0; p < d.partitions.size(); ++p) {
            auto& dp = d.partitions[p];
            auto& ps = t->partitions[p];
            if (ps.primary != node)
                continue;
            if (!dp.has_duplicator && meta_up) {
                // The primary learns about the duplication from this sync and creates a duplicator.
                dp.has_duplicator = true;
                if (d.status == dup_status::prepare && !dp.prepared) {
                    // Emergency checkpoint covering the current decree.
                    dp.start_decree = ps.last_committed;
                    dp.checkpoint = ps.data;
                    ps.last_durable = ps.last_committed;
                    dp.prepared = true;
                } else if (dp.start_decree < 0) {
                    dp.start_decree = ps.last_committed;
                }
                // A duplicator replacing one on a failed primary restarts from the meta's
                // persisted decree (progress doc §2.4); a new one from the start decree.
                dp.confirmed = dp.meta_confirmed >= 0 ? dp.meta_confirmed : dp.start_decree;
            }
            if (!dp.has_duplicator)
                continue;
            dp.pending_gauge = std::max<std::int64_t>(0, ps.last_committed - dp.confirmed);
            if (!meta_up)
                continue;
            // The meta persists progress at most once per throttle period per partition, and
            // only when it changed; the reply carries the persisted value back.
            bool changed =
                dp.confirmed != dp.meta_confirmed || ps.last_committed != dp.meta_last_committed;
            if (changed && model_.now() - dp.last_persist >= cfg_.timing.meta_persist_throttle) {
                dp.meta_confirmed = dp.confirmed;
                dp.meta_last_committed = ps.last_committed;
                dp.last_persist = model_.now();
            }
            dp.replica_meta_persisted = dp.meta_confirmed;
        }
        if (d.status == dup_status::prepare) {
            bool all = std::all_of(d.partitions.begin(), d.partitions.end(),
                                   [](const dup_partition& x) { return x.prepared; });
            if (all)
                to_create.push_back(dupid);
        }
    }
    n.pending_mutations = pending_for_node(node);
    for (auto id : to_create)
        if (auto it = dups.find(id); it != dups.end())
            maybe_create_target(it->second);
}

void cluster_state::maybe_create_target(duplication_state& d) {
    auto* src = find_table(d.app_id);
    auto* target = model_.find_cluster(d.remote_cluster);
    if (!src || !target)
        return; // a remote cluster outside this process: stays in DS_PREPARE (documented)
    if (target->find_table(d.remote_app_name)) {
        // UNVERIFIED on real servers (create uses success_if_exist=false): we keep retrying.
        if (!d.warned_target_exists)
            spdlog::warn(
                "sim {}: duplication {} target table {}.{} already exists; staying in DS_PREPARE",
                cfg_.name, d.dupid, d.remote_cluster, d.remote_app_name);
        d.warned_target_exists = true;
        return;
    }
    table_config tc;
    tc.name = d.remote_app_name;
    tc.partition_count = src->partition_count;
    tc.replica_count = d.remote_replica_count > 0 ? d.remote_replica_count : src->max_replica_count;
    tc.data_version = src->data_version;
    tc.envs = src->envs;
    tc.envs["duplication.master_cluster"] = cfg_.name;
    tc.envs["duplication.master_metas"] = meta_list();
    tc.envs["duplication.master_app_name"] = src->name;
    tc.envs["duplication.follower_app_status"] = "creating";
    target->create_table(tc);
    ++target->state_changing_requests["RPC_CM_CREATE_APP"];
    d.target_created = true;
    d.status = dup_status::app;
    auto dupid = d.dupid;
    model_.events().schedule_after(cfg_.timing.checkpoint_copy_duration,
                                   [this, dupid] { finish_checkpoint(dupid); });
}

void cluster_state::finish_checkpoint(std::int32_t dupid) {
    auto it = dups.find(dupid);
    if (it == dups.end())
        return;
    auto& d = it->second;
    auto* target = model_.find_cluster(d.remote_cluster);
    auto* tt = target ? target->find_table(d.remote_app_name) : nullptr;
    if (!tt)
        return;
    for (std::size_t p = 0; p < d.partitions.size() && p < tt->partitions.size(); ++p) {
        auto& dp = d.partitions[p];
        for (auto& [k, v] : dp.checkpoint)
            tt->partitions[p].data[k] = v; // the learned checkpoint keeps the source's timetags
        dp.checkpoint.clear();
    }
    tt->envs["duplication.follower_app_status"] = "created";
    ++tt->envs_version;
    d.checkpoint_applied = true;
    if (d.status == dup_status::app) {
        d.status = dup_status::log;
        schedule_ship_tick(dupid);
    }
}

void cluster_state::schedule_ship_tick(std::int32_t dupid) {
    auto& d = dups.at(dupid);
    if (d.ship_tick_pending)
        return;
    d.ship_tick_pending = true;
    model_.events().schedule_after(cfg_.timing.dup_poll_delay,
                                   [this, dupid] { on_ship_tick(dupid); });
}

void cluster_state::on_ship_tick(std::int32_t dupid) {
    auto it = dups.find(dupid);
    if (it == dups.end())
        return;
    it->second.ship_tick_pending = false;
    if (it->second.status != dup_status::log)
        return; // paused: resumed ticks are scheduled by the status change
    schedule_ship_tick(dupid);
    auto& d = it->second;
    auto* t = find_table(d.app_id);
    auto* target = model_.find_cluster(d.remote_cluster);
    auto* tt = target ? target->find_table(d.remote_app_name) : nullptr;
    if (!t)
        return;
    double dt = std::chrono::duration<double>(cfg_.timing.dup_poll_delay).count();
    double rate = cfg_.timing.shipping_rate / std::max(fault.shipping_slowdown, 1e-9);
    int cid = own_cluster_id();
    for (std::size_t p = 0; p < d.partitions.size(); ++p) {
        auto& dp = d.partitions[p];
        auto& ps = t->partitions[p];
        if (!dp.has_duplicator || ps.primary < 0 ||
            !nodes[static_cast<std::size_t>(ps.primary)].alive)
            continue;
        if (fault.stall_shipping)
            continue;
        dp.credit = std::min(dp.credit + rate * dt, std::max(rate, 1.0));
        // 2.4/2.5 load the plog only up to the newest commit point carried by a logged mutation,
        // which is the previous decree: the newest mutation waits for a later one (#2050).
        std::int64_t limit =
            gen() == generation::master ? ps.last_committed : ps.last_committed - 1;
        if (dp.confirmed >= limit)
            continue;
        bool target_ok = tt && p < tt->partitions.size() && tt->partitions[p].primary >= 0 &&
                         target->nodes[static_cast<std::size_t>(tt->partitions[p].primary)].alive;
        std::vector<const mutation*> batch;
        std::int64_t new_confirmed = dp.confirmed;
        for (const auto& m : ps.log) {
            if (m.decree <= dp.confirmed)
                continue;
            if (m.decree > limit)
                break;
            if (!m.empty()) {
                if (dp.credit < 1.0)
                    break;
                if (!target_ok)
                    break;
                dp.credit -= 1.0;
                batch.push_back(&m);
            }
            new_confirmed = m.decree;
        }
        if (!target_ok && new_confirmed < limit) {
            // The DUPLICATE RPC fails (target unreachable); FAIL_SLOW retries forever.
            ++dp.failed_rpcs;
        }
        // Group entries into DUPLICATE RPCs of up to duplicate_log_batch_bytes (4096); each one is
        // one write (one decree) on the target partition.
        std::size_t acc = 0;
        std::vector<write_op> ops;
        auto flush = [&] {
            if (ops.empty())
                return;
            target->apply_write(*tt, static_cast<std::int32_t>(p), "RPC_RRDB_RRDB_DUPLICATE",
                                std::move(ops), acc);
            ops.clear();
            acc = 0;
            ++dp.shipped_rpcs;
        };
        for (const auto* m : batch) {
            for (auto op : m->ops) {
                op.timetag = make_timetag(m->timestamp_us, cid, op.op == write_op::kind::remove);
                ops.push_back(std::move(op));
            }
            acc += m->bytes;
            ++dp.shipped_mutations;
            if (acc >= 4096)
                flush();
        }
        flush();
        if (new_confirmed > dp.confirmed) {
            dp.confirmed = new_confirmed;
            check_freeze_acks(*t, static_cast<std::int32_t>(p), dp);
            trim_log(*t, static_cast<std::int32_t>(p));
        }
    }
}

void cluster_state::trim_log(table_state& t, std::int32_t pidx) {
    std::int64_t keep_after = INT64_MAX;
    for (auto dupid : t.dups) {
        const auto& dp = dups.at(dupid).partitions[static_cast<std::size_t>(pidx)];
        if (!dp.has_duplicator)
            return;
        // Keep what a replacement duplicator may re-ship (from the meta-persisted decree).
        keep_after =
            std::min(keep_after, dp.meta_confirmed >= 0 ? std::min(dp.meta_confirmed, dp.confirmed)
                                                        : dp.confirmed);
    }
    auto& log = t.partitions[static_cast<std::size_t>(pidx)].log;
    while (!log.empty() && log.front().decree <= keep_after)
        log.pop_front();
}

void cluster_state::on_perf_snapshot(int node, std::uint64_t gen_id) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    if (n.generation_id != gen_id || !n.alive)
        return;
    model_.events().schedule_after(cfg_.timing.perf_counter_interval,
                                   [this, node, gen_id] { on_perf_snapshot(node, gen_id); });
    n.snapshot_unix_s = model_.unix_us() / 1000000;
    n.snapshot.clear();
    if (gen() == generation::master)
        return; // the perf-counter framework is gone on master (metrics instead)
    double secs = std::chrono::duration<double>(cfg_.timing.perf_counter_interval).count();
    n.snapshot.push_back({"replica*eon.replica_stub*replica(Count)", "NUMBER",
                          static_cast<double>(n.replica_count)});
    n.snapshot.push_back({"replica*eon.replica_stub*dup.pending_mutations_count", "VOLATILE_NUMBER",
                          static_cast<double>(n.pending_mutations)});
    std::map<std::pair<std::int32_t, std::int32_t>, std::pair<std::int64_t, std::int64_t>> totals;
    for (const auto& [dupid, d] : dups) {
        if (d.status != dup_status::log && d.status != dup_status::pause)
            continue; // the counters are created when log shipping starts
        auto* t = find_table(d.app_id);
        if (!t)
            continue;
        for (std::size_t p = 0; p < d.partitions.size(); ++p) {
            if (t->partitions[p].primary != node || !d.partitions[p].has_duplicator)
                continue;
            auto& tot = totals[{d.app_id, static_cast<std::int32_t>(p)}];
            tot.first += d.partitions[p].shipped_rpcs;
            tot.second += d.partitions[p].failed_rpcs;
        }
    }
    std::map<std::pair<std::int32_t, std::int32_t>, std::int64_t> next_last;
    for (const auto& [gpid, tot] : totals) {
        auto gp = std::to_string(gpid.first) + "." + std::to_string(gpid.second);
        auto last =
            n.shipped_at_last_snapshot.count(gpid) ? n.shipped_at_last_snapshot[gpid] : tot.first;
        n.snapshot.push_back({"replica*app.pegasus*dup_shipped_ops@" + gp, "RATE",
                              static_cast<double>(tot.first - last) / secs});
        n.snapshot.push_back({"replica*app.pegasus*dup_failed_shipping_ops@" + gp, "RATE", 0.0});
        next_last[gpid] = tot.first;
    }
    n.shipped_at_last_snapshot = std::move(next_last);
    // Non-idempotent write rates of the primaries on this node (incr_qps, check_and_set_qps,
    // check_and_mutate_qps @<app>.<pidx>), as the storage layer of a 2.4/2.5 server reports them.
    std::map<std::pair<std::int32_t, std::int32_t>, std::array<std::int64_t, 3>> atomic_next;
    static const char* atomic_names[3] = {"incr_qps", "check_and_set_qps", "check_and_mutate_qps"};
    for (auto [app_id, pidx] : n.primaries) {
        const auto& part = tables.at(app_id).partitions[static_cast<std::size_t>(pidx)];
        const std::array<std::int64_t, 3> now{part.incr_requests, part.check_and_set_requests,
                                              part.check_and_mutate_requests};
        const auto key = std::make_pair(app_id, pidx);
        const auto prev = n.atomic_at_last_snapshot.count(key) ? n.atomic_at_last_snapshot[key] : now;
        const auto gp = std::to_string(app_id) + "." + std::to_string(pidx);
        for (int i = 0; i < 3; ++i)
            n.snapshot.push_back({std::string("replica*app.pegasus*") + atomic_names[i] + "@" + gp, "RATE",
                                  static_cast<double>(now[static_cast<std::size_t>(i)] -
                                                      prev[static_cast<std::size_t>(i)]) / secs});
        atomic_next[key] = now;
    }
    n.atomic_at_last_snapshot = std::move(atomic_next);
}

void cluster_state::on_group_check(int node, std::uint64_t gen_id) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    if (n.generation_id != gen_id || !n.alive)
        return;
    auto interval = cfg_.timing.group_check_interval;
    model_.events().schedule_after(interval,
                                   [this, node, gen_id] { on_group_check(node, gen_id); });
    if (n.empty_write_disabled)
        return;
    // One timer per node visits its primaries: a partition idle for a whole interval gets an
    // empty write, so at idle it gets one every 1-2 intervals, as on a real server.
    for (auto [app_id, pidx] : n.primaries) {
        auto& t = tables.at(app_id);
        if (model_.now() - t.partitions[static_cast<std::size_t>(pidx)].last_prepare_at >= interval)
            add_empty_write(t, pidx);
    }
}

void cluster_state::stop_node(int node) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    n.alive = false;
    auto gen_id = ++n.generation_id; // its timers stop
    n.scanners.clear();
    model_.events().schedule_after(cfg_.timing.failure_detection, [this, node, gen_id] {
        if (nodes[static_cast<std::size_t>(node)].generation_id == gen_id)
            fail_over(node);
    });
}

void cluster_state::fail_over(int node) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    if (n.alive)
        return;
    auto primaries = n.primaries;
    for (auto [app_id, pidx] : primaries) {
        auto& t = tables.at(app_id);
        auto& p = t.partitions[static_cast<std::size_t>(pidx)];
        if (p.primary != node)
            continue;
        auto it = std::find_if(p.secondaries.begin(), p.secondaries.end(),
                               [&](int s) { return nodes[static_cast<std::size_t>(s)].alive; });
        if (it == p.secondaries.end())
            continue; // no live replica: the partition stays unavailable
        int np = *it;
        // The old primary stays listed as a secondary (it re-learns when it comes back).
        *it = node;
        p.primary = np;
        ++p.ballot;
        p.last_prepare_at = model_.now();
        auto& old_list = n.primaries;
        old_list.erase(std::remove(old_list.begin(), old_list.end(), std::make_pair(app_id, pidx)),
                       old_list.end());
        nodes[static_cast<std::size_t>(np)].primaries.emplace_back(app_id, pidx);
        for (auto dupid : t.dups)
            dups.at(dupid).partitions[static_cast<std::size_t>(pidx)].has_duplicator = false;
        spdlog::info("sim {}: partition {}.{} fails over from node {} to node {} (ballot {})",
                     cfg_.name, app_id, pidx, node, np, p.ballot);
    }
}

void cluster_state::restart_node(int node) {
    auto& n = nodes.at(static_cast<std::size_t>(node));
    n.alive = true;
    n.applied.clear();
    n.config_sync_interval = cfg_.timing.config_sync_interval;
    start_node_timers(node);
    // A node syncs its config immediately when it (re)connects to the meta.
    auto gen_id = n.generation_id;
    model_.events().schedule_after(sim_time(0), [this, node, gen_id] {
        auto& nn = nodes[static_cast<std::size_t>(node)];
        if (nn.generation_id != gen_id || !metas[static_cast<std::size_t>(leader)].alive)
            return;
        // A one-off sync: do not reschedule (the periodic chain is already running).
        ++nn.config_syncs;
        std::map<std::int32_t, applied_envs> snap;
        for (const auto& [id, t] : tables) {
            applied_envs a;
            a.version = t.envs_version;
            a.envs = t.envs;
            if (auto it = t.envs.find("replica.deny_client_request"); it != t.envs.end())
                a.deny = parse_deny(it->second);
            snap.emplace(id, std::move(a));
        }
        apply_envs(node, std::move(snap));
    });
    for (auto& [dupid, d] : dups) {
        auto* t = find_table(d.app_id);
        if (!t)
            continue;
        // A new duplicator restarts from the meta-persisted decree (progress doc §2.4).
        for (std::size_t p = 0; p < d.partitions.size(); ++p)
            if (t->partitions[p].primary == node && d.partitions[p].has_duplicator &&
                d.partitions[p].meta_confirmed >= 0)
                d.partitions[p].confirmed = d.partitions[p].meta_confirmed;
    }
}

void cluster_state::set_config_sync_interval(int node, sim_time period) {
    nodes.at(static_cast<std::size_t>(node)).config_sync_interval = period;
}

duplication_state& cluster_state::add_duplication(table_state& t, const std::string& remote_cluster,
                                                  const std::string& remote_app,
                                                  std::int32_t remote_replicas, bool checkpoint) {
    duplication_state d;
    auto secs = static_cast<std::int32_t>(model_.unix_us() / 1000000);
    // dupid = the meta's unix time in seconds, incremented on collision.
    while (dups.count(secs))
        ++secs;
    d.dupid = secs;
    d.app_id = t.app_id;
    d.remote_cluster = remote_cluster;
    d.remote_app_name = remote_app;
    d.remote_replica_count = remote_replicas;
    d.create_ts_ms = model_.unix_us() / 1000;
    d.checkpoint = checkpoint;
    d.partitions.resize(static_cast<std::size_t>(t.partition_count));
    if (checkpoint) {
        d.status = dup_status::prepare;
    } else {
        // No checkpoint: DS_INIT -> DS_LOG at once, shipping from the current decree; the target
        // table must already hold the data.
        d.status = dup_status::log;
        for (std::size_t p = 0; p < d.partitions.size(); ++p)
            d.partitions[p].start_decree = t.partitions[p].last_committed;
        d.target_created = true;
        d.checkpoint_applied = true;
    }
    t.dups.push_back(d.dupid);
    auto id = d.dupid;
    auto& ref = dups.emplace(id, std::move(d)).first->second;
    if (ref.status == dup_status::log)
        schedule_ship_tick(id);
    return ref;
}

void cluster_state::remove_duplication(std::int32_t dupid) {
    auto it = dups.find(dupid);
    if (it == dups.end())
        return;
    if (auto* t = find_table(it->second.app_id)) {
        t->dups.erase(std::remove(t->dups.begin(), t->dups.end(), dupid), t->dups.end());
        if (t->dups.empty())
            for (auto& p : t->partitions)
                p.log.clear();
    }
    dups.erase(it);
}

void cluster_state::set_dup_status(duplication_state& d, dup_status s) {
    auto old = d.status;
    d.status = s;
    if (s == dup_status::log && old != dup_status::log)
        schedule_ship_tick(d.dupid);
    if (s == dup_status::app && !d.target_created)
        maybe_create_target(d);
}

// ---- model
// ---------------------------------------------------------------------------------------

model::model(sim_config cfg, std::int64_t unix_epoch_us)
    : cfg_(std::move(cfg))
    , events_(unix_epoch_us) {
    int i = 0;
    for (const auto& c : cfg_.clusters)
        clusters_.push_back(std::make_unique<cluster_state>(*this, c, i++));
}

cluster_state* model::find_cluster(std::string_view name) {
    for (auto& c : clusters_)
        if (c->name() == name)
            return c.get();
    return nullptr;
}

void model::start() {
    for (auto& c : clusters_) {
        for (auto& [remote, metas] : c->config().remote_clusters)
            if (metas.empty())
                if (auto* rc = find_cluster(remote))
                    metas = rc->meta_list();
        for (std::size_t n = 0; n < c->nodes.size(); ++n)
            c->start_node_timers(static_cast<int>(n));
    }
}

void model::count_request(const std::string& server, const std::string& rpc) {
    auto sec = unix_us() / 1000000;
    auto& per_sec = request_counts_[server];
    ++per_sec[sec][rpc];
    // Keep ten minutes of history.
    while (!per_sec.empty() && per_sec.begin()->first < sec - 600)
        per_sec.erase(per_sec.begin());
}

} // namespace tablemigrator::sim
