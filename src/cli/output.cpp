// Console output (see output.hpp). JSON events are documented in docs/cli.md, the live view in
// docs/operations.md.
#include <tablemigrator/cli/output.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/json.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <iostream>
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

// ---- live view model ---------------------------------------------------------------------------

void table_view::start(time_point now) {
    if (!started)
        started = now;
    if (!current) {
        current = migrate::phase::duplicate;
        phase_started = now;
    }
}

void table_view::on_phase(migrate::phase to, const migrate::table_state& s, time_point now) {
    start(now);
    current = to;
    phase_started = now;
    if (s.deny_may_be_set && !deny_start)
        deny_start = s.deny_requested.value_or(now);
    // The window ends when writes are restored or clients are redirected by the switch.
    if (deny_start && !deny_end && (!s.deny_may_be_set || s.entry_switched))
        deny_end = now;
    if (to == migrate::phase::drain)
        drained = 0;
    freeze_in_force_at = s.freeze_in_force_at;
    if (!s.failure.empty())
        failure = s.failure;
}

void table_view::on_backlog(const migrate::ev_backlog& b, time_point now) {
    start(now);
    if (b.complete && backlog >= 0 && backlog_complete && last_backlog_at && now > *last_backlog_at) {
        const double secs = std::chrono::duration<double>(now - *last_backlog_at).count();
        const double sample = static_cast<double>(backlog - b.backlog) / secs;
        net_drain_rate = net_drain_rate ? 0.5 * sample + 0.5 * *net_drain_rate : sample;
    }
    backlog = b.backlog;
    backlog_complete = b.complete;
    last_backlog_at = now;
    if (b.rate_per_s)
        shipping_rate = b.rate_per_s;
}

void table_view::on_drain(const migrate::ev_drain& d) {
    drained = d.drained;
    partitions = d.partitions;
}

void table_view::on_done(const migrate::table_report& r, time_point now) {
    start(now);
    current = r.outcome;
    finished = now;
    final_deny = r.deny_window;
    if (!r.failure.empty())
        failure = r.failure;
}

std::optional<migrate::duration> table_view::deny_so_far(time_point now) const {
    if (final_deny)
        return final_deny;
    if (!deny_start)
        return std::nullopt;
    const time_point end = deny_end.value_or(finished.value_or(now));
    return std::chrono::duration_cast<migrate::duration>(std::max(end, *deny_start) - *deny_start);
}

std::optional<migrate::duration> table_view::elapsed(time_point now) const {
    if (!started)
        return std::nullopt;
    return std::chrono::duration_cast<migrate::duration>(finished.value_or(now) - *started);
}

std::optional<migrate::duration> eta_to_next_phase(const table_view& t, time_point now, const view_settings& s) {
    if (!t.current)
        return std::nullopt;
    switch (*t.current) {
    case migrate::phase::wait_backlog: {
        if (t.backlog < 0 || !t.backlog_complete)
            return std::nullopt;
        if (t.backlog <= s.threshold)
            return migrate::duration(0);
        if (!t.net_drain_rate || *t.net_drain_rate <= 0)
            return std::nullopt; // not shrinking: no finite estimate
        const double secs = static_cast<double>(t.backlog - s.threshold) / *t.net_drain_rate;
        if (secs > 30.0 * 24 * 3600)
            return std::nullopt;
        return migrate::duration(static_cast<std::int64_t>(std::ceil(secs * 1000.0)));
    }
    case migrate::phase::wait_frozen: {
        // The engine said when it counts the freeze (the period it uses depends on fast cutover);
        // otherwise one period plus the engine's margin after the meta's ack.
        const time_point until = t.freeze_in_force_at
                                     ? *t.freeze_in_force_at
                                     : t.phase_started + s.config_sync_period +
                                           migrate::freeze_margin_for(s.config_sync_period);
        const auto left = std::chrono::duration_cast<migrate::duration>(until - now);
        return std::max(left, migrate::duration(0));
    }
    default:
        return std::nullopt;
    }
}

