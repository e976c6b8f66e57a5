// A discrete-event timer queue with an injectable clock: the model schedules its periodic work here
// and a driver (the Asio server, or a test advancing virtual time) runs whatever is due.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace tablemigrator::sim {

// Time since the simulation started. Microseconds: mutation timestamps are in microseconds.
using sim_time = std::chrono::microseconds;

class event_queue {
public:
    using event_id = std::uint64_t;

    explicit event_queue(std::int64_t unix_epoch_us = 0)
        : unix_base_us_(unix_epoch_us) {}

    sim_time now() const noexcept { return now_; }
    // Wall-clock microseconds matching now() (for dupids, create_ts, timetags, timestamps).
    std::int64_t unix_us() const noexcept { return unix_base_us_ + now_.count(); }

    event_id schedule_at(sim_time at, std::function<void()> fn) {
        if (at < now_)
            at = now_;
        auto id = ++next_id_;
        events_.emplace(std::make_pair(at, id), std::move(fn));
        return id;
    }
    event_id schedule_after(sim_time delay, std::function<void()> fn) {
        return schedule_at(now_ + delay, std::move(fn));
    }
    // Cancelling an unknown or already run event is a no-op.
    void cancel(event_id id) {
        for (auto it = events_.begin(); it != events_.end(); ++it)
            if (it->first.second == id) {
                events_.erase(it);
                return;
            }
    }

    std::optional<sim_time> next_due() const {
        if (events_.empty())
            return std::nullopt;
        return events_.begin()->first.first;
    }

    // Runs every event due at or before t in time order (now() is the event's time while it runs,
    // so periodic work stays on its exact grid), then sets now() to t. Time never goes backwards.
    void advance_to(sim_time t) {
        while (!events_.empty() && events_.begin()->first.first <= t) {
            auto node = events_.extract(events_.begin());
            if (node.key().first > now_)
                now_ = node.key().first;
            node.mapped()();
        }
        if (t > now_)
            now_ = t;
    }

    std::size_t size() const noexcept { return events_.size(); }

private:
    std::int64_t unix_base_us_;
    sim_time now_{0};
    event_id next_id_ = 0;
    std::map<std::pair<sim_time, event_id>, std::function<void()>> events_;
};

} // namespace tablemigrator::sim
