// routed_table: the shared route of a table and the retry/re-resolve loop.
#include "load/routed_table.hpp"

#include "load/reaction.hpp"

#include <tablemigrator/async/with_timeout.hpp>
#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tablemigrator::load {

namespace asio = boost::asio;

namespace {

// Sleeps for `d` but never past `end`.
asio::awaitable<void> sleep_bounded(routed_table::clock::duration d, routed_table::time_point end) {
    auto ex = co_await asio::this_coro::executor;
    const auto now = routed_table::clock::now();
    const auto until = std::min(now + d, end);
    if (until <= now)
        co_return;
    asio::steady_timer timer(ex, until);
    auto wait = timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(wait);
}

std::string describe(const table_route& r) {
    return (r.cluster.empty() ? std::string() : "cluster " + r.cluster + " ") + "metas " +
           r.meta_addrs + " app_id " + std::to_string(r.app_id) + " partitions " +
           std::to_string(r.partition_count);
}

} // namespace

routed_table::routed_table(table_resolver& resolver, std::string table, retry_options options)
    : resolver_(resolver)
    , table_(std::move(table))
    , options_(options) {}

asio::awaitable<status> routed_table::do_refresh(time_point end) {
    refreshing_ = true;
    const auto limit = std::min(end, clock::now() + options_.resolve_timeout);
    auto op = async::with_deadline(resolver_.resolve(table_), limit);
    auto r = co_await std::move(op);
    refreshing_ = false;
    last_refresh_ = clock::now();
    if (!r) {
        ++stats_.refresh_failures;
        spdlog::warn("pegasus-load: table {}: re-resolve failed: {}", table_, r.error().message());
        co_return r.error();
    }
    ++stats_.refreshes;
    if (!route_ || !(*route_ == *r)) {
        if (route_) {
            ++stats_.route_changes;
            spdlog::info("pegasus-load: table {}: route changed to {} (was {})", table_,
                         describe(*r), describe(*route_));
        } else {
            spdlog::info("pegasus-load: table {}: route {}", table_, describe(*r));
        }
        route_ = std::make_shared<const table_route>(std::move(*r));
        ++generation_;
    }
    co_return status();
}

asio::awaitable<status> routed_table::refresh_now() {
    while (refreshing_) {
        auto op = sleep_bounded(std::chrono::milliseconds(5), time_point::max());
        co_await std::move(op);
    }
    auto op = do_refresh(time_point::max());
    co_return co_await std::move(op);
}

asio::awaitable<void> routed_table::refresh_from(std::uint64_t seen, time_point end) {
    if (generation_ != seen)
        co_return; // someone else already adopted a newer route: just retry on it
    if (refreshing_) {
        // Wait for the refresh in flight (bounded by its own resolve timeout and by `end`).
        while (refreshing_ && clock::now() < end) {
            auto op = sleep_bounded(std::chrono::milliseconds(5), end);
            co_await std::move(op);
        }
        co_return;
    }
    if (route_ && clock::now() - last_refresh_ < options_.min_refresh_interval)
        co_return;
    auto op = do_refresh(end);
    co_await std::move(op);
}

asio::awaitable<status> routed_table::call(attempt_fn attempt, time_point deadline,
                                           failure_fn on_failure) {
    error_code last = make_error_code(client_errc::timeout);
    int failures = 0;
    for (;;) {
        const auto end = std::min(deadline, hard_deadline_);
        const auto now = clock::now();
        if (now >= end)
            co_return last;
        if (!route_) {
            const auto seen = generation_;
            auto op = refresh_from(seen, end);
            co_await std::move(op);
            if (!route_) {
                auto wait = sleep_bounded(options_.backoff_max, end);
                co_await std::move(wait);
            }
            continue;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now);
        const auto timeout = std::min(options_.attempt_timeout, left);
        if (timeout.count() <= 0)
            co_return last;
        auto route = route_;
        const auto seen = generation_;
        auto op = attempt(route, timeout);
        auto r = co_await std::move(op);
        if (r)
            co_return status();
        last = r.error();
        ++stats_.errors[error_label(last)];
        if (on_failure)
            on_failure(now, last);
        const auto what = classify(last);
        if (what == reaction::give_up)
            co_return last;
        if (what == reaction::refresh_and_retry) {
            auto refresh = refresh_from(seen, end);
            co_await std::move(refresh);
            if (generation_ != seen)
                continue; // a new route: resend at once
        }
        const auto backoff = std::min<std::chrono::milliseconds>(
            options_.backoff_max, options_.backoff_initial * (1 << std::min(failures, 16)));
        ++failures;
        auto wait = sleep_bounded(backoff, end);
        co_await std::move(wait);
    }
}

} // namespace tablemigrator::load