std::string format_duration(migrate::duration d) {
    std::int64_t secs = std::max<std::int64_t>(0, d.count() / 1000);
    std::ostringstream o;
    if (secs < 60) {
        o << secs << "s";
    } else if (secs < 3600) {
        o << secs / 60 << "m" << std::setw(2) << std::setfill('0') << secs % 60 << "s";
    } else {
        o << secs / 3600 << "h" << std::setw(2) << std::setfill('0') << (secs % 3600) / 60 << "m";
    }
    return o.str();
}

std::string format_window(migrate::duration d) {
    if (d.count() >= 60000)
        return format_duration(d);
    std::ostringstream o;
    o << std::fixed << std::setprecision(1) << static_cast<double>(std::max<std::int64_t>(0, d.count())) / 1000.0
      << "s";
    return o.str();
}

std::string format_count(std::int64_t n) {
    if (n < 0)
        return "-" + format_count(-n);
    if (n < 100000)
        return std::to_string(n);
    std::ostringstream o;
    o << std::fixed << std::setprecision(1);
    if (n < 999950)
        o << static_cast<double>(n) / 1e3 << "k";
    else
        o << static_cast<double>(n) / 1e6 << "M";
    return o.str();
}

namespace {

std::string cell(std::string text, std::size_t w, bool right = false) {
    if (text.size() >= w)
        return text.substr(0, w);
    const std::string pad(w - text.size(), ' ');
    return right ? pad + text : text + pad;
}

std::string phase_text(const table_view& t) {
    if (!t.current)
        return "queued";
    return migrate::to_string(*t.current);
}

std::string backlog_text(const table_view& t) {
    if (t.current && migrate::is_terminal(*t.current))
        return "-";
    if (t.current == migrate::phase::drain && t.partitions > 0)
        return std::to_string(std::max(0, t.drained)) + "/" + std::to_string(t.partitions) + " drained";
    if (t.backlog < 0)
        return "-";
    return format_count(t.backlog) + (t.backlog_complete ? "" : "?");
}

std::string rate_text(const table_view& t) {
    if (!t.current || *t.current > migrate::phase::wait_backlog)
        return "-";
    if (t.shipping_rate)
        return format_count(static_cast<std::int64_t>(std::llround(*t.shipping_rate))) + "/s";
    // 2.4/2.5 report counts only: show how fast the backlog itself shrinks (negative: grows).
    if (t.net_drain_rate)
        return format_count(static_cast<std::int64_t>(std::llround(*t.net_drain_rate))) + "/s net";
    return "-";
}

bool running(const table_view& t) { return t.current && !migrate::is_terminal(*t.current); }

} // namespace

