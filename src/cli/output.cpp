// Console output (see output.hpp). JSON events are documented in docs/cli.md.
#include <tablemigrator/cli/output.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

namespace tablemigrator::cli {
namespace {

std::string wall_clock() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::ostringstream s;
    s << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
    return s.str();
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string error_text(const error_code& ec) {
    if (!ec)
        return "";
    if (ec.category() == rdsn_category())
        return rdsn_error_name(ec);
    return ec.message();
}

std::string seconds(migrate::duration d) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << static_cast<double>(d.count()) / 1000.0 << "s";
    return s.str();
}

} // namespace

console_observer::console_observer(std::ostream& out, bool json) : out_(out), json_(json) {}

void console_observer::on_preflight(const migrate::preflight_report& r) {
    if (json_) {
        boost::json::object o{{"event", "preflight"},     {"ts_ms", unix_ms()},
                              {"ok", r.ok()},             {"source_cluster", r.source_cluster},
                              {"target_cluster", r.target_cluster}, {"generation", r.generation},
                              {"config_sync_period_ms", r.config_sync_period.count()}};
        boost::json::array tables;
        for (const auto& t : r.tables) {
            boost::json::array f(t.failures.begin(), t.failures.end());
            boost::json::array w(t.warnings.begin(), t.warnings.end());
            tables.push_back(boost::json::object{{"table", t.table}, {"app_id", t.app_id},
                                                 {"partition_count", t.partition_count},
                                                 {"already_switched", t.already_switched},
                                                 {"failures", f}, {"warnings", w}});
        }
        o["tables"] = std::move(tables);
        o["failures"] = boost::json::array(r.failures.begin(), r.failures.end());
        o["warnings"] = boost::json::array(r.warnings.begin(), r.warnings.end());
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    out_ << wall_clock() << " preflight: source '" << r.source_cluster << "' (" << r.generation
         << "), target '" << r.target_cluster << "', config-sync period " << seconds(r.config_sync_period)
         << (r.ok() ? ": ok" : ": FAILED, nothing was changed") << "\n";
    for (const auto& f : r.failures)
        out_ << "  error: " << f << "\n";
    for (const auto& w : r.warnings)
        out_ << "  warning: " << w << "\n";
    for (const auto& t : r.tables) {
        for (const auto& f : t.failures)
            out_ << "  error: table " << t.table << ": " << f << "\n";
        for (const auto& w : t.warnings)
            out_ << "  warning: table " << t.table << ": " << w << "\n";
    }
    out_.flush();
}

void console_observer::on_phase(const std::string& table, migrate::phase from, migrate::phase to,
                                const migrate::table_state& state) {
    if (json_) {
        boost::json::object o{{"event", "phase"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"from", migrate::to_string(from)}, {"to", migrate::to_string(to)}};
        if (state.backlog_at_freeze >= 0)
            o["backlog_at_freeze"] = state.backlog_at_freeze;
        if (!state.failure.empty())
            o["reason"] = state.failure;
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    out_ << wall_clock() << " " << table << ": " << migrate::to_string(from) << " -> "
         << migrate::to_string(to);
    if (to == migrate::phase::freeze)
        out_ << " (backlog " << state.backlog_at_freeze << ")";
    if (!state.failure.empty() && migrate::is_terminal(to))
        out_ << ": " << state.failure;
    out_ << std::endl;
}

void console_observer::on_backlog(const std::string& table, const migrate::ev_backlog& b) {
    if (json_) {
        boost::json::object o{{"event", "backlog"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"backlog", b.backlog}, {"complete", b.complete}};
        if (b.rate_per_s)
            o["rate_per_s"] = *b.rate_per_s;
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    // Plain lines at a modest rate: at most one backlog line per table every 10 s.
    const auto now = std::chrono::steady_clock::now();
    auto& last = last_backlog_line_[table];
    if (now - last < std::chrono::seconds(10))
        return;
    last = now;
    out_ << wall_clock() << " " << table << ": backlog " << b.backlog << (b.complete ? "" : " (partial)");
    if (b.rate_per_s)
        out_ << ", shipping " << std::fixed << std::setprecision(0) << *b.rate_per_s << " decrees/s";
    out_ << std::endl;
}

void console_observer::on_drain(const std::string& table, const migrate::ev_drain& d) {
    if (json_) {
        boost::json::object o{{"event", "drain"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"partitions", d.partitions}, {"drained", d.drained},
                              {"topology_changed", d.topology_changed}};
        out_ << boost::json::serialize(o) << std::endl;
    }
}

void console_observer::on_error(const std::string& table, migrate::phase p, const error_code& ec,
                                const std::string& message) {
    if (json_) {
        boost::json::object o{{"event", "error"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"phase", migrate::to_string(p)}, {"error", error_text(ec)},
                              {"message", message}};
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    out_ << wall_clock() << " " << table << ": error in " << migrate::to_string(p) << ": " << message
         << std::endl;
}

void console_observer::on_table_done(const migrate::table_report& r) {
    if (json_) {
        boost::json::object o{{"event", "table_done"}, {"ts_ms", unix_ms()}, {"table", r.table},
                              {"outcome", migrate::to_string(r.outcome)}};
        if (!r.failure.empty())
            o["reason"] = r.failure;
        out_ << boost::json::serialize(o) << std::endl;
    }
}

void console_observer::on_note(const std::string& text) {
    if (json_)
        out_ << boost::json::serialize(boost::json::object{{"event", "note"}, {"text", text}}) << std::endl;
    else
        out_ << text << std::endl;
}

void console_observer::print_report(const migrate::run_report& r) {
    if (json_) {
        boost::json::array tables;
        for (const auto& t : r.tables) {
            boost::json::object phases;
            for (const auto& p : t.phases) {
                const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.end - p.start).count();
                auto key = migrate::to_string(p.p);
                phases[key] = (phases.contains(key) ? phases[key].as_int64() : 0) + ms;
            }
            boost::json::object o{{"table", t.table},
                                  {"outcome", migrate::to_string(t.outcome)},
                                  {"reason", t.failure},
                                  {"error", error_text(t.error)},
                                  {"phases_ms", phases},
                                  {"backlog_at_freeze", t.backlog_at_freeze},
                                  {"entry_switched", t.entry_switched},
                                  {"reconfig_set", t.reconfig_set},
                                  {"writes_may_be_denied", t.writes_may_be_denied}};
            if (t.deny_window)
                o["deny_window_ms"] = t.deny_window->count();
            tables.push_back(std::move(o));
        }
        boost::json::object o{{"event", "report"}, {"ts_ms", unix_ms()}, {"exit_code", r.exit_code},
                              {"tables", tables}, {"notes", boost::json::array(r.notes.begin(), r.notes.end())}};
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    if (!r.tables.empty()) {
        out_ << "\n"
             << std::left << std::setw(20) << "table" << std::setw(9) << "outcome" << std::setw(10) << "dup+log"
             << std::setw(10) << "backlog" << std::setw(10) << "freeze@" << std::setw(10) << "drain"
             << std::setw(12) << "deny window" << "switch\n";
        for (const auto& t : r.tables) {
            std::map<migrate::phase, migrate::duration> d;
            for (const auto& p : t.phases)
                d[p.p] += std::chrono::duration_cast<migrate::duration>(p.end - p.start);
            out_ << std::left << std::setw(20) << t.table << std::setw(9) << migrate::to_string(t.outcome)
                 << std::setw(10) << seconds(d[migrate::phase::duplicate] + d[migrate::phase::wait_log])
                 << std::setw(10) << seconds(d[migrate::phase::wait_backlog]) << std::setw(10)
                 << (t.backlog_at_freeze >= 0 ? std::to_string(t.backlog_at_freeze) : "-") << std::setw(10)
                 << seconds(d[migrate::phase::wait_frozen] + d[migrate::phase::drain]) << std::setw(12)
                 << (t.deny_window ? seconds(*t.deny_window) : "-")
                 << (t.entry_switched ? (t.reconfig_set ? "switched" : "switched, reconfig NOT set") : "-")
                 << "\n";
            if (!t.failure.empty())
                out_ << "    " << t.failure << "\n";
        }
    }
    for (const auto& n : r.notes)
        out_ << n << "\n";
    out_.flush();
}

} // namespace tablemigrator::cli
