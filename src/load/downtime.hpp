// Write downtime of one table: the longest interval during which no write could be completed,
// measured from the first failed (or then still pending) attempt after the last success to the
// next success. Pure bookkeeping over time points the caller supplies.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace tablemigrator::load {

class downtime_tracker {
public:
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;

    // An attempt that started at `attempt_start` failed. Opens an outage unless one is open; the
    // outage starts at the attempt's start but never before the last success (a write that was
    // pending across a success of another write did not stop that one from completing).
    void on_failure(time_point attempt_start);
    // A write completed at `at`: closes the open outage, if any.
    void on_success(time_point at);
    // End of the run: an open outage is closed at `at` and marked unrecovered.
    void finish(time_point at);

    duration longest() const noexcept { return longest_; }
    bool longest_unrecovered() const noexcept { return longest_unrecovered_; }
    std::int64_t outages() const noexcept { return outages_; }
    bool in_outage() const noexcept { return open_.has_value(); }

private:
    void close(time_point at, bool unrecovered);

    std::optional<time_point> last_success_;
    std::optional<time_point> open_;
    duration longest_{0};
    bool longest_unrecovered_ = false;
    std::int64_t outages_ = 0;
};

} // namespace tablemigrator::load
