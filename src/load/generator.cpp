// load_generator: rate-driven writers per table, bounded in-flight writes, read-back, record.
#include "load/generator.hpp"

#include "load/data_ops.hpp"
#include "load/reaction.hpp"

#include <tablemigrator/async/spawn.hpp>
#include <tablemigrator/async/task_group.hpp>
#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace tablemigrator::load {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

struct load_generator::table_writer {
    table_writer(asio::any_io_executor ex, table_resolver& resolver, std::string table,
                 retry_options retry)
        : name(table)
        , routed(resolver, std::move(table), retry)
        , wake(ex) {}

    std::string name;
    routed_table routed;
    downtime_tracker downtime;
    asio::steady_timer wake; // the driver sleeps on it; writers cancel it when they finish
    std::int64_t next_seq = 1;
    std::size_t in_flight = 0;
    table_stats counters;
    std::vector<acked_write> acks;
};

std::string load_hash_key(const std::string& table, std::int64_t seq) {
    return table + "-" + std::to_string(seq);
}

load_generator::load_generator(asio::any_io_executor ex, rpc::session_pool& pool,
                               table_resolver& resolver, load_options options)
    : ex_(std::move(ex))
    , pool_(pool)
    , resolver_(resolver)
    , options_(std::move(options))
    , progress_timer_(ex_) {
    for (const auto& t : options_.tables)
        writers_.push_back(std::make_unique<table_writer>(ex_, resolver_, t, options_.retry));
}

load_generator::~load_generator() = default;

load_generator::table_writer* load_generator::find(const std::string& table) const {
    for (const auto& w : writers_)
        if (w->name == table)
            return w.get();
    return nullptr;
}

void load_generator::request_stop() {
    stopping_ = true;
    progress_timer_.cancel();
    for (auto& w : writers_)
        w->wake.cancel();
}

asio::awaitable<void> load_generator::wait_wake(table_writer* w, clock::time_point until) {
    w->wake.expires_at(until);
    auto op = w->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(op);
}

asio::awaitable<status> load_generator::run() {
    running_ = true;
    for (auto& w : writers_) {
        auto op = w->routed.refresh_now();
        auto st = co_await std::move(op);
        if (!st) {
            failed_table_ = w->name;
            running_ = false;
            co_return st;
        }
    }
    if (options_.duration.count() > 0)
        stop_at_ = clock::now() + options_.duration;
    async::task_group group(ex_, writers_.size() + 1);
    for (auto& w : writers_)
        group.spawn(w->name, drive(w.get()));
    if (options_.progress_interval.count() > 0)
        group.spawn("progress", report_progress());
    auto join = group.join();
    auto failures = co_await std::move(join);
    running_ = false;
    for (const auto& f : failures)
        spdlog::error("pegasus-load: writer of table {} failed: {}", f.label, f.error.message());
    if (!failures.empty())
        co_return failures.front().error;
    co_return status();
}

asio::awaitable<status> load_generator::report_progress() {
    std::map<std::string, std::int64_t> last_acked;
    auto last_at = clock::now();
    for (;;) {
        const auto next = std::min(clock::now() + options_.progress_interval, stop_at_);
        progress_timer_.expires_at(next);
        auto op = progress_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        co_await std::move(op);
        if (stopping_ || clock::now() >= stop_at_)
            break;
        const auto now = clock::now();
        const double seconds = std::chrono::duration<double>(now - last_at).count();
        last_at = now;
        for (const auto& w : writers_) {
            const auto s = stats(w->name);
            auto& last = last_acked[w->name];
            const double rate =
                seconds > 0 ? static_cast<double>(s.acknowledged - last) / seconds : 0;
            last = s.acknowledged;
            spdlog::info("progress {}: acknowledged {} ({:.0f}/s), failed {}, in flight {}, "
                         "cluster {}, longest downtime {} ms{}",
                         w->name, s.acknowledged, rate, s.failed, s.in_flight,
                         s.cluster.empty() ? "-" : s.cluster, s.write_downtime.count(),
                         w->downtime.in_outage() ? " (writes failing now)" : "");
        }
    }
    co_return status();
}

asio::awaitable<status> load_generator::drive(table_writer* w) {
    const auto interval = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(1.0 / std::max(options_.rate, 1e-6)));
    const std::size_t limit = std::max<std::size_t>(options_.concurrency, 1);
    // Catch up after a stall at most this much, so a saturated writer does not burst afterwards.
    const auto max_backlog = std::max<clock::duration>(interval, std::chrono::milliseconds(100));
    auto next = clock::now();
    for (;;) {
        const auto now = clock::now();
        if (stopping_ || now >= stop_at_)
            break;
        if (w->in_flight >= limit) {
            auto op = wait_wake(w, stop_at_);
            co_await std::move(op);
            continue;
        }
        if (now < next) {
            auto op = wait_wake(w, std::min(next, stop_at_));
            co_await std::move(op);
            continue;
        }
        next = std::max(next + interval, now - max_backlog);
        const auto seq = w->next_seq++;
        ++w->in_flight;
        async::spawn_logged(ex_, write_one(w, seq), "pegasus-load write " + w->name);
    }
    // Shutdown: no new writes; those in flight may retry until stop_grace has passed.
    w->routed.set_hard_deadline(clock::now() + options_.stop_grace);
    while (w->in_flight > 0) {
        auto op = wait_wake(w, clock::time_point::max());
        co_await std::move(op);
    }
    w->downtime.finish(clock::now());
    co_return status();
}

