// verify: GET per key through bounded workers, or a resumable full-table scan per partition.
#include "load/verifier.hpp"

#include "load/data_ops.hpp"

#include <tablemigrator/async/task_group.hpp>
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/key.hpp>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

namespace tablemigrator::load {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

enum class key_state { unknown, found, missing, mismatched, unreadable };

struct expected_key {
    const acked_write* ack = nullptr;
    key_state state = key_state::unknown;
};

struct table_job {
    std::string table;
    std::vector<expected_key> keys;
    routed_table routed;
    table_job(table_resolver& r, std::string t, retry_options o)
        : table(t)
        , routed(r, std::move(t), o) {}
};

// One worker of the GET mode: takes the next key until none is left.
asio::awaitable<status> get_worker(table_job* job, rpc::session_pool* pool, std::size_t* next,
                                   verify_options options) {
    while (*next < job->keys.size()) {
        auto& k = job->keys[(*next)++];
        std::optional<std::string> value;
        routed_table::attempt_fn attempt =
            [&](std::shared_ptr<const table_route> route,
                std::chrono::milliseconds timeout) -> asio::awaitable<status> {
            auto target = route->for_hash_key(k.ack->hash_key);
            if (!target)
                co_return target.error();
            auto op =
                get(pool->get(target->primary), *target, k.ack->hash_key, k.ack->sort_key, timeout);
            auto r = co_await std::move(op);
            if (!r)
                co_return r.error();
            value = std::move(*r);
            co_return status();
        };
        auto call = job->routed.call(std::move(attempt), clock::now() + options.key_timeout);
        auto st = co_await std::move(call);
        if (!st) {
            k.state = key_state::unreadable;
            spdlog::warn("pegasus-load: verify {}: cannot read {}: {}", job->table, k.ack->hash_key,
                         st.error().message());
        } else if (!value) {
            k.state = key_state::missing;
        } else if (*value != k.ack->value) {
            k.state = key_state::mismatched;
        } else {
            k.state = key_state::found;
        }
    }
    co_return status();
}

// Scans partition `pidx` from the start, restarting after the last key received whenever the
// scanner context is lost (frame errors, SCAN error 1 or 7). `seen` collects full key -> value.
asio::awaitable<status> scan_partition(table_job* job, rpc::session_pool* pool, std::int32_t pidx,
                                       std::unordered_map<std::string, std::string>* seen,
                                       verify_options options) {
    std::string last_key;
    std::optional<std::int64_t> context;
    bool done = false;
    while (!done) {
        routed_table::attempt_fn attempt =
            [&](std::shared_ptr<const table_route> route,
                std::chrono::milliseconds timeout) -> asio::awaitable<status> {
            auto target = route->for_partition(pidx);
            if (!target)
                co_return target.error();
            auto session = pool->get(target->primary);
            result<scan_batch> b = make_error_code(client_errc::timeout);
            if (context) {
                auto op = scan(session, *target, *context, timeout);
                b = co_await std::move(op);
            } else {
                auto op = get_scanner(session, *target, last_key, last_key.empty(),
                                      options.scan_batch, timeout);
                b = co_await std::move(op);
            }
            if (!b) {
                context.reset(); // the context lives on that server: restart from last_key
                co_return b.error();
            }
            for (auto& [k, v] : b->kvs) {
                last_key = k;
                (*seen)[k] = std::move(v);
            }
            if (b->error != 0) {
                context.reset();
                co_return status();
            }
            // -1 = finished; a GET_SCANNER answering no kvs and context 0 is an empty range.
            if (b->context_id == -1 || (!context && b->kvs.empty() && b->context_id == 0))
                done = true;
            else
                context = b->context_id;
            co_return status();
        };
        auto call = job->routed.call(std::move(attempt), clock::now() + options.key_timeout);
        auto st = co_await std::move(call);
        if (!st) {
            spdlog::warn("pegasus-load: verify {}: scan of partition {} failed: {}", job->table,
                         pidx, st.error().message());
            co_return st;
        }
    }
    co_return status();
}

asio::awaitable<void> verify_by_get(table_job& job, rpc::session_pool& pool,
                                    verify_options options) {
    auto ex = co_await asio::this_coro::executor;
    std::size_t next = 0;
    const auto workers = std::max<std::size_t>(1, std::min(options.concurrency, job.keys.size()));
    async::task_group group(ex, workers);
    for (std::size_t i = 0; i < workers; ++i)
        group.spawn(job.table, get_worker(&job, &pool, &next, options));
    auto join = group.join();
    co_await std::move(join);
}

asio::awaitable<void> verify_by_scan(table_job& job, rpc::session_pool& pool,
                                     verify_options options) {
    auto route = job.routed.route();
    std::unordered_map<std::string, std::string> seen;
    std::set<std::int32_t> failed;
    for (std::int32_t p = 0; p < route->partition_count; ++p) {
        auto op = scan_partition(&job, &pool, p, &seen, options);
        auto st = co_await std::move(op);
        if (!st)
            failed.insert(p);
    }
    for (auto& k : job.keys) {
        auto full = wire::encode_full_key(k.ack->hash_key, k.ack->sort_key);
        auto it = full ? seen.find(std::string(full->begin(), full->end())) : seen.end();
        if (it != seen.end()) {
            k.state = it->second == k.ack->value ? key_state::found : key_state::mismatched;
            continue;
        }
        const auto pidx =
            wire::partition_index(wire::crc64(k.ack->hash_key), route->partition_count);
        k.state = failed.count(pidx) ? key_state::unreadable : key_state::missing;
    }
}

} // namespace

