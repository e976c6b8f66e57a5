// JSON parsing of the pegasus-sim configuration. Unknown keys are errors so typos do not silently
// fall back to defaults.
#include "sim/config.hpp"

#include <tablemigrator/core/error.hpp>

#include <boost/json.hpp>

#include <set>

namespace tablemigrator::sim {

namespace json = boost::json;

std::optional<generation> parse_generation(std::string_view text) {
    if (text == "2.4")
        return generation::v2_4;
    if (text == "2.5")
        return generation::v2_5;
    if (text == "master" || text == "2.6")
        return generation::master;
    return std::nullopt;
}

std::string_view generation_name(generation g) noexcept {
    switch (g) {
    case generation::v2_4:
        return "2.4";
    case generation::v2_5:
        return "2.5";
    case generation::master:
        return "master";
    }
    return "?";
}

namespace {

struct parse_error {
    std::string what;
};

void check_keys(const json::object& o, std::initializer_list<std::string_view> allowed,
                std::string_view where) {
    for (const auto& kv : o) {
        bool ok = false;
        for (auto a : allowed)
            ok = ok || kv.key() == a;
        if (!ok)
            throw parse_error{"unknown key '" + std::string(kv.key()) + "' in " +
                              std::string(where)};
    }
}

std::int64_t get_int(const json::value& v, std::string_view what) {
    if (auto p = v.if_int64())
        return *p;
    if (auto p = v.if_uint64())
        return static_cast<std::int64_t>(*p);
    if (auto p = v.if_double(); p && *p == static_cast<double>(static_cast<std::int64_t>(*p)))
        return static_cast<std::int64_t>(*p);
    throw parse_error{std::string(what) + " must be an integer"};
}

double get_double(const json::value& v, std::string_view what) {
    if (auto p = v.if_double())
        return *p;
    return static_cast<double>(get_int(v, what));
}

std::string get_string(const json::value& v, std::string_view what) {
    if (auto p = v.if_string())
        return std::string(*p);
    throw parse_error{std::string(what) + " must be a string"};
}

const json::object& get_object(const json::value& v, std::string_view what) {
    if (auto p = v.if_object())
        return *p;
    throw parse_error{std::string(what) + " must be an object"};
}

const json::array& get_array(const json::value& v, std::string_view what) {
    if (auto p = v.if_array())
        return *p;
    throw parse_error{std::string(what) + " must be an array"};
}

std::uint16_t get_port(const json::value& v, std::string_view what) {
    auto n = get_int(v, what);
    if (n < 0 || n > 65535)
        throw parse_error{std::string(what) + " is not a port"};
    return static_cast<std::uint16_t>(n);
}

// Server lists accept either a count (all ports 0) or an explicit port array.
std::vector<std::uint16_t> get_ports(const json::value& v, std::string_view what) {
    std::vector<std::uint16_t> out;
    if (v.is_array()) {
        for (const auto& e : v.as_array())
            out.push_back(get_port(e, what));
    } else {
        auto n = get_int(v, what);
        if (n < 0 || n > 1000)
            throw parse_error{std::string(what) + " count out of range"};
        out.assign(static_cast<std::size_t>(n), 0);
    }
    return out;
}

millis get_ms(const json::value& v, std::string_view what) {
    auto n = get_int(v, what);
    if (n < 0)
        throw parse_error{std::string(what) + " must not be negative"};
    return millis(n);
}

void parse_timing(const json::object& o, timing_config& t) {
    check_keys(o,
               {"config_sync_interval_ms", "duplication_sync_period_ms", "perf_counter_interval_ms",
                "checkpoint_copy_ms", "shipping_rate", "group_check_interval_ms",
                "meta_persist_throttle_ms", "dup_poll_delay_ms", "failure_detection_ms"},
               "timing");
    for (const auto& kv : o) {
        auto k = kv.key();
        if (k == "config_sync_interval_ms")
            t.config_sync_interval = get_ms(kv.value(), k);
        else if (k == "duplication_sync_period_ms")
            t.duplication_sync_period = get_ms(kv.value(), k);
        else if (k == "perf_counter_interval_ms")
            t.perf_counter_interval = get_ms(kv.value(), k);
        else if (k == "checkpoint_copy_ms")
            t.checkpoint_copy_duration = get_ms(kv.value(), k);
        else if (k == "shipping_rate")
            t.shipping_rate = get_double(kv.value(), k);
        else if (k == "group_check_interval_ms")
            t.group_check_interval = get_ms(kv.value(), k);
        else if (k == "meta_persist_throttle_ms")
            t.meta_persist_throttle = get_ms(kv.value(), k);
        else if (k == "dup_poll_delay_ms")
            t.dup_poll_delay = get_ms(kv.value(), k);
        else if (k == "failure_detection_ms")
            t.failure_detection = get_ms(kv.value(), k);
    }
    for (auto p : {t.config_sync_interval, t.duplication_sync_period, t.perf_counter_interval,
                   t.group_check_interval, t.dup_poll_delay})
        if (p.count() <= 0)
            throw parse_error{"timing periods must be positive"};
    if (t.shipping_rate < 0)
        throw parse_error{"shipping_rate must not be negative"};
}

table_config parse_table(const json::object& o) {
    check_keys(o, {"name", "partition_count", "replica_count", "data_version", "envs"}, "table");
    table_config t;
    for (const auto& kv : o) {
        auto k = kv.key();
        if (k == "name")
            t.name = get_string(kv.value(), k);
        else if (k == "partition_count")
            t.partition_count = static_cast<std::int32_t>(get_int(kv.value(), k));
        else if (k == "replica_count")
            t.replica_count = static_cast<std::int32_t>(get_int(kv.value(), k));
        else if (k == "data_version")
            t.data_version = static_cast<int>(get_int(kv.value(), k));
        else if (k == "envs")
            for (const auto& e : get_object(kv.value(), k))
                t.envs[std::string(e.key())] = get_string(e.value(), "env value");
    }
    if (t.name.empty())
        throw parse_error{"table without a name"};
    // Real clients require a power-of-two partition count >= 2 (data-plane §5.4).
    if (t.partition_count < 2 || (t.partition_count & (t.partition_count - 1)) != 0)
        throw parse_error{"table " + t.name + ": partition_count must be a power of two >= 2"};
    if (t.replica_count < 1)
        throw parse_error{"table " + t.name + ": replica_count must be >= 1"};
    if (t.data_version < 0 || t.data_version > 2)
        throw parse_error{"table " + t.name + ": data_version must be 0, 1 or 2"};
    return t;
}

cluster_config parse_cluster(const json::object& o) {
    check_keys(o,
               {"name", "generation", "meta_servers", "replica_servers", "zookeeper_hosts",
                "zookeeper_root", "duplication_group", "remote_clusters", "duplication_enabled",
                "dup_ignore_other_cluster_ids", "tables", "timing", "empty_write_disabled"},
               "cluster");
    cluster_config c;
    for (const auto& kv : o) {
        auto k = kv.key();
        const auto& v = kv.value();
        if (k == "name")
            c.name = get_string(v, k);
        else if (k == "generation") {
            auto g = parse_generation(get_string(v, k));
            if (!g)
                throw parse_error{"generation must be 2.4, 2.5 or master"};
            c.gen = *g;
        } else if (k == "meta_servers")
            c.meta_ports = get_ports(v, k);
        else if (k == "replica_servers")
            c.replica_ports = get_ports(v, k);
        else if (k == "zookeeper_hosts")
            c.zookeeper_hosts = get_string(v, k);
        else if (k == "zookeeper_root")
            c.zookeeper_root = get_string(v, k);
        else if (k == "duplication_group") {
            for (const auto& e : get_object(v, k)) {
                auto id = get_int(e.value(), "duplication group id");
                if (id < 1 || id > 127)
                    throw parse_error{"duplication group ids are 1..127"};
                c.duplication_group[std::string(e.key())] = static_cast<int>(id);
            }
        } else if (k == "remote_clusters") {
            for (const auto& e : get_object(v, k))
                c.remote_clusters[std::string(e.key())] = get_string(e.value(), "meta list");
        } else if (k == "duplication_enabled")
            c.duplication_enabled = v.as_bool();
        else if (k == "dup_ignore_other_cluster_ids")
            c.dup_ignore_other_cluster_ids = v.as_bool();
        else if (k == "empty_write_disabled")
            c.empty_write_disabled = v.as_bool();
        else if (k == "tables")
            for (const auto& t : get_array(v, k))
                c.tables.push_back(parse_table(get_object(t, "table")));
        else if (k == "timing")
            parse_timing(get_object(v, k), c.timing);
    }
    if (c.name.empty())
        throw parse_error{"cluster without a name"};
    if (c.meta_ports.empty() || c.replica_ports.empty())
        throw parse_error{"cluster " + c.name + " needs at least one meta and one replica server"};
    if (c.zookeeper_root.empty())
        c.zookeeper_root = "/pegasus/" + c.name;
    std::set<std::string> names;
    for (const auto& t : c.tables)
        if (!names.insert(t.name).second)
            throw parse_error{"duplicate table " + t.name + " in cluster " + c.name};
    return c;
}

} // namespace

result<sim_config> parse_config(std::string_view json_text, std::string* why) {
    boost::system::error_code ec;
    auto v = json::parse(json_text, ec);
    if (ec) {
        if (why)
            *why = "invalid JSON: " + ec.message();
        return make_error_code(client_errc::bad_json);
    }
    try {
        sim_config cfg;
        const auto& o = get_object(v, "config");
        check_keys(o, {"clusters", "admin_port", "ports_file"}, "config");
        for (const auto& kv : o) {
            auto k = kv.key();
            if (k == "clusters")
                for (const auto& c : get_array(kv.value(), k))
                    cfg.clusters.push_back(parse_cluster(get_object(c, "cluster")));
            else if (k == "admin_port")
                cfg.admin_port = get_port(kv.value(), k);
            else if (k == "ports_file")
                cfg.ports_file = get_string(kv.value(), k);
        }
        std::set<std::string> names;
        for (const auto& c : cfg.clusters)
            if (!names.insert(c.name).second)
                throw parse_error{"duplicate cluster " + c.name};
        if (cfg.clusters.empty())
            throw parse_error{"no clusters"};
        return cfg;
    } catch (const parse_error& e) {
        if (why)
            *why = e.what;
        return make_error_code(client_errc::invalid_argument);
    } catch (const std::exception& e) { // as_bool() on a non-bool
        if (why)
            *why = e.what();
        return make_error_code(client_errc::invalid_argument);
    }
}

sim_config default_config() {
    sim_config cfg;
    cluster_config c;
    c.name = "onebox";
    c.zookeeper_root = "/pegasus/onebox";
    c.duplication_group["onebox"] = 1;
    table_config t;
    t.name = "temp";
    c.tables.push_back(t);
    cfg.clusters.push_back(c);
    return cfg;
}

} // namespace tablemigrator::sim
