// What the operator sees: a live view redrawn in place on a terminal, timestamped progress lines
// without one, or one JSON object per event with --json; then the preflight result and the final
// summary table with what is left to do. The live view's arithmetic and row rendering are pure.
#pragma once

#include <tablemigrator/migrate/engine.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::cli {

enum class output_mode {
    plain, // timestamped lines at a modest rate (pipes, CI, log collectors)
    live,  // a view redrawn in place with ANSI escapes (a terminal)
    json,  // one JSON object per event on stdout (docs/cli.md)
};

// Where log lines go while the live view is on and --log-file is not given (the working directory).
inline constexpr const char* default_live_log_file = "table-migrator.log";

// ---- the live view's model and rendering (pure; now is always passed in) ---------------------

using time_point = migrate::time_point;

// What the view knows about one table, fed by the observer's events.
struct table_view {
    std::string table;
    std::optional<migrate::phase> current;     // nullopt: not started yet (--parallel queue)
    std::optional<time_point> started;
    time_point phase_started{};
    std::int64_t backlog = -1;                 // -1: not measured yet
    bool backlog_complete = true;
    std::optional<double> shipping_rate;       // decrees/s acknowledged by the target
    std::optional<double> net_drain_rate;      // backlog decrease per second (smoothed; < 0 grows)
    std::optional<time_point> last_backlog_at;
    int drained = -1;                          // drain phase: partitions confirmed
    int partitions = 0;
    std::optional<time_point> freeze_in_force_at; // wait_frozen: when the engine counts the freeze
    std::optional<time_point> deny_start;      // write-deny window (from the deny request)
    std::optional<time_point> deny_end;        // switch, restore or end of the table
    std::optional<migrate::duration> final_deny; // from the report, when the table is done
    std::optional<time_point> finished;
    std::string failure;

    void start(time_point now);
    void on_phase(migrate::phase to, const migrate::table_state& s, time_point now);
    void on_backlog(const migrate::ev_backlog& b, time_point now);
    void on_drain(const migrate::ev_drain& d);
    void on_done(const migrate::table_report& r, time_point now);

    std::optional<migrate::duration> deny_so_far(time_point now) const;
    std::optional<migrate::duration> elapsed(time_point now) const;
};

// What the ETA needs from the run: the freeze threshold and the source's config-sync period.
struct view_settings {
    std::int64_t threshold = 10000;
    migrate::duration config_sync_period{30000};
};

// Time until the table is expected to leave its current phase: in wait_backlog the backlog above
// the threshold over the net drain rate (nullopt while it is unknown or the backlog grows); in
// wait_frozen the rest of one config-sync period plus the engine's margin; 0 when the backlog is
// already under the threshold; nullopt where no honest estimate exists (checkpoint copy, drain).
std::optional<migrate::duration> eta_to_next_phase(const table_view& t, time_point now, const view_settings& s);

// "0s", "42s", "3m05s", "2h03m".
std::string format_duration(migrate::duration d);
// Sub-minute windows with one decimal ("1.4s"), longer ones as format_duration.
std::string format_window(migrate::duration d);
// Exact below 100000, then "123.4k", "12.3M".
std::string format_count(std::int64_t n);

// The view: a header, one row per table, a footer with totals. Every line is cut to `width`
// columns so the terminal never wraps (wrapping would break the in-place redraw).
std::vector<std::string> render_view(const std::vector<table_view>& tables, time_point run_started,
                                     time_point now, const view_settings& s, std::size_t width);

// ---- the observer -------------------------------------------------------------------------------

class console_observer final : public migrate::run_observer {
public:
    console_observer(std::ostream& out, bool json);
    console_observer(std::ostream& out, output_mode mode);
    ~console_observer() override;

    // Live mode only: redraw at most four times a second on a timer of this executor until
    // finish() (print_report calls it).
    void start_live(boost::asio::any_io_executor ex, view_settings s);
    // Stops the redraw timer and leaves the last view on screen. Idempotent.
    void finish();
    // A line for the operator outside the event stream (e.g. "interrupted"): above the live view,
    // else on stderr.
    void notice(const std::string& text);

    void on_preflight(const migrate::preflight_report& r) override;
    void on_table_start(const std::string& table) override;
    void on_phase(const std::string& table, migrate::phase from, migrate::phase to,
                  const migrate::table_state& state) override;
    void on_backlog(const std::string& table, const migrate::ev_backlog& b) override;
    void on_drain(const std::string& table, const migrate::ev_drain& d) override;
    void on_error(const std::string& table, migrate::phase p, const error_code& ec,
                  const std::string& message) override;
    void on_table_done(const migrate::table_report& r) override;
    void on_note(const std::string& text) override;

    // The final report: a summary table (text) or one "report" JSON object.
    void print_report(const migrate::run_report& r);

private:
    table_view& view(const std::string& table);
    void print_above(const std::string& lines); // live: erase the view, print, redraw
    void redraw();
    void schedule_redraw();

    std::ostream& out_;
    output_mode mode_;
    std::map<std::string, std::chrono::steady_clock::time_point> last_backlog_line_;
    // Live view state.
    std::vector<table_view> views_;
    view_settings settings_;
    time_point run_started_;
    std::size_t drawn_lines_ = 0;
    std::unique_ptr<boost::asio::steady_timer> timer_;
    bool live_running_ = false;
};

} // namespace tablemigrator::cli