std::vector<std::string> render_view(const std::vector<table_view>& tables, time_point run_started,
                                     time_point now, const view_settings& s, std::size_t width) {
    std::size_t name_w = 5;
    for (const auto& t : tables)
        name_w = std::max(name_w, t.table.size());
    name_w = std::min<std::size_t>(name_w, 28) + 2;
    constexpr std::size_t phase_w = 16, backlog_w = 14, rate_w = 11, eta_w = 9, elapsed_w = 9, deny_w = 9;

    std::vector<std::string> lines;
    lines.push_back(cell("table", name_w) + cell("phase", phase_w) + cell("backlog", backlog_w, true) +
                    cell("shipping", rate_w, true) + cell("ETA", eta_w, true) + cell("elapsed", elapsed_w, true) +
                    cell("deny", deny_w, true));
    std::int64_t total_backlog = 0;
    double total_rate = 0;
    int done = 0, failed = 0, aborted = 0, active = 0, queued = 0;
    std::optional<migrate::duration> longest_deny;
    for (const auto& t : tables) {
        const auto eta = running(t) ? eta_to_next_phase(t, now, s) : std::nullopt;
        const auto el = t.elapsed(now);
        const auto deny = t.deny_so_far(now);
        lines.push_back(cell(t.table, name_w) + cell(phase_text(t), phase_w) + cell(backlog_text(t), backlog_w, true) +
                        cell(rate_text(t), rate_w, true) + cell(eta ? "~" + format_duration(*eta) : "-", eta_w, true) +
                        cell(el ? format_duration(*el) : "-", elapsed_w, true) +
                        cell(deny ? format_window(*deny) : "-", deny_w, true));
        if (!t.current)
            ++queued;
        else if (*t.current == migrate::phase::done)
            ++done;
        else if (*t.current == migrate::phase::failed)
            ++failed;
        else if (*t.current == migrate::phase::aborted)
            ++aborted;
        else
            ++active;
        if (running(t) && t.backlog > 0 && t.current <= migrate::phase::wait_backlog)
            total_backlog += t.backlog;
        if (running(t) && t.shipping_rate && t.current <= migrate::phase::wait_backlog)
            total_rate += *t.shipping_rate;
        if (deny && (!longest_deny || *deny > *longest_deny))
            longest_deny = deny;
    }
    std::ostringstream f;
    f << tables.size() << (tables.size() == 1 ? " table: " : " tables: ") << done << " done";
    if (failed)
        f << ", " << failed << " failed";
    if (aborted)
        f << ", " << aborted << " aborted";
    f << ", " << active << " running";
    if (queued)
        f << ", " << queued << " queued";
    f << " | backlog " << format_count(total_backlog);
    if (total_rate > 0)
        f << " | shipping " << format_count(static_cast<std::int64_t>(std::llround(total_rate))) << "/s";
    f << " | elapsed " << format_duration(std::chrono::duration_cast<migrate::duration>(now - run_started));
    if (longest_deny)
        f << " | longest deny " << format_window(*longest_deny);
    lines.push_back(f.str());
    for (auto& l : lines) {
        if (l.size() > width)
            l.resize(width);
        while (!l.empty() && l.back() == ' ')
            l.pop_back();
    }
    return lines;
}

// ---- console_observer --------------------------------------------------------------------------

console_observer::console_observer(std::ostream& out, bool json)
    : console_observer(out, json ? output_mode::json : output_mode::plain) {}

console_observer::console_observer(std::ostream& out, output_mode mode)
    : out_(out), mode_(mode), run_started_(std::chrono::steady_clock::now()) {}

console_observer::~console_observer() = default;

void console_observer::start_live(boost::asio::any_io_executor ex, view_settings s) {
    if (mode_ != output_mode::live || live_running_)
        return;
    settings_ = s;
    timer_ = std::make_unique<boost::asio::steady_timer>(ex);
    live_running_ = true;
    schedule_redraw();
}

void console_observer::finish() {
    if (!live_running_)
        return;
    live_running_ = false;
    if (timer_)
        timer_->cancel();
    redraw(); // the final state stays on screen above the summary
    drawn_lines_ = 0;
}

void console_observer::schedule_redraw() {
    // Events only update the model; the screen follows on this timer, so a burst of events costs
    // one redraw and the terminal sees at most four frames a second.
    timer_->expires_after(std::chrono::milliseconds(250));
    timer_->async_wait([this](const boost::system::error_code& ec) {
        if (ec || !live_running_)
            return;
        redraw();
        schedule_redraw();
    });
}

