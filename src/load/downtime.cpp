// downtime_tracker: see downtime.hpp.
#include "load/downtime.hpp"

#include <algorithm>

namespace tablemigrator::load {

void downtime_tracker::on_failure(time_point attempt_start) {
    if (open_)
        return;
    open_ = last_success_ ? std::max(*last_success_, attempt_start) : attempt_start;
    ++outages_;
}

void downtime_tracker::on_success(time_point at) {
    if (open_)
        close(at, false);
    if (!last_success_ || at > *last_success_)
        last_success_ = at;
}

void downtime_tracker::finish(time_point at) {
    if (open_)
        close(at, true);
}

void downtime_tracker::close(time_point at, bool unrecovered) {
    auto d = at > *open_ ? at - *open_ : duration{0};
    if (d > longest_ || (d == longest_ && unrecovered)) {
        longest_ = d;
        longest_unrecovered_ = unrecovered;
    }
    open_.reset();
}

} // namespace tablemigrator::load
