// The per-table coroutine (see table_job.hpp): a thin driver around decide().
#include <tablemigrator/migrate/table_job.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <deque>

namespace asio = boost::asio;

namespace tablemigrator::migrate {
namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

time_point now() { return std::chrono::steady_clock::now(); }

event from_status(const status& s, event ok) {
    if (s)
        return ok;
    return ev_error{s.error(), s.error().message()};
}

} // namespace

asio::awaitable<ev_sync_lowered> table_ops::lower_sync_period() { co_return ev_sync_lowered{}; }

table_job::table_job(std::string table, settings cfg, std::shared_ptr<table_ops> ops,
                     job_observer* observer)
    : table_(std::move(table)), cfg_(cfg), ops_(std::move(ops)), observer_(observer) {}

void table_job::cancel() {
    if (cancel_requested_)
        return;
    cancel_requested_ = true;
    cancel_signal_.emit(asio::cancellation_type::terminal);
}

template <class T>
asio::awaitable<T> table_job::cancellable(asio::awaitable<T> op) {
    // Named objects only around co_await: g++ 12 double-destroys class-type temporaries there.
    // A cancelled operation may end by throwing (an inner co_await sees the cancellation state):
    // that is a cancel, not a bug, and must not escape the job (it would take the whole run down
    // with the table possibly frozen).
    auto ex = co_await asio::this_coro::executor;
    auto token = asio::bind_cancellation_slot(cancel_signal_.slot(), asio::as_tuple(asio::use_awaitable));
    auto task = asio::co_spawn(ex, std::move(op), token);
    auto outcome = co_await std::move(task);
    if (std::get<0>(outcome)) {
        if (!cancel_requested_)
            std::rethrow_exception(std::get<0>(outcome));
        co_return T{make_error_code(client_errc::cancelled)};
    }
    co_return std::move(std::get<1>(outcome));
}

asio::awaitable<bool> table_job::sleep_until(time_point until) {
    if (cancel_requested_)
        co_return false;
    if (until <= now())
        co_return true;
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, until);
    error_code ec;
    auto token = asio::bind_cancellation_slot(cancel_signal_.slot(), asio::redirect_error(asio::use_awaitable, ec));
    auto wait = timer.async_wait(token);
    co_await std::move(wait);
    co_return !ec && !cancel_requested_;
}

asio::awaitable<event> table_job::execute(const action& a) {
    if (const auto* q = std::get_if<act_query_duplication>(&a)) {
        if (!co_await sleep_until(now() + q->after))
            co_return ev_cancel{};
        auto op = ops_->query_duplication();
        auto r = co_await cancellable(std::move(op));
        if (cancel_requested_)
            co_return ev_cancel{};
        if (!r)
            co_return ev_error{r.error(), "query duplication: " + r.error().message()};
        co_return *r;
    }
    if (const auto* q = std::get_if<act_query_backlog>(&a)) {
        if (!co_await sleep_until(now() + q->after))
            co_return ev_cancel{};
        auto op = ops_->query_backlog();
        auto r = co_await cancellable(std::move(op));
        if (cancel_requested_)
            co_return ev_cancel{};
        if (!r)
            co_return ev_error{r.error(), "query backlog: " + r.error().message()};
        if (observer_)
            observer_->on_backlog(table_, *r);
        co_return *r;
    }
    if (const auto* q = std::get_if<act_query_drain>(&a)) {
        if (!co_await sleep_until(now() + q->after))
            co_return ev_cancel{};
        auto op = ops_->drain_samples();
        auto r = co_await cancellable(std::move(op));
        if (cancel_requested_)
            co_return ev_cancel{};
        if (!r)
            co_return ev_error{r.error(), "query drain: " + r.error().message()};
        ev_drain d = drain_.update(r->samples, r->partition_count, q->capture_freeze_decrees);
        if (observer_)
            observer_->on_drain(table_, d);
        co_return d;
    }
    if (const auto* w = std::get_if<act_wait>(&a)) {
        if (!co_await sleep_until(w->until))
            co_return ev_cancel{};
        co_return ev_timer{};
    }
    if (std::holds_alternative<act_add_duplication>(a)) {
        auto op = ops_->add_duplication();
        auto r = co_await cancellable(std::move(op));
        if (cancel_requested_ && !r)
            co_return ev_cancel{};
        co_return from_status(r, ev_duplication_added{});
    }
    if (std::holds_alternative<act_lower_sync_period>(a)) {
        // Not cancellable: nodes half-lowered would leave the lease count wrong; the cancel is
        // delivered right after.
        auto op = ops_->lower_sync_period();
        co_return co_await std::move(op);
    }
    if (std::holds_alternative<act_set_deny>(a)) {
        // Not cancellable: a half-sent SET is unknowable; the policy restores after a cancel.
        auto r = co_await ops_->set_deny_write();
        co_return from_status(r, ev_deny_acked{});
    }
    if (const auto* r = std::get_if<act_restore_writes>(&a)) {
        // Never interrupted: a second Ctrl-C exits the process and names the table instead.
        if (r->after.count() > 0) {
            auto ex = co_await asio::this_coro::executor;
            asio::steady_timer timer(ex, r->after);
            error_code ec;
            auto wait = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(wait);
        }
        auto s = co_await ops_->restore_writes();
        co_return from_status(s, ev_restored{});
    }
    if (std::holds_alternative<act_switch>(a)) {
        co_return co_await ops_->switch_clients();
    }
    throw std::logic_error("table_job: act_finish is not executable");
}

