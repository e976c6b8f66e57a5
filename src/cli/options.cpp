// CLI11 parsing and validation of the command line (the only translation unit that includes
// CLI11: its header alone costs seconds to compile).
#include <tablemigrator/cli/options.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace tablemigrator::cli {
namespace {

// Splits on ',' keeping empty pieces, so "a,,b" and "h:1," are reported instead of ignored.
std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos)
            return out;
        start = comma + 1;
    }
}

std::string trim(std::string s) {
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

bool valid_host(const std::string& h) {
    if (h.empty() || h.size() > 253)
        return false;
    return std::all_of(h.begin(), h.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == '_';
    });
}

bool valid_table_name(const std::string& t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '.' || c == '-';
    });
}

void add_common(CLI::App& app, raw_options& o) {
    app.add_option("-s,--source-meta", o.source_meta,
                   "source cluster meta servers, host:port,host:port");
    // Split in validate(), not by CLI11, which silently drops empty pieces ("a,,b").
    app.add_option("-t,--table", o.tables, "table(s) to migrate, comma-separated");
    app.add_option("-c,--cluster", o.target_cluster,
                   "target cluster name (remote_cluster_name of the duplication)");
    app.add_option("-m,--meta", o.target_meta, "target cluster meta servers, host:port,host:port");
    app.add_option("--log-level", o.log_level, "trace|debug|info|warn|error|off")
        ->capture_default_str();
    app.add_option("--log-file", o.log_file, "write log lines to this file");
    app.add_flag("--json", o.json, "one JSON object per event and a final report on stdout");
}

void add_migrate(CLI::App& app, raw_options& o) {
    app.add_option("-r,--root", o.root,
                   "MetaProxy ZooKeeper root (e.g. /pegasus/proxy); empty = no client switch");
    app.add_option("-n,--node", o.zk_node,
                   "ZooKeeper connect string of MetaProxy (default: the source's zookeeper_hosts)");
    app.add_option("-p,--threshold", o.threshold,
                   "freeze writes once this table's backlog is at most N mutations")
        ->capture_default_str();
    app.add_option("--parallel", o.parallel, "tables migrated at once (0 = all)")
        ->capture_default_str();
    app.add_flag("--dry-run", o.dry_run, "run the preflight checks, print the plan, change nothing");
    app.add_option("--max-deny-seconds", o.max_deny_seconds,
                   "bound of the write-deny window per table; writes are restored on expiry")
        ->capture_default_str();
    app.add_option("--config-sync-interval-ms", o.config_sync_interval_ms,
                   "the servers' config_sync_interval_ms when it cannot be read from them")
        ->capture_default_str();
    app.add_option("--fast-cutover", o.fast_cutover_ms,
                   "lower config_sync_interval_ms to MS on the source nodes for the cutover "
                   "(2.5+; restored afterwards); bare flag = 1000")
        ->expected(0, 1)
        ->default_str("1000");
    app.add_option("--timeout", o.timeout_seconds, "overall deadline in seconds (0 = none)")
        ->capture_default_str();
    app.add_option("--meta-rps", o.meta_rps,
                   "requests per second to the source meta, shared by all tables (cutover requests first)")
        ->capture_default_str();
    app.add_option("--state-file", o.state_file,
                   "where --fast-cutover records the original config-sync periods (a rerun restores them)")
        ->capture_default_str();
    app.add_flag("--create-missing", o.create_missing,
                 "create a missing MetaProxy entry instead of failing");
}

} // namespace

