// Remote commands and HTTP endpoints of simulated replica and meta servers, per generation. Exact
// output shapes follow pegasus-protocol.md §3 and pegasus-progress-and-cutover.md §1-§4.
#include "sim/replica_service.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <set>

namespace tablemigrator::sim {

namespace json = boost::json;

namespace {

std::string uri_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(
                static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else if (s[i] == '+') {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string format_time(std::int64_t unix_s) {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

// Strict whole-string integer (master) or sscanf("%d")-like prefix parse (2.4/2.5).
std::optional<std::int32_t> parse_int(std::string_view s, bool strict) {
    std::int32_t v = 0;
    auto b = s.data();
    auto e = s.data() + s.size();
    while (!strict && b < e && std::isspace(static_cast<unsigned char>(*b)))
        ++b;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || (strict && p != e))
        return std::nullopt;
    return v;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return std::string(s);
}

struct replica_selection {
    bool invalid = false;
    std::set<std::pair<std::int32_t, std::int32_t>> explicit_ids;
    std::set<std::int32_t> apps;
    bool all = false;
};

// Argument grammar shared by the per-replica commands (progress doc §1.1).
replica_selection parse_replica_args(const std::vector<std::string>& args, bool strict) {
    replica_selection sel;
    if (args.empty()) {
        sel.all = true;
        return sel;
    }
    for (const auto& a : args) {
        std::vector<std::string> pieces;
        std::size_t start = 0;
        while (start <= a.size()) {
            auto comma = a.find(',', start);
            if (comma == std::string::npos)
                comma = a.size();
            auto piece = trim(std::string_view(a).substr(start, comma - start));
            if (!piece.empty())
                pieces.push_back(piece);
            start = comma + 1;
        }
        if (pieces.empty()) {
            sel.invalid = true;
            return sel;
        }
        for (const auto& p : pieces) {
            auto dot = p.find('.');
            if (dot != std::string::npos) {
                auto app = parse_int(std::string_view(p).substr(0, dot), true);
                auto pidx = parse_int(std::string_view(p).substr(dot + 1), strict);
                if (app && pidx) {
                    sel.explicit_ids.insert({*app, *pidx});
                    continue;
                }
            }
            auto app = parse_int(p, strict);
            if (!app) {
                sel.invalid = true;
                return sel;
            }
            sel.apps.insert(*app);
        }
    }
    return sel;
}

using replica_fn = std::string (*)(cluster_state&, int, const table_state&, const partition_state&);

std::string exec_on_replicas(cluster_state& c, int node, const std::vector<std::string>& args,
                             replica_fn fn) {
    auto sel = parse_replica_args(args, c.gen() == generation::master);
    if (sel.invalid)
        return "invalid arguments";
    struct entry {
        std::pair<std::int32_t, std::int32_t> gpid;
        std::string text;
    };
    std::vector<entry> entries;
    int processed = 0;
    int not_found = 0;
    auto name = node_name(c, node);
    std::set<std::pair<std::int32_t, std::int32_t>> seen;
    for (auto& [id, t] : c.tables) {
        for (const auto& p : t.partitions) {
            auto gpid = std::make_pair(id, p.index);
            bool wanted = sel.all || sel.apps.count(id) || sel.explicit_ids.count(gpid);
            if (!wanted || !c.node_hosts(t, p.index, node))
                continue;
            seen.insert(gpid);
            bool primary = p.primary == node;
            ++processed;
            entries.push_back({gpid, fmt::format("{}.{}@{}@{} : {}", id, p.index, name,
                                                 primary ? "P" : "S", fn(c, node, t, p))});
        }
    }
    for (const auto& gpid : sel.explicit_ids)
        if (!seen.count(gpid)) {
            ++not_found;
            entries.push_back(
                {gpid, fmt::format("{}.{}@{} : not found", gpid.first, gpid.second, name)});
        }
    std::sort(entries.begin(), entries.end(),
              [](const entry& a, const entry& b) { return a.gpid < b.gpid; });
    std::string out = fmt::format("{} processed, {} not found", processed, not_found);
    for (const auto& e : entries)
        out += "\n    " + e.text;
    return out;
}

std::string query_progress(cluster_state& c, int node, const table_state& t,
                           const partition_state& p) {
    auto lc = p.last_committed;
    std::string out = "{\n";
    auto line = [&](std::string_view k, std::int64_t v, bool comma) {
        out += fmt::format("    \"{}\": {}{}\n", k, v, comma ? "," : "");
    };
    std::vector<const duplication_state*> dups;
    if (p.primary == node)
        for (auto dupid : t.dups) {
            const auto& d = c.dups.at(dupid);
            if (d.partitions[static_cast<std::size_t>(p.index)].has_duplicator)
                dups.push_back(&d);
        }
    line("max_prepared_decree", lc, true);
    line("max_plog_decree", lc, true);
    line("max_plog_decree_on_disk", lc, true);
    line("max_plog_commit_on_disk", std::max<std::int64_t>(0, lc - 1), true);
    line("last_committed_decree", lc, true);
    line("last_applied_decree", lc, true);
    line("last_flushed_decree", p.last_durable, true);
    line("last_durable_decree", p.last_durable, true);
    line("max_gc_decree", 0, !dups.empty());
    if (!dups.empty()) {
        out += "    \"duplications\": [\n";
        for (std::size_t i = 0; i < dups.size(); ++i) {
            const auto& d = *dups[i];
            const auto& dp = d.partitions[static_cast<std::size_t>(p.index)];
            out += "        {\n";
            out += fmt::format("            \"dupid\": {},\n", d.dupid);
            out += fmt::format("            \"remote_cluster_name\": {},\n",
                               json::serialize(json::string(d.remote_cluster)));
            out += fmt::format("            \"remote_app_name\": {},\n",
                               json::serialize(json::string(d.remote_app_name)));
            out += fmt::format("            \"replica_confirmed_decree\": {},\n", dp.confirmed);
            out += fmt::format("            \"meta_persisted_decree\": {}\n",
                               dp.replica_meta_persisted);
            out += i + 1 < dups.size() ? "        },\n" : "        }\n";
        }
        out += "    ]\n";
    }
    out += "}";
    return out;
}

std::string query_app_envs(cluster_state& c, int, const table_state&, const partition_state&) {
    // The storage engine's view only: never the table's env map (progress doc §3).
    if (c.gen() == generation::v2_4)
        return "rocksdb.usage_scenario=normal";
    return "rocksdb.num_levels=6,rocksdb.usage_scenario=normal,rocksdb.write_buffer_size=67108864";
}

std::string perf_counters(cluster_state& c, int node, std::string_view cmd,
                          const std::vector<std::string>& args) {
    const auto& n = c.nodes.at(static_cast<std::size_t>(node));
    auto match = [&](const std::string& name) {
        if (args.empty())
            return true;
        for (const auto& a : args) {
            if (cmd == "perf-counters-by-substr" && name.find(a) != std::string::npos)
                return true;
            if (cmd == "perf-counters-by-prefix" && name.rfind(a, 0) == 0)
                return true;
            if (cmd == "perf-counters-by-postfix" && name.size() >= a.size() &&
                name.compare(name.size() - a.size(), a.size(), a) == 0)
                return true;
            if (cmd == "perf-counters" && name == a) // regex full match; literal names only
                return true;
        }
        return false;
    };
    std::string out =
        fmt::format(R"({{"result":"OK","timestamp":{},"timestamp_str":"{}","counters":[)",
                    n.snapshot_unix_s, format_time(n.snapshot_unix_s));
    bool first = true;
    for (const auto& pc : n.snapshot) {
        if (!match(pc.name))
            continue;
        if (!first)
            out += ',';
        first = false;
        out += fmt::format(R"({{"name":{},"type":"{}","value":{}}})",
                           json::serialize(json::string(pc.name)), pc.type,
                           format_counter_value(pc.value));
    }
    out += "]}";
    return out;
}

std::string server_info(cluster_state& c, std::int64_t start_unix_s) {
    switch (c.gen()) {
    case generation::v2_4:
        return fmt::format("Pegasus Server 2.4.0 (0a1b2c3d4e5f) Release, Started at {}",
                           format_time(start_unix_s));
    case generation::v2_5:
        return fmt::format("Pegasus Server 2.5.0 (1b2c3d4e5f6a) Release, Started at {}",
                           format_time(start_unix_s));
    case generation::master:
        break;
    }
    json::object o;
    o["version"] = "2.6.0-SNAPSHOT";
    o["build_type"] = "Release";
    o["git_SHA"] = "2c3d4e5f6a7b";
    o["start_time"] = format_time(start_unix_s);
    return json::serialize(o);
}

std::string disable_empty_write(cluster_state& c, int node, const std::vector<std::string>& args) {
    auto& n = c.nodes.at(static_cast<std::size_t>(node));
    // nlohmann dump(2): 2-space indent, keys sorted.
    if (args.empty())
        return fmt::format(
            "{{\n  \"error\": \"ok\",\n  \"replica.disable-empty-write\": \"{}\"\n}}",
            n.empty_write_disabled ? "true" : "false");
    if (args.size() > 1)
        return "{\n  \"error\": \"ERR: invalid arguments, only one boolean argument is "
               "acceptable\"\n}";
    std::string v = args[0];
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (v != "true" && v != "false")
        return fmt::format("{{\n  \"error\": \"ERR: invalid arguments, '{}' is not a boolean\"\n}}",
                           args[0]);
    n.empty_write_disabled = v == "true";
    return "{\n  \"error\": \"ok\"\n}";
}

std::string get_param(const std::vector<std::pair<std::string, std::string>>& params,
                      std::string_view key, bool* present = nullptr) {
    for (const auto& [k, v] : params)
        if (k == key) {
            if (present)
                *present = true;
            return v;
        }
    if (present)
        *present = false;
    return {};
}

http_reply not_found_service(const std::string& path) {
    return {404, fmt::format("service not found for \"{}\"", path), {}};
}

http_reply version_reply(const cluster_state& c) {
    json::object o;
    o["Version"] = c.gen() == generation::v2_4   ? "2.4.0"
                   : c.gen() == generation::v2_5 ? "2.5.0"
                                                 : "2.6.0-SNAPSHOT";
    o["GitCommit"] = c.gen() == generation::v2_4   ? "0a1b2c3d4e5f"
                     : c.gen() == generation::v2_5 ? "1b2c3d4e5f6a"
                                                   : "2c3d4e5f6a7b";
    return {200, json::serialize(o), {}};
}

std::vector<std::string> split_list(const std::string& v) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= v.size()) {
        auto comma = v.find(',', start);
        if (comma == std::string::npos)
            comma = v.size();
        if (comma > start)
            out.push_back(v.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

http_reply metrics(cluster_state& c, int node, const http_request& req,
                   const std::vector<std::pair<std::string, std::string>>& params) {
    if (req.method != "GET")
        return {
            400, R"({"error_message":"please use 'GET' method while querying for metrics"})", {}};
    std::set<std::string> fields, types, ids, names;
    std::vector<std::pair<std::string, std::string>> attrs;
    bool detail = false;
    for (const auto& [k, v] : params) {
        auto list = split_list(v);
        if (k == "with_metric_fields")
            fields.insert(list.begin(), list.end());
        else if (k == "types")
            types.insert(list.begin(), list.end());
        else if (k == "ids")
            ids.insert(list.begin(), list.end());
        else if (k == "metrics")
            names.insert(list.begin(), list.end());
        else if (k == "attributes") {
            if (list.size() % 2 != 0)
                return {
                    400, R"({"error_message":"invalid attributes: odd number of elements"})", {}};
            for (std::size_t i = 0; i + 1 < list.size(); i += 2)
                attrs.emplace_back(list[i], list[i + 1]);
        } else if (k == "detail") {
            if (v != "true" && v != "false")
                return {400, fmt::format(R"({{"error_message":"invalid detail={}"}})", v), {}};
            detail = v == "true";
        } else
            return {
                400,
                json::serialize(json::object{{"error_message", "unknown field " + k + "=" + v}}),
                {}};
    }
    if (fields.empty() && !detail)
        fields = {"name", "value"};
    const auto& n = c.nodes.at(static_cast<std::size_t>(node));
    json::array entities;
    for (const auto& [id, t] : c.tables) {
        for (const auto& p : t.partitions) {
            if (!c.node_hosts(t, p.index, node))
                continue;
            auto eid = fmt::format("replica@{}.{}", id, p.index);
            std::string tid = std::to_string(id), pid = std::to_string(p.index);
            if (!types.empty() && !types.count("replica"))
                continue;
            if (!ids.empty() && !ids.count(eid))
                continue;
            if (!attrs.empty()) {
                bool any = false;
                for (const auto& [ak, av] : attrs)
                    any = any || (ak == "table_id" && av == tid) ||
                          (ak == "partition_id" && av == pid);
                if (!any)
                    continue;
            }
            struct metric {
                const char* name;
                const char* type;
                const char* unit;
                std::int64_t value;
            };
            std::vector<metric> ms;
            std::int64_t pending = 0, ok = 0, failed = 0, confirmed = 0, bytes = 0;
            if (p.primary == node)
                for (auto dupid : t.dups) {
                    const auto& dp = c.dups.at(dupid).partitions[static_cast<std::size_t>(p.index)];
                    if (!dp.has_duplicator)
                        continue;
                    pending += dp.pending_gauge;
                    ok += dp.shipped_rpcs;
                    failed += dp.failed_rpcs;
                    confirmed += dp.shipped_mutations;
                    bytes += dp.shipped_mutations * 64;
                }
            ms.push_back({"write_requests", "Counter", "requests", p.last_real_decree});
            if (p.primary == node) {
                ms.push_back({"incr_requests", "Counter", "requests", p.incr_requests});
                ms.push_back({"check_and_set_requests", "Counter", "requests", p.check_and_set_requests});
                ms.push_back({"check_and_mutate_requests", "Counter", "requests", p.check_and_mutate_requests});
            }
            // Metric entities register every metric at replica creation (zeros until used).
            if (c.gen() == generation::master) {
                ms.push_back({"dup_pending_mutations", "Gauge", "mutations", pending});
                ms.push_back({"dup_shipped_successful_requests", "Counter", "requests", ok});
                ms.push_back({"dup_shipped_failed_requests", "Counter", "requests", failed});
                ms.push_back({"dup_confirmed_mutations", "Counter", "mutations", confirmed});
                ms.push_back({"dup_shipped_bytes", "Counter", "bytes", bytes});
            }
            json::array out_ms;
            for (const auto& m : ms) {
                if (!names.empty() && !names.count(m.name))
                    continue;
                json::object mo;
                if (detail || fields.count("type"))
                    mo["type"] = m.type;
                if (detail || fields.count("name"))
                    mo["name"] = m.name;
                if (detail || fields.count("unit"))
                    mo["unit"] = m.unit;
                if (detail || fields.count("desc"))
                    mo["desc"] = std::string("simulated ") + m.name;
                if (detail || fields.count("value"))
                    mo["value"] = m.value;
                out_ms.push_back(std::move(mo));
            }
            if (out_ms.empty())
                continue;
            json::object e;
            e["type"] = "replica";
            e["id"] = eid;
            e["attributes"] = json::object{{"table_id", tid}, {"partition_id", pid}};
            e["metrics"] = std::move(out_ms);
            entities.push_back(std::move(e));
        }
    }
    json::object o;
    o["cluster"] = c.name();
    o["role"] = "replica";
    o["host"] = "localhost";
    o["port"] = n.port;
    o["timestamp_ns"] = static_cast<std::uint64_t>(c.owner().unix_us()) * 1000u;
    o["entities"] = std::move(entities);
    return {200, json::serialize(o), {}};
}

} // namespace

std::string format_counter_value(double v) {
    if (v == static_cast<double>(static_cast<std::int64_t>(v)))
        return fmt::format("{:.1f}", v);
    return fmt::format("{}", v);
}

std::string node_name(const cluster_state& c, int node) {
    auto port = c.nodes.at(static_cast<std::size_t>(node)).port;
    if (c.gen() == generation::master)
        return "localhost:" + std::to_string(port);
    return "127.0.0.1:" + std::to_string(port);
}

bool parse_http_target(std::string_view target, std::string& path,
                       std::vector<std::pair<std::string, std::string>>& params) {
    auto q = target.find('?');
    auto raw_path = target.substr(0, q);
    path.clear();
    std::size_t start = 0;
    while (start <= raw_path.size()) {
        auto slash = raw_path.find('/', start);
        if (slash == std::string_view::npos)
            slash = raw_path.size();
        if (slash > start) {
            path += '/';
            path += raw_path.substr(start, slash - start);
        }
        start = slash + 1;
    }
    if (path.empty())
        path = "/";
    params.clear();
    if (q == std::string_view::npos)
        return true;
    auto query = target.substr(q + 1);
    start = 0;
    while (start < query.size()) {
        auto amp = query.find('&', start);
        if (amp == std::string_view::npos)
            amp = query.size();
        auto kv = query.substr(start, amp - start);
        if (!kv.empty()) {
            auto eq = kv.find('=');
            auto k = uri_decode(kv.substr(0, eq));
            auto v = eq == std::string_view::npos ? std::string() : uri_decode(kv.substr(eq + 1));
            for (const auto& p : params)
                if (p.first == k)
                    return false;
            params.emplace_back(k, v);
        }
        start = amp + 1;
    }
    return true;
}

std::string replica_remote_command(cluster_state& c, int node, std::string_view cmd,
                                   const std::vector<std::string>& args) {
    bool master = c.gen() == generation::master;
    if (cmd == "perf-counters-by-substr" || cmd == "perf-counters-by-prefix" ||
        cmd == "perf-counters-by-postfix" || cmd == "perf-counters")
        return perf_counters(c, node, cmd, args);
    if (cmd == "server-info")
        return server_info(c, c.node_start_unix_s(node));
    if (cmd == "replica.query-app-envs")
        return exec_on_replicas(c, node, args, &query_app_envs);
    if (master && cmd == "replica.query-progress")
        return exec_on_replicas(c, node, args, &query_progress);
    if (master && cmd == "replica.disable-empty-write")
        return disable_empty_write(c, node, args);
    return fmt::format("unknown command '{}'", cmd);
}

std::string meta_remote_command(cluster_state& c, int, std::string_view cmd,
                                const std::vector<std::string>&) {
    if (cmd == "server-info")
        return server_info(c, c.owner().unix_us() / 1000000);
    return fmt::format("unknown command '{}'", cmd);
}

http_reply replica_http(cluster_state& c, int node, const http_request& req) {
    std::string path;
    std::vector<std::pair<std::string, std::string>> params;
    if (!parse_http_target(req.target, path, params))
        return {400, "duplicate parameter", {}};
    auto& n = c.nodes.at(static_cast<std::size_t>(node));
    if (path == "/version")
        return version_reply(c);
    if (path == "/replica/data_version") {
        bool present = false;
        auto v = get_param(params, "app_id", &present);
        if (!present || v.empty())
            return {400, "app_id should not be empty", {}};
        auto id = parse_int(v, true);
        if (!id || *id < 0)
            return {400, "invalid app_id=" + v, {}};
        auto* t = c.find_table(*id);
        json::object o;
        if (t)
            for (const auto& p : t->partitions)
                if (c.node_hosts(*t, p.index, node))
                    o[std::to_string(p.index)] =
                        json::object{{"data_version", std::to_string(t->data_version)}};
        if (o.empty())
            return {404, fmt::format("app_id={} not found", *id), {}};
        return {200, json::serialize(o), {}};
    }
    if (path == "/replica/duplication") {
        if (!c.config().duplication_enabled)
            return {404, "duplication is not enabled [duplication_enabled=false]", {}};
        bool present = false;
        auto v = get_param(params, "appid", &present);
        if (!present || v.empty())
            return {400, "appid should not be empty", {}};
        auto id = parse_int(v, true);
        if (!id || *id < 0)
            return {400, "invalid appid=" + v, {}};
        auto* t = c.find_table(*id);
        bool has_primary = false;
        json::object o;
        if (t)
            for (const auto& p : t->partitions) {
                if (p.primary != node)
                    continue;
                has_primary = true;
                for (auto dupid : t->dups) {
                    const auto& d = c.dups.at(dupid);
                    const auto& dp = d.partitions[static_cast<std::size_t>(p.index)];
                    if (!dp.has_duplicator)
                        continue;
                    json::object e;
                    e["duplicating"] = d.status == dup_status::log;
                    e["not_confirmed_mutations_num"] =
                        std::max<std::int64_t>(0, p.last_committed - dp.replica_meta_persisted);
                    e["not_duplicated_mutations_num"] =
                        std::max<std::int64_t>(0, p.last_committed - dp.confirmed);
                    e["fail_mode"] = fail_mode_name(d.mode);
                    if (c.gen() == generation::master)
                        e["remote_app_name"] = d.remote_app_name;
                    auto key = std::to_string(d.dupid);
                    if (!o.contains(key))
                        o[key] = json::object();
                    o[key].as_object()[fmt::format("{}.{}", t->app_id, p.index)] = std::move(e);
                }
            }
        if (!has_primary)
            return {404, fmt::format("no primary for app [appid={}]", *id), {}};
        if (o.empty())
            return {404, fmt::format("no duplication assigned for app [appid={}]", *id), {}};
        return {200, json::serialize(o), {}};
    }
    if (path == "/metrics") {
        if (c.gen() == generation::v2_4)
            return not_found_service(path); // UNVERIFIED: 2.4 predates the metrics endpoint
        return metrics(c, node, req, params);
    }
    if (path == "/config") {
        bool present = false;
        auto name = get_param(params, "name", &present);
        json::object o;
        if (name == "config_sync_interval_ms" && c.gen() != generation::v2_4) {
            o = {
                {"name", name},
                {"section", "replication"},
                {"type", "FV_UINT32"},
                {"tags", "flag_tag::FT_MUTABLE"},
                {"description", "The interval milliseconds of replica server to syncs replica "
                                "configuration with meta server"},
                {"value", std::to_string(
                              std::chrono::duration_cast<millis>(n.config_sync_interval).count())}};
        } else if (name == "empty_write_disabled") {
            o = {{"name", name},
                 {"section", "replication"},
                 {"type", "FV_BOOL"},
                 {"tags", "flag_tag::FT_MUTABLE"},
                 {"description", "whether to disable empty write, default is false"},
                 {"value", n.empty_write_disabled ? "true" : "false"}};
        } else {
            return {404, fmt::format("{} is not found", name), {}};
        }
        return {200, json::serialize(o) + "\n", {}};
    }
    if (path == "/updateConfig") {
        auto status = [](std::string s) {
            return http_reply{200, json::serialize(json::object{{"update_status", s}}) + "\n", {}};
        };
        if (params.size() != 1)
            return {400, "Only one config can be updated at a time", {}};
        const auto& [k, v] = params[0];
        if (k == "config_sync_interval_ms") {
            // Not a flag before 2.5 (progress doc §0): a restart was the only way to change it.
            if (c.gen() == generation::v2_4)
                return status("ERR_OBJECT_NOT_FOUND: " + k + " is not found");
            auto ms = parse_int(v, true);
            if (!ms || *ms <= 0)
                return status("ERR_INVALID_PARAMETERS: " + k + " is invalid: " + v);
            c.set_config_sync_interval(node, millis(*ms));
            return status("ERR_OK");
        }
        if (k == "empty_write_disabled") {
            if (v != "true" && v != "false")
                return status("ERR_INVALID_PARAMETERS: " + k + " is invalid: " + v);
            n.empty_write_disabled = v == "true";
            return status("ERR_OK");
        }
        if (k == "group_check_interval_ms" || k == "duplication_sync_period_second")
            return status("ERR_INVALID_PARAMETERS: " + k + " is not mutable");
        return status("ERR_OBJECT_NOT_FOUND: " + k + " is not found");
    }
    return not_found_service(path);
}

http_reply meta_http(cluster_state& c, int, const http_request& req) {
    std::string path;
    std::vector<std::pair<std::string, std::string>> params;
    if (!parse_http_target(req.target, path, params))
        return {400, "duplicate parameter", {}};
    if (path == "/version")
        return version_reply(c);
    return not_found_service(path);
}

} // namespace tablemigrator::sim
