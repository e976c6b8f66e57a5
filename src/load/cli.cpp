// CLI11 parsing and validation for pegasus-load.
#include "load/cli.hpp"

#include <CLI/CLI.hpp>

#include <set>
#include <sstream>

namespace tablemigrator::load {

namespace {

using ms = std::chrono::milliseconds;

struct raw_options {
    std::string zk, root, meta, tables, record, log_level = "info";
    double rate = 100;
    double duration_s = 0;
    long long concurrency = 16;
    long long multi_put = 0;
    long long read_every = 10;
    long long write_timeout_ms = 10000;
    long long attempt_timeout_ms = 1000;
    long long stop_grace_ms = 2000;
    long long progress_ms = 5000;
    long long zk_session_timeout_ms = 10000;
    bool scan = false;
};

void add_source(CLI::App* cmd, raw_options& o) {
    cmd->add_option("--zk", o.zk, "ZooKeeper hosts of the MetaProxy entries (h:p,h:p[/chroot])");
    cmd->add_option("--root", o.root, "ZooKeeper path holding one entry per table");
    cmd->add_option("--meta", o.meta, "meta servers h:p,h:p (instead of --zk/--root)");
    cmd->add_option("--zk-session-timeout-ms", o.zk_session_timeout_ms,
                    "ZooKeeper session timeout");
    cmd->add_option("--attempt-timeout-ms", o.attempt_timeout_ms, "timeout of one RPC attempt");
    cmd->add_option("--log-level", o.log_level, "trace|debug|info|warn|error|off");
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else if (c != ' ') {
            cur.push_back(c);
        }
    }
    out.push_back(cur);
    return out;
}

cli_outcome bad(std::string message) {
    cli_outcome o;
    o.exit_code = 2;
    o.message = "pegasus-load: " + std::move(message);
    return o;
}

// Shared validation of the cluster source, the timeouts and the log level.
std::optional<cli_outcome> validate_common(const raw_options& o, cli_command& c) {
    const bool zk = !o.zk.empty() || !o.root.empty();
    if (zk && !o.meta.empty())
        return bad("give either --zk and --root, or --meta, not both");
    if (!zk && o.meta.empty())
        return bad("give --zk and --root (MetaProxy entries) or --meta (meta servers)");
    if (zk) {
        if (o.zk.empty())
            return bad("--root needs --zk");
        if (o.root.empty())
            return bad("--zk needs --root");
        if (o.root.front() != '/')
            return bad("--root must be an absolute ZooKeeper path (got '" + o.root + "')");
        c.source.use_zk = true;
        c.source.zk_hosts = o.zk;
        c.source.zk_root = o.root;
    } else {
        auto metas = rpc::parse_endpoint_list(o.meta);
        if (!metas)
            return bad("--meta must be a list of host:port (got '" + o.meta + "')");
        c.source.metas = std::move(*metas);
    }
    if (o.zk_session_timeout_ms <= 0)
        return bad("--zk-session-timeout-ms must be > 0");
    c.source.zk_session_timeout = ms(o.zk_session_timeout_ms);
    if (o.attempt_timeout_ms <= 0)
        return bad("--attempt-timeout-ms must be > 0");
    auto level = parse_log_level(o.log_level);
    if (!level)
        return bad("--log-level must be trace, debug, info, warn, error or off (got '" +
                   o.log_level + "')");
    c.level = *level;
    return std::nullopt;
}

std::optional<cli_outcome> parse_tables(const std::string& text, std::vector<std::string>& out,
                                        bool required) {
    out.clear();
    if (text.empty()) {
        if (required)
            return bad("--tables is required (a,b,c)");
        return std::nullopt;
    }
    std::set<std::string> seen;
    for (auto& t : split_list(text)) {
        if (t.empty())
            return bad("--tables has an empty table name (got '" + text + "')");
        if (t.find('/') != std::string::npos)
            return bad("--tables: a table name cannot contain '/' (got '" + t + "')");
        if (!seen.insert(t).second)
            return bad("--tables names '" + t + "' twice");
        out.push_back(t);
    }
    return std::nullopt;
}

} // namespace