parse_result parse_command_line(int argc, const char* const* argv) {
    raw_options o;
    CLI::App app{"table-migrator: move Apache Pegasus tables online from one cluster to another",
                 "table-migrator"};
    app.set_version_flag("--version", std::string("table-migrator ") + TABLEMIGRATOR_VERSION);
    app.set_config("--config", "", "read options from this TOML/INI file");
    app.require_subcommand(0, 1);
    add_common(app, o);
    add_migrate(app, o);

    auto* migrate = app.add_subcommand("migrate", "migrate tables (the default)");
    add_common(*migrate, o);
    add_migrate(*migrate, o);
    auto* status = app.add_subcommand("status", "read-only view of each table's duplication and phase");
    add_common(*status, o);
    auto* abort = app.add_subcommand("abort", "restore writes on tables that are frozen and not switched");
    add_common(*abort, o);
    abort->add_flag("--remove-duplication", o.remove_duplication,
                    "also remove the table's duplication to the target");
    // abort also puts back config-sync periods that a crashed --fast-cutover run left lowered.
    abort->add_option("--state-file", o.state_file,
                      "the state file of the migrate run (its recorded config-sync periods are restored)")
        ->capture_default_str();

    // A bare --fast-cutover uses the default; CLI11 reports it as present with no value.
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return parse_exit{exit_ok, app.help()};
    } catch (const CLI::CallForAllHelp&) {
        return parse_exit{exit_ok, app.help("", CLI::AppFormatMode::All)};
    } catch (const CLI::CallForVersion&) {
        return parse_exit{exit_ok, std::string("table-migrator ") + TABLEMIGRATOR_VERSION + "\n"};
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        return parse_exit{exit_usage, "table-migrator: " + what};
    }
    if (status->parsed())
        o.cmd = command::status;
    else if (abort->parsed())
        o.cmd = command::abort;
    for (CLI::App* a : {static_cast<CLI::App*>(&app), migrate}) {
        if (auto* fc = a->get_option_no_throw("--fast-cutover"); fc && fc->count() > 0 && !o.fast_cutover_ms)
            o.fast_cutover_ms = 1000;
    }
    return o;
}

std::variant<std::vector<host_port>, std::string> parse_host_ports(const std::string& text,
                                                                   const std::string& what) {
    std::vector<host_port> out;
    if (trim(text).empty())
        return what + " is empty: expected host:port[,host:port...]";
    for (std::string item : split_commas(text)) {
        item = trim(item);
        if (item.empty())
            return what + " '" + text + "' has an empty entry: expected host:port[,host:port...]";
        const auto colon = item.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
            return what + " entry '" + item + "' is not host:port";
        const std::string host = item.substr(0, colon);
        const std::string port_text = item.substr(colon + 1);
        if (!valid_host(host))
            return what + " entry '" + item + "' has an invalid host '" + host + "'";
        unsigned port = 0;
        const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
            return what + " entry '" + item + "' has an invalid port '" + port_text +
                   "' (expected 1..65535)";
        host_port hp{host, static_cast<std::uint16_t>(port)};
        if (std::find(out.begin(), out.end(), hp) != out.end())
            return what + " lists '" + item + "' twice";
        out.push_back(hp);
    }
    return out;
}

