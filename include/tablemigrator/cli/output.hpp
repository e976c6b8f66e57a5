// What the operator sees: timestamped progress lines (or one JSON object per event with --json),
// the preflight result, and the final summary table with what is left to do.
#pragma once

#include <tablemigrator/migrate/engine.hpp>

#include <iosfwd>

namespace tablemigrator::cli {

class console_observer final : public migrate::run_observer {
public:
    console_observer(std::ostream& out, bool json);

    void on_preflight(const migrate::preflight_report& r) override;
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
    std::ostream& out_;
    bool json_;
    std::map<std::string, std::chrono::steady_clock::time_point> last_backlog_line_;
};

} // namespace tablemigrator::cli
