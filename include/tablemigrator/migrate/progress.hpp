// Generation-neutral progress arithmetic for one table: the backlog before the freeze and the
// per-partition drain check after it. The engine adapts each server generation's signal
// (partition_states, /replica/duplication, replica.query-progress, decree RPCs) into these
// samples; the arithmetic and its edge cases live here, without I/O.
#pragma once

#include <tablemigrator/migrate/policy.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::migrate {

// One partition's duplication progress: decrees committed on the source primary and decrees
// shipped to and acknowledged by the target.
struct partition_progress {
    std::int32_t pidx = 0;
    std::int64_t last_committed = -1;
    std::int64_t acknowledged = -1;   // -1 = unknown
};

// Sum of max(0, committed - acknowledged) over the table's partitions; complete only when every
// partition index in [0, partition_count) is reported exactly once with known values.
ev_backlog table_backlog(const std::vector<partition_progress>& parts, std::int32_t partition_count,
                         dup_status status);

// Shipping rate from successive totals of acknowledged decrees (exponentially smoothed). A
// decreasing total (a primary change restarts from an older decree) resets the estimate.
class rate_estimator {
public:
    explicit rate_estimator(double smoothing = 0.5) : smoothing_(smoothing) {}
    void add(time_point at, std::int64_t acknowledged_total);
    std::optional<double> per_second() const { return rate_; }

private:
    double smoothing_;
    std::optional<time_point> last_at_;
    std::int64_t last_total_ = 0;
    std::optional<double> rate_;
};

// A drain sample: who is primary, the decree the partition must reach (read after the freeze is
// in force: max_prepared_decree on master, last committed decree on 2.4/2.5), and how far the
// primary's duplicator has shipped and had acknowledged.
struct drain_sample {
    std::int32_t pidx = 0;
    std::string primary;                 // address of the primary that answered
    std::int64_t freeze_decree = -1;     // -1 = unknown this poll
    std::int64_t acknowledged = -1;      // -1 = unknown this poll
};

// Tracks F_p per partition across polls. Every poll of the drain phase happens after the freeze
// is in force, so a partition's F_p is read from the first sample that has one (a late capture is
// only more conservative). A primary that differs from the captured one is a topology change: the
// new primary restarts shipping from the meta-persisted decree, so its F_p is read again and the
// observation says so (the policy then needs fresh consecutive confirmations).
class drain_tracker {
public:
    // reset = forget every F_p first (the policy asks for it after a topology change).
    ev_drain update(const std::vector<drain_sample>& samples, std::int32_t partition_count, bool reset);
    std::optional<std::int64_t> freeze_decree(std::int32_t pidx) const;

private:
    struct frozen {
        std::string primary;
        std::int64_t decree = -1;
    };
    std::map<std::int32_t, frozen> freeze_;
};

} // namespace tablemigrator::migrate
