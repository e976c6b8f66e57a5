// Meta RPC handlers of the simulated cluster. Application errors travel inside the response's `err`
// (frame error_name ERR_OK); only unknown RPC names get an error-only frame (§1.5, §2).
#include "sim/meta_service.hpp"

#include "sim/replica_service.hpp"

#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <set>

namespace tablemigrator::sim {

namespace {

using idl::rdsn_error;

std::string ack(const wire::request_frame& f) {
    return f.name + "_ACK";
}

idl::rpc_address address_of(std::uint16_t port) {
    return idl::rpc_address::from_ipv4(127, 0, 0, 1, port);
}
idl::host_port host_port_of(std::uint16_t port) {
    return idl::host_port("localhost", port);
}

bool is_master(const cluster_state& c) {
    return c.gen() == generation::master;
}

template <class Req>
std::optional<Req> args(const wire::request_frame& f) {
    auto r = wire::decode_call_args<Req>(f);
    if (!r) {
        spdlog::warn("pegasus-sim: cannot decode the args of {} (seqid {}): {}", f.name, f.seqid,
                     r.error().message());
        return std::nullopt;
    }
    return std::move(*r);
}

idl::partition_configuration partition_config(const cluster_state& c, const table_state& t,
                                              const partition_state& p) {
    idl::partition_configuration pc;
    pc.pid = idl::gpid(t.app_id, p.index);
    pc.ballot = p.ballot;
    pc.max_replica_count = t.max_replica_count;
    pc.primary = address_of(c.nodes[static_cast<std::size_t>(p.primary)].port);
    for (auto s : p.secondaries)
        pc.secondaries.push_back(address_of(c.nodes[static_cast<std::size_t>(s)].port));
    pc.last_committed_decree = p.last_committed;
    pc.partition_flags = 0;
    if (is_master(c)) {
        // Master sets every hp_* companion together with its rpc_address (§1.7).
        pc.__set_hp_primary(host_port_of(c.nodes[static_cast<std::size_t>(p.primary)].port));
        std::vector<idl::host_port> secs;
        for (auto s : p.secondaries)
            secs.push_back(host_port_of(c.nodes[static_cast<std::size_t>(s)].port));
        pc.__set_hp_secondaries(std::move(secs));
        pc.__set_hp_last_drops({});
    }
    return pc;
}

std::optional<wire::bytes> query_config(cluster_state& c, int meta, const wire::request_frame& f) {
    auto req = args<idl::query_cfg_request>(f);
    if (!req)
        return std::nullopt;
    idl::query_cfg_response resp;
    if (meta != c.leader) {
        resp.err = rdsn_error(rdsn_errc::ERR_FORWARD_TO_OTHERS);
        // The follower names the leader in partitions[0].primary (§2.0).
        idl::partition_configuration pc;
        auto port = c.metas[static_cast<std::size_t>(c.leader)].port;
        pc.primary = address_of(port);
        if (is_master(c))
            pc.__set_hp_primary(host_port_of(port));
        resp.partitions.push_back(std::move(pc));
        return wire::encode_reply(ack(f), f.seqid, resp);
    }
    auto* t = c.find_table(req->app_name);
    if (!t) {
        resp.err = rdsn_error(rdsn_errc::ERR_OBJECT_NOT_FOUND);
        return wire::encode_reply(ack(f), f.seqid, resp);
    }
    resp.err = rdsn_error(rdsn_errc::ERR_OK);
    resp.app_id = t->app_id;
    resp.partition_count = t->partition_count;
    resp.is_stateful = true;
    for (auto idx : req->partition_indices)
        if (idx >= 0 && idx < t->partition_count)
            resp.partitions.push_back(
                partition_config(c, *t, t->partitions[static_cast<std::size_t>(idx)]));
    if (resp.partitions.empty())
        for (const auto& p : t->partitions)
            resp.partitions.push_back(partition_config(c, *t, p));
    return wire::encode_reply(ack(f), f.seqid, resp);
}

template <class Resp>
std::optional<wire::bytes> forward(const wire::request_frame& f) {
    Resp resp;
    resp.err = rdsn_error(rdsn_errc::ERR_FORWARD_TO_OTHERS);
    return wire::encode_reply(ack(f), f.seqid, resp);
}

std::optional<wire::bytes> cluster_info(cluster_state& c, int meta, const wire::request_frame& f) {
    if (!args<idl::configuration_cluster_info_request>(f))
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::configuration_cluster_info_response>(f);
    idl::configuration_cluster_info_response resp;
    resp.err = rdsn_error(rdsn_errc::ERR_OK);
    auto add = [&](std::string k, std::string v) {
        resp.keys.push_back(std::move(k));
        resp.values.push_back(std::move(v));
    };
    add("meta_servers", c.meta_list());
    add("primary_meta_server",
        "127.0.0.1:" + std::to_string(c.metas[static_cast<std::size_t>(meta)].port));
    add("zookeeper_hosts", c.config().zookeeper_hosts);
    add("zookeeper_root", c.config().zookeeper_root);
    add("meta_function_level", "lively");
    add("balance_operation_count", "{\n    \"move_pri\": \"0\",\n    \"copy_pri\": \"0\",\n    "
                                   "\"copy_sec\": \"0\",\n    \"total\": \"0\"\n}");
    add("primary_replica_count_stddev", "0.00");
    add("total_replica_count_stddev", "0.00");
    add("cluster_name", c.name());
    return wire::encode_reply(ack(f), f.seqid, resp);
}

std::optional<wire::bytes> list_nodes(cluster_state& c, int meta, const wire::request_frame& f) {
    auto req = args<idl::configuration_list_nodes_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::configuration_list_nodes_response>(f);
    idl::configuration_list_nodes_response resp;
    resp.err = rdsn_error(rdsn_errc::ERR_OK);
    // Alive nodes first, then dead ones (§2.3).
    for (bool alive : {true, false})
        for (const auto& n : c.nodes) {
            if (n.alive != alive)
                continue;
            std::int32_t st = alive ? 1 : 2;
            if (req->status != 0 && req->status != st)
                continue;
            idl::node_info ni;
            ni.status = st;
            ni.node = address_of(n.port);
            if (is_master(c))
                ni.__set_hp_node(host_port_of(n.port));
            resp.infos.push_back(std::move(ni));
        }
    return wire::encode_reply(ack(f), f.seqid, resp);
}

bool pattern_matches(const std::string& name, const std::string& pattern, std::int32_t type,
                     bool& bad) {
    switch (type) {
    case 1:
        return true;
    case 2:
        return name == pattern;
    case 3:
        return name.find(pattern) != std::string::npos;
    case 4:
        return name.rfind(pattern, 0) == 0;
    case 5:
        return name.size() >= pattern.size() &&
               name.compare(name.size() - pattern.size(), pattern.size(), pattern) == 0;
    case 6:
        try {
            return std::regex_match(name, std::regex(pattern));
        } catch (const std::regex_error&) {
            bad = true;
            return false;
        }
    default:
        bad = true;
        return false;
    }
}

idl::app_info app_info_of(const table_state& t) {
    idl::app_info a;
    a.status = static_cast<std::int32_t>(t.status);
    a.app_type = "pegasus";
    a.app_name = t.name;
    a.app_id = t.app_id;
    a.partition_count = t.partition_count;
    a.envs = t.envs;
    a.is_stateful = true;
    a.max_replica_count = t.max_replica_count;
    a.expire_second = 0;
    a.create_second = t.create_second;
    a.drop_second = 0;
    if (!t.dups.empty())
        a.__set_duplicating(true);
    a.init_partition_count = t.partition_count;
    return a;
}

std::optional<wire::bytes> list_apps(cluster_state& c, int meta, const wire::request_frame& f) {
    auto req = args<idl::configuration_list_apps_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::configuration_list_apps_response>(f);
    idl::configuration_list_apps_response resp;
    resp.err = rdsn_error(rdsn_errc::ERR_OK);
    // The name filter exists on master only, and only applies when both fields are set.
    bool filter = is_master(c) && req->__isset.app_name_pattern && req->__isset.match_type;
    for (const auto& [id, t] : c.tables) {
        if (req->status != 0 && req->status != static_cast<std::int32_t>(t.status))
            continue;
        if (filter) {
            bool bad = false;
            bool m = pattern_matches(t.name, req->app_name_pattern, req->match_type, bad);
            if (bad) {
                resp.err = rdsn_error(rdsn_errc::ERR_INVALID_PARAMETERS);
                resp.infos.clear();
                resp.__set_hint_message("invalid pattern match type or pattern");
                return wire::encode_reply(ack(f), f.seqid, resp);
            }
            if (!m)
                continue;
        }
        resp.infos.push_back(app_info_of(t));
    }
    return wire::encode_reply(ack(f), f.seqid, resp);
}

// Keys the master's env validator knows; 2.4/2.5 accept any key (only known keys are checked).
bool is_supported_env_key(const std::string& k) {
    static const std::set<std::string> keys = {
        "replica.deny_client_request",
        "replica.write_throttling",
        "replica.write_throttling_by_size",
        "replica.read_throttling",
        "replica.read_throttling_by_size",
        "replica.split.validate_partition_hash",
        "replica.slow_query_threshold",
        "replica.rocksdb_iteration_threshold_time_ms",
        "replica.rocksdb_block_cache_enabled",
        "default_ttl",
        "rocksdb.usage_scenario",
        "rocksdb.checkpoint.reserve_min_count",
        "rocksdb.checkpoint.reserve_time_seconds",
        "rocksdb.write_buffer_size",
        "rocksdb.num_levels",
        "rocksdb.allow_ingest_behind",
        "business.info",
        "replica_access_controller.allowed_users",
        "replica_access_controller.ranger_policies",
        "user_specified_compaction",
        "manual_compact.disabled",
        "manual_compact.max_concurrent_running_count",
        "manual_compact.once.trigger_time",
        "manual_compact.once.target_level",
        "manual_compact.once.bottommost_level_compaction",
        "manual_compact.periodic.trigger_time",
        "manual_compact.periodic.target_level",
        "manual_compact.periodic.bottommost_level_compaction",
        "duplication.master_cluster",
        "duplication.master_metas",
        "duplication.master_app_name",
        "duplication.follower_app_status"};
    return keys.count(k) != 0;
}

std::optional<wire::bytes> update_app_env(cluster_state& c, int meta,
                                          const wire::request_frame& f) {
    auto req = args<idl::configuration_update_app_env_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::configuration_update_app_env_response>(f);
    ++c.state_changing_requests[f.name];
    idl::configuration_update_app_env_response resp;
    auto reply = [&](rdsn_errc e, std::string hint) {
        resp.err = rdsn_error(e);
        resp.hint_message = std::move(hint);
        return wire::encode_reply(ack(f), f.seqid, resp);
    };
    const auto op = req->op;
    if (op < 1 || op > 3)
        return reply(rdsn_errc::ERR_INVALID_PARAMETERS, "invalid operation");
    if (op == 1) {
        if (!req->__isset.keys || !req->__isset.values || req->keys.empty() ||
            req->keys.size() != req->values.size())
            return reply(rdsn_errc::ERR_INVALID_PARAMETERS, "keys or values are invalid");
        for (std::size_t i = 0; i < req->keys.size(); ++i) {
            const auto& k = req->keys[i];
            if (is_master(c) && !is_supported_env_key(k))
                return reply(rdsn_errc::ERR_INVALID_PARAMETERS,
                             fmt::format("app_env '{}' is not supported", k));
            if (k == "replica.deny_client_request" && !is_valid_deny_value(req->values[i]))
                return reply(rdsn_errc::ERR_INVALID_PARAMETERS,
                             "Invalid deny client args, valid include: timeout*all, timeout*write, "
                             "timeout*read; reconfig*all, reconfig*write, reconfig*read");
        }
    } else if (op == 2) {
        if (!req->__isset.keys || req->keys.empty())
            return reply(rdsn_errc::ERR_INVALID_PARAMETERS, "keys are empty");
    } else if (!req->__isset.clear_prefix) {
        return reply(rdsn_errc::ERR_INVALID_PARAMETERS, "clear_prefix is not set");
    }
    auto* t = c.find_table(req->app_name);
    if (!t)
        return reply(rdsn_errc::ERR_APP_NOT_EXIST, "app cannot be found");
    if (t->status == app_status::dropping)
        return reply(rdsn_errc::ERR_BUSY_DROPPING, "app is dropping");
    std::vector<std::string> deleted;
    if (op == 1) {
        for (std::size_t i = 0; i < req->keys.size(); ++i)
            t->envs[req->keys[i]] = req->values[i];
        ++t->envs_version;
        return reply(rdsn_errc::ERR_OK, "");
    }
    if (op == 2) {
        for (const auto& k : req->keys)
            if (t->envs.erase(k))
                deleted.push_back(k);
    } else {
        const auto& prefix = req->clear_prefix;
        for (auto it = t->envs.begin(); it != t->envs.end();) {
            bool match = prefix.empty() || (it->first.size() > prefix.size() + 1 &&
                                            it->first.compare(0, prefix.size(), prefix) == 0 &&
                                            it->first[prefix.size()] == '.');
            if (match) {
                deleted.push_back(it->first);
                it = t->envs.erase(it);
            } else {
                ++it;
            }
        }
    }
    if (deleted.empty())
        return reply(rdsn_errc::ERR_OK, "no key needs to be deleted");
    ++t->envs_version;
    std::string hint = "deleted keys:";
    for (const auto& k : deleted)
        hint += "\n    " + k;
    return reply(rdsn_errc::ERR_OK, hint);
}

bool transition_allowed(dup_status from, dup_status to) {
    if (from == to || to == dup_status::removed)
        return true;
    return (from == dup_status::init && to == dup_status::prepare) ||
           (from == dup_status::prepare && to == dup_status::app) ||
           (from == dup_status::app && to == dup_status::log) ||
           (from == dup_status::pause && to == dup_status::log) ||
           (from == dup_status::init && to == dup_status::log) ||
           (from == dup_status::log && to == dup_status::pause);
}

std::optional<wire::bytes> add_duplication(cluster_state& c, int meta,
                                           const wire::request_frame& f) {
    auto req = args<idl::duplication_add_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::duplication_add_response>(f);
    ++c.state_changing_requests[f.name];
    const bool master = is_master(c);
    idl::duplication_add_response resp;
    auto reply = [&](rdsn_errc e, std::string hint) {
        resp.err = rdsn_error(e);
        if (!hint.empty())
            resp.__set_hint(std::move(hint));
        return wire::encode_reply(ack(f), f.seqid, resp);
    };
    if (!c.config().duplication_enabled)
        return reply(rdsn_errc::ERR_SERVICE_NOT_ACTIVE, "duplication is not enabled");
    const auto& remote = req->remote_cluster_name;
    const bool checkpoint =
        !req->__isset.is_duplicating_checkpoint || req->is_duplicating_checkpoint;
    if (remote == c.name())
        return reply(rdsn_errc::ERR_INVALID_PARAMETERS,
                     "illegal operation: adding duplication to itself");
    if (!(master && c.config().dup_ignore_other_cluster_ids) &&
        !c.config().duplication_group.count(remote))
        return reply(
            rdsn_errc::ERR_INVALID_PARAMETERS,
            fmt::format("get_duplication_cluster_id({}) failed, error: ERR_OBJECT_NOT_FOUND",
                        remote));
    if (!c.config().remote_clusters.count(remote))
        return reply(
            rdsn_errc::ERR_INVALID_PARAMETERS,
            fmt::format("failed to find cluster[{}] address in config [pegasus.clusters]", remote));
    if (master && req->__isset.remote_replica_count && req->remote_replica_count < 0)
        return reply(rdsn_errc::ERR_INVALID_PARAMETERS, "remote_replica_count should be >= 0");
    auto* t = c.find_table(req->app_name);
    if (!t || t->status != app_status::available)
        return reply(rdsn_errc::ERR_APP_NOT_EXIST,
                     fmt::format("app {} was not found", req->app_name));
    // Fields 4/5 exist on master only; older servers skip them as unknown fields.
    std::string remote_app = master && req->__isset.remote_app_name && !req->remote_app_name.empty()
                                 ? req->remote_app_name
                                 : t->name;
    std::int32_t remote_replicas =
        master && req->__isset.remote_replica_count && req->remote_replica_count > 0
            ? req->remote_replica_count
            : t->max_replica_count;
    duplication_state* existing = nullptr;
    for (auto dupid : t->dups) {
        auto& d = c.dups.at(dupid);
        if (d.remote_cluster == remote)
            existing = &d;
    }
    if (!existing && master)
        for (const auto& [dupid, d] : c.dups)
            if (d.app_id != t->app_id && d.remote_cluster == remote &&
                d.remote_app_name == remote_app)
                return reply(rdsn_errc::ERR_INVALID_PARAMETERS,
                             fmt::format("duplication to {}.{} already exists for another table",
                                         remote, remote_app));
    if (existing) {
        auto target = checkpoint ? dup_status::prepare : dup_status::log;
        if (!transition_allowed(existing->status, target)) {
            if (!master) {
                // 2.4/2.5: the failed start is silent: ERR_OK with appid = dupid = 0.
                resp.err = rdsn_error(rdsn_errc::ERR_OK);
                resp.appid = 0;
                resp.dupid = 0;
                return wire::encode_reply(ack(f), f.seqid, resp);
            }
            return reply(
                rdsn_errc::ERR_INVALID_PARAMETERS,
                fmt::format("start dup[{}] failed: invalid status transition from {} to {}",
                            existing->dupid, dup_status_name(existing->status),
                            dup_status_name(target)));
        }
        resp.appid = t->app_id;
        resp.dupid = existing->dupid;
        if (master) {
            resp.__set_remote_app_name(existing->remote_app_name);
            resp.__set_remote_replica_count(existing->remote_replica_count);
            return reply(rdsn_errc::ERR_DUP_EXIST,
                         fmt::format("duplication already exists, dupid={}", existing->dupid));
        }
        return reply(rdsn_errc::ERR_OK, "");
    }
    auto& d = c.add_duplication(*t, remote, remote_app, remote_replicas, checkpoint);
    resp.appid = t->app_id;
    resp.dupid = d.dupid;
    if (master) {
        resp.__set_remote_app_name(remote_app);
        resp.__set_remote_replica_count(remote_replicas);
    }
    return reply(rdsn_errc::ERR_OK, "");
}

idl::duplication_entry entry_of(const cluster_state& c, const duplication_state& d) {
    idl::duplication_entry e;
    e.dupid = d.dupid;
    e.status = static_cast<std::int32_t>(d.status);
    e.remote = d.remote_cluster;
    e.create_ts = d.create_ts_ms;
    e.__set_fail_mode(static_cast<std::int32_t>(d.mode));
    if (c.gen() == generation::master) {
        e.__set_remote_app_name(d.remote_app_name);
        e.__set_remote_replica_count(d.remote_replica_count);
        std::map<std::int32_t, idl::duplication_partition_state> states;
        for (std::size_t p = 0; p < d.partitions.size(); ++p) {
            const auto& dp = d.partitions[p];
            if (dp.meta_last_committed < 0 && dp.meta_confirmed < 0)
                continue; // progress not initialised yet
            idl::duplication_partition_state s;
            s.confirmed_decree = dp.meta_confirmed;
            s.last_committed_decree = dp.meta_last_committed;
            states.emplace(static_cast<std::int32_t>(p), s);
        }
        e.__set_partition_states(std::move(states));
    }
    return e;
}

std::optional<wire::bytes> query_duplication(cluster_state& c, int meta,
                                             const wire::request_frame& f) {
    auto req = args<idl::duplication_query_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::duplication_query_response>(f);
    idl::duplication_query_response resp;
    auto* t = c.find_table(req->app_name);
    if (!t || t->status != app_status::available) {
        resp.err = rdsn_error(rdsn_errc::ERR_APP_NOT_EXIST);
        return wire::encode_reply(ack(f), f.seqid, resp);
    }
    resp.err = rdsn_error(rdsn_errc::ERR_OK);
    resp.appid = t->app_id;
    for (auto dupid : t->dups)
        resp.entry_list.push_back(entry_of(c, c.dups.at(dupid)));
    return wire::encode_reply(ack(f), f.seqid, resp);
}

std::optional<wire::bytes> modify_duplication(cluster_state& c, int meta,
                                              const wire::request_frame& f) {
    auto req = args<idl::duplication_modify_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::duplication_modify_response>(f);
    ++c.state_changing_requests[f.name];
    idl::duplication_modify_response resp;
    auto reply = [&](rdsn_errc e) {
        resp.err = rdsn_error(e);
        return wire::encode_reply(ack(f), f.seqid, resp);
    };
    auto* t = c.find_table(req->app_name);
    if (!t || t->status != app_status::available)
        return reply(rdsn_errc::ERR_APP_NOT_EXIST);
    if (std::find(t->dups.begin(), t->dups.end(), req->dupid) == t->dups.end())
        return reply(rdsn_errc::ERR_OBJECT_NOT_FOUND);
    auto& d = c.dups.at(req->dupid);
    bool change_status = req->__isset.status && req->status != static_cast<std::int32_t>(d.status);
    bool change_mode =
        req->__isset.fail_mode && req->fail_mode != static_cast<std::int32_t>(d.mode);
    if (change_status) {
        if (req->status < 0 || req->status > 5 ||
            !transition_allowed(d.status, static_cast<dup_status>(req->status)))
            return reply(rdsn_errc::ERR_INVALID_PARAMETERS);
    }
    if (change_mode && (req->fail_mode < 0 || req->fail_mode > 2))
        return reply(rdsn_errc::ERR_INVALID_PARAMETERS);
    if (!change_status && !change_mode)
        return reply(rdsn_errc::ERR_OK); // nothing changes: appid stays 0
    resp.appid = t->app_id;
    if (change_mode)
        d.mode = static_cast<fail_mode>(req->fail_mode);
    if (change_status) {
        auto s = static_cast<dup_status>(req->status);
        if (s == dup_status::removed)
            c.remove_duplication(req->dupid);
        else
            c.set_dup_status(d, s);
    }
    return reply(rdsn_errc::ERR_OK);
}

std::optional<wire::bytes> list_duplication(cluster_state& c, int meta,
                                            const wire::request_frame& f) {
    auto req = args<idl::duplication_list_request>(f);
    if (!req)
        return std::nullopt;
    if (meta != c.leader)
        return forward<idl::duplication_list_response>(f);
    idl::duplication_list_response resp;
    resp.err = rdsn_error(rdsn_errc::ERR_OK);
    for (const auto& [id, t] : c.tables) {
        bool bad = false;
        if (!pattern_matches(t.name, req->app_name_pattern, req->match_type, bad)) {
            if (bad) {
                resp.err = rdsn_error(rdsn_errc::ERR_INVALID_PARAMETERS);
                resp.hint_message = "invalid match type";
                resp.app_states.clear();
                break;
            }
            continue;
        }
        idl::duplication_app_state s;
        s.appid = id;
        s.app_name = t.name;
        s.partition_count = t.partition_count;
        for (auto dupid : t.dups)
            s.duplications.emplace(dupid, entry_of(c, c.dups.at(dupid)));
        resp.app_states.emplace(t.name, std::move(s));
    }
    return wire::encode_reply(ack(f), f.seqid, resp);
}

std::optional<wire::bytes> cli_call(cluster_state& c, int meta, const wire::request_frame& f) {
    auto req = args<idl::command>(f);
    if (!req)
        return std::nullopt;
    return wire::encode_string_reply(ack(f), f.seqid,
                                     meta_remote_command(c, meta, req->cmd, req->arguments));
}

} // namespace

std::optional<wire::bytes> handle_meta_request(cluster_state& c, int meta,
                                               const wire::request_frame& f) {
    const auto& n = f.name;
    if (n == "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX")
        return query_config(c, meta, f);
    if (n == "RPC_CM_CLUSTER_INFO")
        return cluster_info(c, meta, f);
    if (n == "RPC_CM_LIST_NODES")
        return list_nodes(c, meta, f);
    if (n == "RPC_CM_LIST_APPS")
        return list_apps(c, meta, f);
    if (n == "RPC_CM_UPDATE_APP_ENV")
        return update_app_env(c, meta, f);
    if (n == "RPC_CM_ADD_DUPLICATION")
        return add_duplication(c, meta, f);
    if (n == "RPC_CM_QUERY_DUPLICATION")
        return query_duplication(c, meta, f);
    if (n == "RPC_CM_MODIFY_DUPLICATION")
        return modify_duplication(c, meta, f);
    if (n == "RPC_CM_LIST_DUPLICATION" && is_master(c))
        return list_duplication(c, meta, f);
    if (n == "RPC_CLI_CLI_CALL")
        return cli_call(c, meta, f);
    return wire::encode_error_response("ERR_HANDLER_NOT_FOUND", ack(f), f.seqid);
}

} // namespace tablemigrator::sim
