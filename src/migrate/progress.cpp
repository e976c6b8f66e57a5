// Progress arithmetic (see progress.hpp).
#include <tablemigrator/migrate/progress.hpp>

#include <set>

namespace tablemigrator::migrate {

ev_backlog table_backlog(const std::vector<partition_progress>& parts, std::int32_t partition_count,
                         dup_status status) {
    ev_backlog out;
    out.status = status;
    std::set<std::int32_t> seen;
    bool complete = partition_count > 0;
    for (const auto& p : parts) {
        if (p.pidx < 0 || p.pidx >= partition_count || !seen.insert(p.pidx).second) {
            complete = false; // a stray or duplicated report: the view is inconsistent
            continue;
        }
        if (p.last_committed < 0 || p.acknowledged < 0) {
            complete = false;
            continue;
        }
        if (p.last_committed > p.acknowledged)
            out.backlog += p.last_committed - p.acknowledged;
    }
    out.complete = complete && static_cast<std::int32_t>(seen.size()) == partition_count;
    return out;
}

void rate_estimator::add(time_point at, std::int64_t acknowledged_total) {
    if (last_at_ && at > *last_at_) {
        if (acknowledged_total < last_total_) {
            rate_.reset();
        } else {
            const double secs = std::chrono::duration<double>(at - *last_at_).count();
            const double sample = static_cast<double>(acknowledged_total - last_total_) / secs;
            rate_ = rate_ ? smoothing_ * sample + (1.0 - smoothing_) * *rate_ : sample;
        }
    }
    if (!last_at_ || at > *last_at_) {
        last_at_ = at;
        last_total_ = acknowledged_total;
    }
}

ev_drain drain_tracker::update(const std::vector<drain_sample>& samples,
                               std::int32_t partition_count, bool reset) {
    if (reset)
        freeze_.clear();
    ev_drain out;
    out.partitions = partition_count;
    std::set<std::int32_t> drained;
    for (const auto& s : samples) {
        if (s.pidx < 0 || s.pidx >= partition_count || s.primary.empty())
            continue;
        auto it = freeze_.find(s.pidx);
        if (it != freeze_.end() && s.primary != it->second.primary) {
            out.topology_changed = true;
            freeze_.erase(it);
            it = freeze_.end();
        }
        if (it == freeze_.end()) {
            if (s.freeze_decree < 0)
                continue; // no F_p yet: cannot count as drained
            it = freeze_.emplace(s.pidx, frozen{s.primary, s.freeze_decree}).first;
        }
        if (s.acknowledged >= 0 && s.acknowledged >= it->second.decree)
            drained.insert(s.pidx);
    }
    out.drained = static_cast<int>(drained.size());
    return out;
}

std::optional<std::int64_t> drain_tracker::freeze_decree(std::int32_t pidx) const {
    const auto it = freeze_.find(pidx);
    if (it == freeze_.end())
        return std::nullopt;
    return it->second.decree;
}

} // namespace tablemigrator::migrate