void console_observer::redraw() {
    std::size_t width = 120, height = 40;
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        width = ws.ws_col - 1; // never the last column: some terminals wrap there
        height = ws.ws_row;
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::string> lines;
    if (!views_.empty())
        lines = render_view(views_, run_started_, now, settings_, width);
    else if (live_running_) // before the preflight has named the tables
        lines.push_back("preflight: checking both clusters and every table... " +
                        format_duration(std::chrono::duration_cast<migrate::duration>(now - run_started_)));
    // A view taller than the screen cannot be redrawn in place: keep the header, as many rows as
    // fit, one line naming what is hidden, and the footer.
    const std::size_t max_lines = std::max<std::size_t>(height > 2 ? height - 2 : 4, 4);
    if (lines.size() > max_lines) {
        const std::size_t shown = max_lines - 3;
        const std::size_t hidden = lines.size() - 2 - shown;
        std::vector<std::string> cut(lines.begin(), lines.begin() + 1 + static_cast<std::ptrdiff_t>(shown));
        std::string more = "... " + std::to_string(hidden) + " more tables (the footer counts them all)";
        if (more.size() > width)
            more.resize(width);
        cut.push_back(more);
        cut.push_back(lines.back());
        lines = std::move(cut);
    }
    std::string frame;
    if (drawn_lines_ > 0)
        frame += "\x1b[" + std::to_string(drawn_lines_) + "F"; // to the start of the view
    for (const auto& l : lines)
        frame += l + "\x1b[K\n";
    frame += "\x1b[J"; // the view may have shrunk
    out_ << frame << std::flush;
    drawn_lines_ = lines.size();
}

void console_observer::print_above(const std::string& text) {
    if (drawn_lines_ > 0) {
        out_ << "\x1b[" << drawn_lines_ << "F\x1b[J";
        drawn_lines_ = 0;
    }
    out_ << text;
    if (!text.empty() && text.back() != '\n')
        out_ << '\n';
    if (live_running_)
        redraw();
    else
        out_.flush();
}

void console_observer::notice(const std::string& text) {
    if (mode_ == output_mode::live)
        print_above(text);
    else
        std::cerr << text << std::endl;
}

table_view& console_observer::view(const std::string& table) {
    for (auto& v : views_)
        if (v.table == table)
            return v;
    views_.push_back(table_view{});
    views_.back().table = table;
    return views_.back();
}