asio::awaitable<table_report> table_job::run() {
    table_report report;
    report.table = table_;
    state_ = table_state{};
    state_.phase_started = now();
    phase_span current{state_.current, state_.phase_started, state_.phase_started};
    std::optional<time_point> deny_start, deny_end;

    std::deque<event> pending;
    {
        auto op = ops_->inspect();
        auto start = co_await cancellable(std::move(op));
        if (cancel_requested_)
            pending.push_back(ev_cancel{});
        else if (!start)
            pending.push_back(ev_error{start.error(), "inspect: " + start.error().message()});
        else
            pending.push_back(*start);
    }
    // An inspect failure is reported by the policy as a failure of the first phase.
    bool first = true;
    while (true) {
        action todo = act_finish{};
        while (!pending.empty()) {
            event ev = std::move(pending.front());
            pending.pop_front();
            if (std::holds_alternative<ev_cancel>(ev))
                cancel_delivered_ = true;
            if (const auto* e = std::get_if<ev_error>(&ev); e && observer_)
                observer_->on_error(table_, state_.current, e->error, e->message);
            const time_point t = now();
            decision d;
            if (first && std::holds_alternative<ev_error>(ev)) {
                const auto& e = std::get<ev_error>(ev);
                table_state s = state_;
                s.current = phase::failed;
                s.failure = "preflight inspection failed: " + e.message;
                s.error = e.error;
                d = decision{s, act_finish{}};
            } else {
                d = decide(state_, ev, t, cfg_);
            }
            first = false;
            const phase before = state_.current;
            const bool was_denied = state_.deny_may_be_set;
            state_ = std::move(d.next);
            todo = std::move(d.todo);
            if (!was_denied && state_.deny_may_be_set && !deny_start)
                deny_start = state_.deny_requested.value_or(t);
            if (was_denied && !state_.deny_may_be_set)
                deny_end = t;
            if (state_.entry_switched && !deny_end)
                deny_end = t;
            if (state_.current != before) {
                current.end = t;
                report.phases.push_back(current);
                current = phase_span{state_.current, t, t};
                spdlog::info("table {}: {} -> {}", table_, to_string(before), to_string(state_.current));
                if (observer_)
                    observer_->on_phase(table_, before, state_.current, state_);
            }
        }
        if (is_terminal(state_.current))
            break;
        event ev = co_await execute(todo);
        pending.push_back(std::move(ev));
        if (cancel_requested_ && !cancel_delivered_ && !std::holds_alternative<ev_cancel>(pending.back()))
            pending.push_back(ev_cancel{});
    }
    const time_point end = now();
    current.end = end;
    report.phases.push_back(current);
    report.outcome = state_.current;
    report.failure = state_.failure;
    report.error = state_.error;
    report.backlog_at_freeze = state_.backlog_at_freeze;
    report.entry_switched = state_.entry_switched;
    report.reconfig_set = state_.reconfig_set;
    report.writes_may_be_denied = state_.deny_may_be_set && !state_.entry_switched;
    if (deny_start)
        report.deny_window = std::chrono::duration_cast<duration>(deny_end.value_or(end) - *deny_start);
    co_return report;
}

} // namespace tablemigrator::migrate