cli_outcome parse_cli(int argc, const char* const* argv) {
    CLI::App app{"pegasus-load: writes uniquely keyed data into Pegasus tables like an application "
                 "behind MetaProxy, records acknowledged writes and verifies them later"};
    app.require_subcommand(1);
    raw_options o;

    auto* run = app.add_subcommand("run", "write at a set rate until SIGINT/SIGTERM or --duration");
    add_source(run, o);
    run->add_option("--tables", o.tables, "tables to write, a,b,c")->required();
    run->add_option("--rate", o.rate, "writes per second per table (default 100)");
    run->add_option("--duration", o.duration_s, "seconds to run (default: until a signal)");
    run->add_option("--record", o.record, "write the acknowledged writes to this file");
    run->add_option("--concurrency", o.concurrency, "writes in flight per table (default 16)");
    run->add_option("--multi-put", o.multi_put,
                    "MULTI_PUT this many sort keys per write (0 = PUT)");
    run->add_option("--read-every", o.read_every,
                    "read back every n-th acknowledged write (0 = never)");
    run->add_option("--write-timeout-ms", o.write_timeout_ms,
                    "deadline of one write, retries included");
    run->add_option("--stop-grace-ms", o.stop_grace_ms,
                    "how long in-flight writes may finish after stop");
    run->add_option("--progress-ms", o.progress_ms,
                    "log a progress line per table this often (0 = never)");

    auto* ver = app.add_subcommand("verify", "read every acknowledged key of a record back");
    add_source(ver, o);
    ver->add_option("--record", o.record, "record written by `run --record`")->required();
    ver->add_option("--tables", o.tables, "only these tables (default: all in the record)");
    ver->add_flag("--scan", o.scan, "use a full-table scan instead of one GET per key");
    ver->add_option("--concurrency", o.concurrency, "GETs in flight (default 16)");
    ver->add_option("--timeout-ms", o.write_timeout_ms,
                    "deadline per key (or scan batch), retries included");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::ostringstream out, err;
        cli_outcome r;
        r.exit_code = app.exit(e, out, err) == 0 ? 0 : 2;
        if (r.exit_code == 0) {
            r.message = out.str(); // --help
            while (!r.message.empty() && r.message.back() == '\n')
                r.message.pop_back();
            return r;
        }
        // CLI11 adds "Run with --help ..." on a second line: keep the error line only.
        auto text = err.str();
        r.message = "pegasus-load: " + text.substr(0, text.find('\n'));
        return r;
    }

    cli_command c;
    if (auto e = validate_common(o, c))
        return *e;
    c.record_file = o.record;
    if (o.concurrency < 1)
        return bad("--concurrency must be >= 1");
    if (o.write_timeout_ms <= 0)
        return bad(std::string(run->parsed() ? "--write-timeout-ms" : "--timeout-ms") +
                   " must be > 0");

    if (run->parsed()) {
        c.kind = command_kind::run;
        auto& l = c.load;
        if (auto e = parse_tables(o.tables, l.tables, true))
            return *e;
        if (!(o.rate > 0) || o.rate > 1e6)
            return bad("--rate must be > 0 and <= 1000000 writes per second");
        if (!(o.duration_s >= 0))
            return bad("--duration must be >= 0 seconds");
        if (o.multi_put < 0 || o.multi_put > 1000)
            return bad("--multi-put must be between 0 and 1000");
        if (o.read_every < 0)
            return bad("--read-every must be >= 0");
        if (o.stop_grace_ms < 0)
            return bad("--stop-grace-ms must be >= 0");
        if (o.progress_ms < 0)
            return bad("--progress-ms must be >= 0");
        l.progress_interval = ms(o.progress_ms);
        l.rate = o.rate;
        l.duration = ms(static_cast<long long>(o.duration_s * 1000.0));
        l.concurrency = static_cast<std::size_t>(o.concurrency);
        l.multi_put = static_cast<int>(o.multi_put);
        l.read_every = static_cast<int>(o.read_every);
        l.write_timeout = ms(o.write_timeout_ms);
        l.stop_grace = ms(o.stop_grace_ms);
        l.retry.attempt_timeout = ms(o.attempt_timeout_ms);
    } else {
        c.kind = command_kind::verify;
        auto& v = c.verify;
        if (auto e = parse_tables(o.tables, v.tables, false))
            return *e;
        v.scan = o.scan;
        v.concurrency = static_cast<std::size_t>(o.concurrency);
        v.key_timeout = ms(o.write_timeout_ms);
        v.retry.attempt_timeout = ms(o.attempt_timeout_ms);
    }
    cli_outcome r;
    r.command = std::move(c);
    return r;
}

} // namespace tablemigrator::load