asio::awaitable<void> load_generator::write_one(table_writer* w, std::int64_t seq) {
    ++w->counters.attempted;
    const std::string hash_key = load_hash_key(w->name, seq);
    const std::string value = "v-" + w->name + "-" + std::to_string(seq);
    std::vector<std::pair<std::string, std::string>> kvs;
    if (options_.multi_put > 0) {
        for (int i = 0; i < options_.multi_put; ++i)
            kvs.emplace_back("s" + std::to_string(i), value + "-" + std::to_string(i));
    } else {
        kvs.emplace_back("s", value);
    }
    const bool multi = options_.multi_put > 0;
    std::string acked_cluster;

    routed_table::attempt_fn attempt =
        [&, this](std::shared_ptr<const table_route> route,
                  std::chrono::milliseconds timeout) -> asio::awaitable<status> {
        auto target = route->for_hash_key(hash_key);
        if (!target)
            co_return target.error();
        auto session = pool_.get(target->primary);
        if (multi) {
            auto op = multi_put(session, *target, hash_key, kvs, timeout);
            auto r = co_await std::move(op);
            if (!r)
                co_return r.error();
        } else {
            auto op =
                put(session, *target, hash_key, kvs.front().first, kvs.front().second, timeout);
            auto r = co_await std::move(op);
            if (!r)
                co_return r.error();
        }
        acked_cluster = route->cluster;
        co_return status();
    };
    routed_table::failure_fn on_failure = [w](clock::time_point start, const error_code&) {
        w->downtime.on_failure(start);
    };
    const auto deadline = clock::now() + options_.write_timeout;
    auto call = w->routed.call(std::move(attempt), deadline, std::move(on_failure));
    auto st = co_await std::move(call);
    if (!st) {
        ++w->counters.failed;
        spdlog::debug("pegasus-load: table {}: write {} failed: {}", w->name, hash_key,
                      st.error().message());
    } else {
        w->downtime.on_success(clock::now());
        ++w->counters.acknowledged;
        const auto unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
        for (const auto& [sk, v] : kvs) {
            acked_write a{w->name, unix_ms, acked_cluster, hash_key, sk, v};
            if (options_.on_ack)
                options_.on_ack(a);
            if (options_.keep_acks)
                w->acks.push_back(std::move(a));
        }

        if (options_.read_every > 0 && w->counters.acknowledged % options_.read_every == 0) {
            std::optional<std::string> read_value;
            routed_table::attempt_fn read =
                [&, this](std::shared_ptr<const table_route> route,
                          std::chrono::milliseconds timeout) -> asio::awaitable<status> {
                auto target = route->for_hash_key(hash_key);
                if (!target)
                    co_return target.error();
                auto op =
                    get(pool_.get(target->primary), *target, hash_key, kvs.front().first, timeout);
                auto r = co_await std::move(op);
                if (!r)
                    co_return r.error();
                read_value = std::move(*r);
                co_return status();
            };
            auto read_call = w->routed.call(std::move(read), clock::now() + options_.write_timeout);
            auto rst = co_await std::move(read_call);
            if (!rst) {
                ++w->counters.read_failures;
            } else {
                ++w->counters.reads;
                if (read_value != kvs.front().second) {
                    ++w->counters.read_mismatches;
                    spdlog::warn("pegasus-load: table {}: read back {} {}", w->name, hash_key,
                                 read_value ? "returned another value" : "found nothing");
                }
            }
        }
    }
    --w->in_flight;
    w->wake.cancel();
}

table_stats load_generator::stats(const std::string& table) const {
    const auto* w = find(table);
    if (!w)
        return {};
    table_stats s = w->counters;
    s.in_flight = w->in_flight;
    s.write_downtime = std::chrono::duration_cast<std::chrono::milliseconds>(w->downtime.longest());
    s.downtime_unrecovered = w->downtime.longest_unrecovered();
    s.outages = w->downtime.outages();
    s.routing = w->routed.stats();
    if (auto r = w->routed.route())
        s.cluster = r->cluster;
    return s;
}

load_record load_generator::record() const {
    load_record r;
    for (const auto& w : writers_) {
        const auto s = stats(w->name);
        table_summary t;
        t.table = w->name;
        t.attempted = s.attempted;
        t.acknowledged = s.acknowledged;
        t.failed = s.failed;
        t.write_downtime_ms = s.write_downtime.count();
        t.downtime_unrecovered = s.downtime_unrecovered;
        r.tables.push_back(std::move(t));
        r.acks.insert(r.acks.end(), w->acks.begin(), w->acks.end());
    }
    return r;
}

std::string load_generator::summary_line(const std::string& table) const {
    const auto s = stats(table);
    std::string errors;
    for (const auto& [label, n] : s.routing.errors)
        errors += fmt::format("{}{}={}", errors.empty() ? "" : " ", label, n);
    return fmt::format("load {}: attempted {}, acknowledged {}, failed {}, read back {} "
                       "(mismatched {}, failed {}), "
                       "re-resolved {} (route changes {}), write downtime {} ms{}, errors: {}",
                       table, s.attempted, s.acknowledged, s.failed, s.reads, s.read_mismatches,
                       s.read_failures, s.routing.refreshes, s.routing.route_changes,
                       s.write_downtime.count(), s.downtime_unrecovered ? " (not recovered)" : "",
                       errors.empty() ? "none" : errors);
}

} // namespace tablemigrator::load