void console_observer::on_preflight(const migrate::preflight_report& r) {
    if (mode_ == output_mode::json) {
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
    std::ostringstream s;
    s << wall_clock() << " preflight: source '" << r.source_cluster << "' (" << r.generation << "), target '"
      << r.target_cluster << "', config-sync period " << seconds(r.config_sync_period)
      << (r.ok() ? ": ok" : ": FAILED, nothing was changed") << "\n";
    for (const auto& f : r.failures)
        s << "  error: " << f << "\n";
    for (const auto& w : r.warnings)
        s << "  warning: " << w << "\n";
    for (const auto& t : r.tables) {
        if (r.ok())
            s << "  table " << t.table << ": app_id " << t.app_id << ", " << t.partition_count << " partitions"
              << (t.already_switched ? ", already switched" : "") << (t.rerun ? ", resumes its duplication" : "")
              << "\n";
        for (const auto& f : t.failures)
            s << "  error: table " << t.table << ": " << f << "\n";
        for (const auto& w : t.warnings)
            s << "  warning: table " << t.table << ": " << w << "\n";
    }
    settings_.config_sync_period = r.config_sync_period;
    if (mode_ == output_mode::live) {
        for (const auto& t : r.tables)
            if (!t.already_switched)
                view(t.table);
        print_above(s.str());
    } else {
        out_ << s.str() << std::flush;
    }
}

void console_observer::on_table_start(const std::string& table) {
    if (mode_ == output_mode::live)
        view(table).start(std::chrono::steady_clock::now());
}

void console_observer::on_phase(const std::string& table, migrate::phase from, migrate::phase to,
                                const migrate::table_state& state) {
    if (mode_ == output_mode::json) {
        boost::json::object o{{"event", "phase"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"from", migrate::to_string(from)}, {"to", migrate::to_string(to)}};
        if (state.backlog_at_freeze >= 0)
            o["backlog_at_freeze"] = state.backlog_at_freeze;
        if (!state.failure.empty())
            o["reason"] = state.failure;
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    std::ostringstream s;
    s << wall_clock() << " " << table << ": " << migrate::to_string(from) << " -> " << migrate::to_string(to);
    if (to == migrate::phase::freeze)
        s << (state.backlog_at_freeze >= 0 ? " (backlog " + std::to_string(state.backlog_at_freeze) + ")"
                                           : std::string(" (resumed: writes were already denied by an earlier run)"));
    if (!state.failure.empty() && migrate::is_terminal(to))
        s << ": " << state.failure;
    if (mode_ == output_mode::live) {
        view(table).on_phase(to, state, std::chrono::steady_clock::now());
        // The view shows the current phase; the scrollback keeps the moments that matter.
        if (to == migrate::phase::freeze || to == migrate::phase::restore || migrate::is_terminal(to))
            print_above(s.str());
        return;
    }
    out_ << s.str() << std::endl;
}

void console_observer::on_backlog(const std::string& table, const migrate::ev_backlog& b) {
    if (mode_ == output_mode::json) {
        boost::json::object o{{"event", "backlog"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"backlog", b.backlog}, {"complete", b.complete}};
        if (b.rate_per_s)
            o["rate_per_s"] = *b.rate_per_s;
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (mode_ == output_mode::live) {
        view(table).on_backlog(b, now);
        return;
    }
    // Plain lines at a modest rate: at most one backlog line per table every 10 s.
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
    if (mode_ == output_mode::json) {
        boost::json::object o{{"event", "drain"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"partitions", d.partitions}, {"drained", d.drained},
                              {"topology_changed", d.topology_changed}};
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    if (mode_ == output_mode::live)
        view(table).on_drain(d);
}

void console_observer::on_error(const std::string& table, migrate::phase p, const error_code& ec,
                                const std::string& message) {
    if (mode_ == output_mode::json) {
        boost::json::object o{{"event", "error"}, {"ts_ms", unix_ms()}, {"table", table},
                              {"phase", migrate::to_string(p)}, {"error", error_text(ec)},
                              {"message", message}};
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    std::ostringstream s;
    s << wall_clock() << " " << table << ": error in " << migrate::to_string(p) << ": " << message;
    if (mode_ == output_mode::live)
        print_above(s.str());
    else
        out_ << s.str() << std::endl;
}

void console_observer::on_table_done(const migrate::table_report& r) {
    if (mode_ == output_mode::json) {
        boost::json::object o{{"event", "table_done"}, {"ts_ms", unix_ms()}, {"table", r.table},
                              {"outcome", migrate::to_string(r.outcome)}};
        if (!r.failure.empty())
            o["reason"] = r.failure;
        out_ << boost::json::serialize(o) << std::endl;
        return;
    }
    if (mode_ == output_mode::live)
        view(r.table).on_done(r, std::chrono::steady_clock::now());
}

void console_observer::on_note(const std::string& text) {
    if (mode_ == output_mode::json)
        out_ << boost::json::serialize(boost::json::object{{"event", "note"}, {"text", text}}) << std::endl;
    else if (mode_ == output_mode::live)
        print_above(text);
    else
        out_ << text << std::endl;
}

void console_observer::print_report(const migrate::run_report& r) {
    finish();
    if (mode_ == output_mode::json) {
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
        std::size_t name_w = 5;
        for (const auto& t : r.tables)
            name_w = std::max(name_w, t.table.size());
        name_w += 2;
        out_ << "\n"
             << std::left << std::setw(static_cast<int>(name_w)) << "table" << std::setw(9) << "outcome"
             << std::setw(10) << "dup+log" << std::setw(10) << "backlog" << std::setw(10) << "freeze@"
             << std::setw(10) << "drain" << std::setw(12) << "deny window" << "switch\n";
        for (const auto& t : r.tables) {
            std::map<migrate::phase, migrate::duration> d;
            for (const auto& p : t.phases)
                d[p.p] += std::chrono::duration_cast<migrate::duration>(p.end - p.start);
            out_ << std::left << std::setw(static_cast<int>(name_w)) << t.table << std::setw(9)
                 << migrate::to_string(t.outcome)
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