asio::awaitable<std::vector<table_verdict>> verify(table_resolver& resolver,
                                                   rpc::session_pool& pool, load_record record,
                                                   verify_options options) {
    std::vector<std::string> order;
    if (!options.tables.empty()) {
        order = options.tables;
    } else {
        for (const auto& t : record.tables)
            order.push_back(t.table);
        for (const auto& a : record.acks)
            if (std::find(order.begin(), order.end(), a.table) == order.end())
                order.push_back(a.table);
    }
    std::vector<table_verdict> out;
    for (const auto& name : order) {
        table_verdict v;
        v.table = name;
        bool in_record = false;
        for (const auto& t : record.tables)
            if (t.table == name) {
                in_record = true;
                v.write_downtime_ms = t.write_downtime_ms;
                v.downtime_unrecovered = t.downtime_unrecovered;
            }
        table_job job(resolver, name, options.retry);
        for (const auto& a : record.acks)
            if (a.table == name) {
                in_record = true;
                job.keys.push_back(expected_key{&a});
            }
        v.acknowledged = static_cast<std::int64_t>(job.keys.size());
        if (!in_record) {
            v.error = "table not in the record";
            out.push_back(std::move(v));
            continue;
        }
        auto refresh = job.routed.refresh_now();
        auto st = co_await std::move(refresh);
        if (!st) {
            v.error = "cannot resolve: " + st.error().message();
            v.unreadable = v.acknowledged;
            out.push_back(std::move(v));
            continue;
        }
        if (options.scan) {
            auto op = verify_by_scan(job, pool, options);
            co_await std::move(op);
        } else {
            auto op = verify_by_get(job, pool, options);
            co_await std::move(op);
        }
        for (const auto& k : job.keys) {
            switch (k.state) {
            case key_state::found:
                ++v.found;
                break;
            case key_state::mismatched:
                ++v.mismatched;
                ++v.missing;
                break;
            case key_state::missing:
                ++v.missing;
                break;
            case key_state::unreadable:
            case key_state::unknown:
                ++v.unreadable;
                break;
            }
        }
        out.push_back(std::move(v));
    }
    co_return out;
}

std::vector<std::string> verdict_lines(const table_verdict& v) {
    std::vector<std::string> lines;
    lines.push_back(fmt::format("verify {}: acknowledged {}, found {}, missing {}", v.table,
                                v.acknowledged, v.found, v.missing));
    if (v.mismatched > 0)
        lines.push_back(fmt::format("verify {}: {} of the missing keys hold another value", v.table,
                                    v.mismatched));
    if (v.unreadable > 0)
        lines.push_back(fmt::format("verify {}: {} keys could not be read", v.table, v.unreadable));
    if (!v.error.empty())
        lines.push_back(fmt::format("verify {}: error: {}", v.table, v.error));
    lines.push_back(
        fmt::format("write downtime {}: {} ms{}", v.table, v.write_downtime_ms,
                    v.downtime_unrecovered ? " (not recovered before the run ended)" : ""));
    return lines;
}

bool verdict_ok(const table_verdict& v) noexcept {
    return v.missing == 0 && v.unreadable == 0 && v.error.empty();
}

} // namespace tablemigrator::load