std::variant<run_config, std::string> validate(const raw_options& raw) {
    run_config c;
    c.cmd = raw.cmd;

    if (raw.source_meta.empty())
        return std::string("missing -s/--source-meta: expected the source meta servers host:port[,host:port...]");
    auto src = parse_host_ports(raw.source_meta, "-s/--source-meta");
    if (auto* err = std::get_if<std::string>(&src))
        return *err;
    c.source_metas = std::get<std::vector<host_port>>(src);

    if (raw.tables.empty())
        return std::string("missing -t/--table: expected one or more table names, comma-separated");
    std::set<std::string> seen;
    std::vector<std::string> pieces;
    for (const auto& arg : raw.tables)
        for (auto& piece : split_commas(arg))
            pieces.push_back(std::move(piece));
    for (const auto& t0 : pieces) {
        const std::string t = trim(t0);
        if (t.empty())
            return std::string("-t/--table has an empty table name: expected name[,name...]");
        if (!valid_table_name(t))
            return "-t/--table: '" + t + "' is not a valid table name (letters, digits, '_', '.', '-')";
        if (!seen.insert(t).second)
            return "-t/--table: table '" + t + "' is listed twice";
        c.tables.push_back(t);
    }

    const bool has_c = !raw.target_cluster.empty();
    const bool has_m = !raw.target_meta.empty();
    if (has_m && !has_c)
        return std::string("-m/--meta is given without -c/--cluster: expected both the target cluster name and its metas");
    if (has_c && !has_m)
        return std::string("-c/--cluster is given without -m/--meta: expected both the target cluster name and its metas");
    if (raw.cmd == command::migrate && !has_c)
        return std::string("missing -c/--cluster and -m/--meta: migrate needs the target cluster name and its meta servers");
    if (has_c) {
        if (!valid_table_name(raw.target_cluster))
            return "-c/--cluster: '" + raw.target_cluster + "' is not a valid cluster name";
        c.target_cluster = raw.target_cluster;
        auto dst = parse_host_ports(raw.target_meta, "-m/--meta");
        if (auto* err = std::get_if<std::string>(&dst))
            return *err;
        c.target_metas = std::get<std::vector<host_port>>(dst);
        for (const auto& hp : c.target_metas) {
            if (std::find(c.source_metas.begin(), c.source_metas.end(), hp) != c.source_metas.end())
                return "source and target are the same cluster: " + hp.host + ":" +
                       std::to_string(hp.port) + " is in both -s and -m";
            if (!c.target_meta_text.empty())
                c.target_meta_text += ",";
            c.target_meta_text += hp.host + ":" + std::to_string(hp.port);
        }
    }

    {
        const std::string p = trim(raw.threshold);
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || v < 0)
            return "-p/--threshold '" + raw.threshold + "' is not a whole number >= 0";
        c.threshold = v;
    }

    if (!raw.root.empty()) {
        if (raw.root.front() != '/')
            return "-r/--root '" + raw.root + "' must be an absolute ZooKeeper path starting with '/'";
        if (raw.root.size() > 1 && raw.root.back() == '/')
            return "-r/--root '" + raw.root + "' must not end with '/'";
        if (raw.root.find("//") != std::string::npos)
            return "-r/--root '" + raw.root + "' has an empty path segment";
        c.root = raw.root;
    }
    if (!raw.zk_node.empty()) {
        if (raw.root.empty())
            return std::string("-n/--node is only used with -r/--root (the MetaProxy switch)");
        const auto slash = raw.zk_node.find('/');
        auto zk = parse_host_ports(raw.zk_node.substr(0, slash), "-n/--node");
        if (auto* err = std::get_if<std::string>(&zk))
            return *err;
        c.zk_connect = raw.zk_node;
    }

    if (raw.parallel < 0)
        return "--parallel " + std::to_string(raw.parallel) + " is negative: expected 0 (all) or more";
    c.parallel = raw.parallel;
    c.dry_run = raw.dry_run;
    if (!(raw.config_sync_interval_ms > 0))
        return std::string("--config-sync-interval-ms must be > 0");
    c.config_sync_interval = std::chrono::milliseconds(raw.config_sync_interval_ms);
    if (!(raw.max_deny_seconds > 0))
        return std::string("--max-deny-seconds must be > 0");
    c.max_deny = std::chrono::milliseconds(static_cast<std::int64_t>(raw.max_deny_seconds * 1000));
    if (raw.fast_cutover_ms) {
        if (*raw.fast_cutover_ms < 100)
            return "--fast-cutover=" + std::to_string(*raw.fast_cutover_ms) +
                   " is too small: expected a config-sync period of at least 100 ms";
        c.fast_cutover = std::chrono::milliseconds(*raw.fast_cutover_ms);
    }
    if (raw.timeout_seconds < 0)
        return std::string("--timeout must be >= 0 seconds");
    if (raw.timeout_seconds > 0)
        c.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(raw.timeout_seconds * 1000));
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
    if (!levels.count(raw.log_level))
        return "--log-level '" + raw.log_level + "' is not one of trace, debug, info, warn, error, off";
    c.log_level = raw.log_level;
    c.json = raw.json;
    if (!raw.log_file.empty())
        c.log_file = raw.log_file;
    if (!(raw.meta_rps > 0))
        return std::string("--meta-rps must be > 0 requests per second");
    c.meta_rps = raw.meta_rps;
    if (!raw.state_file.empty())
        c.state_file = raw.state_file;
    c.create_missing = raw.create_missing;
    c.remove_duplication = raw.remove_duplication;
    return c;
}

} // namespace tablemigrator::cli
