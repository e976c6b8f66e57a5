// The migration policy (see policy.hpp). Safety rules encoded here:
// - writes are denied only when the duplication is in DS_LOG and this table's backlog is at most
//   the threshold, both observed in the same poll;
// - the freeze counts as effective one config-sync period (+ margin) after the meta's ack;
// - clients are switched only after every partition was confirmed drained in consecutive polls;
// - any failure or cancel while writes may be denied, before the MetaProxy entry names the
//   target, restores writes; once the entry names the target, writes are never restored on the
//   source (clients that still reach it would write where nobody reads).
#include <tablemigrator/migrate/policy.hpp>

#include <tablemigrator/core/error.hpp>

#include <algorithm>
#include <stdexcept>

namespace tablemigrator::migrate {
namespace {

constexpr int max_restore_attempts = 6;

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

duration clamp_poll(duration d, const settings& cfg) {
    return std::clamp(d, cfg.poll_min, std::max(cfg.poll_min, cfg.poll_max));
}

// Polls of the duplication status: the status only moves on the meta's duplication sync.
duration status_poll(const settings& cfg) { return clamp_poll(cfg.poll_max / 5, cfg); }

// Drain polls are fast: the cutover is under way and every second is write downtime; with a
// lowered period the whole cutover takes a few seconds, so faster still.
duration drain_poll(const table_state& s, const settings& cfg) {
    return clamp_poll(s.fast_in_force_from ? cfg.poll_min : duration(500), cfg);
}

// Fast cutover: lower the period early enough that the freeze need not wait for it, i.e. once the
// backlog is expected under the threshold within one old period.
bool near_freeze(const ev_backlog& b, const settings& cfg) {
    if (!b.complete || b.backlog < 0 || !b.rate_per_s || *b.rate_per_s <= 0.0)
        return false;
    const double eta_ms = static_cast<double>(b.backlog - cfg.threshold) / *b.rate_per_s * 1000.0;
    return eta_ms <= static_cast<double>(cfg.config_sync_period.count());
}

decision enter(table_state s, phase p, time_point now, action a) {
    s.current = p;
    s.phase_started = now;
    return {std::move(s), std::move(a)};
}

decision finish(table_state s, phase p, time_point now, std::string why, error_code ec) {
    s.failure = std::move(why);
    s.error = ec;
    return enter(std::move(s), p, now, act_finish{});
}

// A failure: restore writes first when they may be denied and clients were not switched.
decision fail(table_state s, time_point now, std::string why, error_code ec) {
    if (s.deny_may_be_set && !s.entry_switched) {
        s.failure = std::move(why);
        s.error = ec;
        s.restore_attempts = 0;
        return enter(std::move(s), phase::restore, now, act_restore_writes{duration(0)});
    }
    return finish(std::move(s), phase::failed, now, std::move(why), ec);
}

decision cancel(table_state s, time_point now) {
    s.cancel_requested = true;
    if (s.deny_may_be_set && !s.entry_switched) {
        if (s.failure.empty())
            s.failure = "cancelled";
        s.error = make_error_code(client_errc::cancelled);
        s.restore_attempts = 0;
        return enter(std::move(s), phase::restore, now, act_restore_writes{duration(0)});
    }
    return finish(std::move(s), phase::aborted, now, "cancelled", make_error_code(client_errc::cancelled));
}

bool deny_window_exceeded(const table_state& s, time_point now, const settings& cfg) {
    return s.deny_requested && now - *s.deny_requested > cfg.max_deny;
}

decision on_duplicate(table_state s, const event& ev, time_point now, const settings& cfg) {
    if (const auto* st = std::get_if<ev_start>(&ev)) {
        const bool dup_in_log = st->duplication_exists && st->existing_status == dup_status::log;
        if (st->deny_write_set) {
            // A previous run froze the table and died. Re-setting the deny gives a fresh ack time
            // to measure the config-sync period from; without DS_LOG, restore writes first.
            s.deny_may_be_set = true;
            s.deny_requested = now;
            if (dup_in_log)
                return enter(std::move(s), phase::freeze, now, act_set_deny{});
            s.resume_after_restore = true;
            return enter(std::move(s), phase::restore, now, act_restore_writes{duration(0)});
        }
        if (st->duplication_exists) {
            switch (st->existing_status) {
            case dup_status::log:
                return enter(std::move(s), phase::wait_backlog, now, act_query_backlog{duration(0)});
            case dup_status::init:
            case dup_status::prepare:
            case dup_status::app:
                return enter(std::move(s), phase::wait_log, now, act_query_duplication{duration(0)});
            case dup_status::pause:
                return fail(std::move(s), now,
                            "the duplication to the target is paused: resume it (modify to DS_LOG) "
                            "or remove it, then rerun",
                            make_error_code(client_errc::precondition_failed));
            case dup_status::removed:
                break;
            }
        }
        return {std::move(s), act_add_duplication{}};
    }
    if (const auto* d = std::get_if<ev_duplication>(&ev)) {
        // After writes were restored on a resumed run: continue from what exists now.
        ev_start again;
        again.duplication_exists = d->exists;
        again.existing_status = d->status;
        return on_duplicate(std::move(s), again, now, cfg);
    }
    if (std::holds_alternative<ev_duplication_added>(ev))
        return enter(std::move(s), phase::wait_log, now, act_query_duplication{duration(0)});
    if (const auto* e = std::get_if<ev_error>(&ev))
        return fail(std::move(s), now, "adding the duplication failed: " + e->message, e->error);
    throw std::logic_error("migrate::decide: unexpected event in phase duplicate");
}

decision on_wait_log(table_state s, const event& ev, time_point now, const settings& cfg) {
    const bool expired = now - s.phase_started > cfg.wait_log_timeout;
    if (const auto* d = std::get_if<ev_duplication>(&ev)) {
        if (!d->exists)
            return fail(std::move(s), now, "the duplication disappeared while waiting for DS_LOG",
                        make_error_code(client_errc::precondition_failed));
        switch (d->status) {
        case dup_status::log:
            return enter(std::move(s), phase::wait_backlog, now, act_query_backlog{duration(0)});
        case dup_status::pause:
        case dup_status::removed:
            return fail(std::move(s), now,
                        std::string("the duplication was ") +
                            (d->status == dup_status::pause ? "paused" : "removed") +
                            " while waiting for DS_LOG",
                        make_error_code(client_errc::precondition_failed));
        default:
            break;
        }
        if (expired)
            return fail(std::move(s), now, "the duplication did not reach DS_LOG before the deadline",
                        make_error_code(client_errc::timeout));
        return {std::move(s), act_query_duplication{status_poll(cfg)}};
    }
    if (const auto* e = std::get_if<ev_error>(&ev)) {
        if (is_retryable(e->error) && !expired)
            return {std::move(s), act_query_duplication{status_poll(cfg)}};
        return fail(std::move(s), now, "querying the duplication failed: " + e->message, e->error);
    }
    throw std::logic_error("migrate::decide: unexpected event in phase wait_log");
}

decision on_wait_backlog(table_state s, const event& ev, time_point now, const settings& cfg) {
    const bool expired = now - s.phase_started > cfg.wait_backlog_timeout;
    if (const auto* b = std::get_if<ev_backlog>(&ev)) {
        if (b->status != dup_status::log) {
            if (b->status == dup_status::pause || b->status == dup_status::removed)
                return fail(std::move(s), now, "the duplication left DS_LOG while waiting for the backlog",
                            make_error_code(client_errc::precondition_failed));
            return enter(std::move(s), phase::wait_log, now, act_query_duplication{status_poll(cfg)});
        }
        s.last_backlog = b->backlog;
        const bool ready = b->complete && b->backlog >= 0 && b->backlog <= cfg.threshold;
        if (cfg.fast_period && !s.sync_lowering_requested && (ready || near_freeze(*b, cfg))) {
            // Lowered only now, not for the hours of checkpoint copy and catch-up: every node of
            // the source syncs its config that much more often while it is lowered.
            s.sync_lowering_requested = true;
            return {std::move(s), act_lower_sync_period{}};
        }
        if (ready && s.fast_in_force_from && now < *s.fast_in_force_from) {
            const auto wait = std::chrono::duration_cast<duration>(*s.fast_in_force_from - now);
            return {std::move(s), act_query_backlog{std::clamp(wait, duration(0), std::max(cfg.poll_min, cfg.poll_max))}};
        }
        if (ready) {
            s.backlog_at_freeze = b->backlog;
            s.deny_requested = now;
            s.deny_may_be_set = true;
            return enter(std::move(s), phase::freeze, now, act_set_deny{});
        }
        if (expired)
            return fail(std::move(s), now, "the backlog stayed above the threshold until the deadline",
                        make_error_code(client_errc::timeout));
        const duration next = b->complete ? backlog_poll_delay(b->backlog, b->rate_per_s, cfg)
                                           : status_poll(cfg);
        return {std::move(s), act_query_backlog{next}};
    }
    if (const auto* l = std::get_if<ev_sync_lowered>(&ev)) {
        if (l->lowered)
            s.fast_in_force_from = l->in_force_from;
        return {std::move(s), act_query_backlog{duration(0)}};
    }
    if (const auto* e = std::get_if<ev_error>(&ev)) {
        if (is_retryable(e->error) && !expired)
            return {std::move(s), act_query_backlog{status_poll(cfg)}};
        return fail(std::move(s), now, "reading the backlog failed: " + e->message, e->error);
    }
    throw std::logic_error("migrate::decide: unexpected event in phase wait_backlog");
}

// When the deny acknowledged at `acked` is in force on every node. With fast cutover the lowered
// period governs the ticks only from fast_in_force_from on (the tick already scheduled fires at
// the old time). Without a confirmed lowering (off, 2.4, a node refused it, or a rerun that found
// the table already frozen) the original period counts.
time_point freeze_effective(const table_state& s, time_point acked, const settings& cfg) {
    if (cfg.fast_period && s.fast_in_force_from)
        return std::max(acked, *s.fast_in_force_from) + *cfg.fast_period + cfg.fast_freeze_margin;
    return acked + cfg.config_sync_period + cfg.freeze_margin;
}

decision on_freeze(table_state s, const event& ev, time_point now, const settings& cfg) {
    if (std::holds_alternative<ev_deny_acked>(ev)) {
        s.deny_acked = now;
        const time_point effective = freeze_effective(s, now, cfg); // before s is moved from
        s.freeze_in_force_at = effective;
        return enter(std::move(s), phase::wait_frozen, now, act_wait{effective});
    }
    if (const auto* e = std::get_if<ev_error>(&ev))
        // The SET may have reached the meta even though we saw an error: restore.
        return fail(std::move(s), now, "denying writes failed: " + e->message, e->error);
    throw std::logic_error("migrate::decide: unexpected event in phase freeze");
}

decision on_wait_frozen(table_state s, const event& ev, time_point now, const settings& cfg) {
    if (std::holds_alternative<ev_timer>(ev)) {
        const time_point effective = freeze_effective(s, *s.deny_acked, cfg);
        if (now < effective)
            return {std::move(s), act_wait{effective}};
        s.frozen_at = now;
        s.stable_drained = 0;
        s.freeze_decrees_captured = false;
        return enter(std::move(s), phase::drain, now, act_query_drain{duration(0), true});
    }
    if (const auto* e = std::get_if<ev_error>(&ev))
        return fail(std::move(s), now, "waiting for the freeze failed: " + e->message, e->error);
    throw std::logic_error("migrate::decide: unexpected event in phase wait_frozen");
}

decision on_drain(table_state s, const event& ev, time_point now, const settings& cfg) {
    if (const auto* d = std::get_if<ev_drain>(&ev)) {
        if (d->topology_changed) {
            // A new primary restarts shipping from the meta-persisted decree: read F_p again.
            s.stable_drained = 0;
            s.freeze_decrees_captured = false;
        } else {
            s.freeze_decrees_captured = true;
            if (d->partitions > 0 && d->drained == d->partitions)
                ++s.stable_drained;
            else
                s.stable_drained = 0;
        }
        if (s.stable_drained >= cfg.drain_stable_polls) {
            if (cfg.switch_clients)
                return enter(std::move(s), phase::switch_clients, now, act_switch{});
            return finish(std::move(s), phase::done, now, "", {});
        }
        if (deny_window_exceeded(s, now, cfg))
            return fail(std::move(s), now,
                        "the drain did not finish within --max-deny-seconds (the duplication is "
                        "kept so a rerun resumes)",
                        make_error_code(client_errc::timeout));
        // A fully drained observation is confirmed by the next poll at once: write downtime runs.
        const duration after = s.stable_drained > 0 ? cfg.poll_min : drain_poll(s, cfg);
        const act_query_drain next{after, !s.freeze_decrees_captured};
        return {std::move(s), next};
    }
    if (const auto* e = std::get_if<ev_error>(&ev)) {
        if (is_retryable(e->error) && !deny_window_exceeded(s, now, cfg)) {
            s.stable_drained = 0;
            const act_query_drain next{drain_poll(s, cfg), !s.freeze_decrees_captured};
            return {std::move(s), next};
        }
        return fail(std::move(s), now, "checking the drain failed: " + e->message, e->error);
    }
    throw std::logic_error("migrate::decide: unexpected event in phase drain");
}

decision on_switch(table_state s, const event& ev, time_point now, const settings&) {
    if (const auto* sw = std::get_if<ev_switched>(&ev)) {
        s.entry_switched = sw->entry_switched;
        s.reconfig_set = sw->reconfig_set;
        if (sw->entry_switched && sw->reconfig_set && !sw->error)
            return finish(std::move(s), phase::done, now, "", {});
        if (sw->entry_switched)
            return finish(std::move(s), phase::failed, now,
                          "the MetaProxy entry names the target but reconfig*all could not be set on "
                          "the source: " + sw->message + " (writes stay denied on the source; set "
                          "replica.deny_client_request=reconfig*all on it)",
                          sw->error ? sw->error : make_error_code(client_errc::precondition_failed));
        return fail(std::move(s), now, "the MetaProxy switch failed, entry unchanged: " + sw->message,
                    sw->error ? sw->error : make_error_code(client_errc::precondition_failed));
    }
    if (const auto* e = std::get_if<ev_error>(&ev))
        return fail(std::move(s), now, "the MetaProxy switch failed, entry unchanged: " + e->message,
                    e->error);
    throw std::logic_error("migrate::decide: unexpected event in phase switch_clients");
}

decision on_restore(table_state s, const event& ev, time_point now, const settings& cfg) {
    if (std::holds_alternative<ev_restored>(ev)) {
        s.deny_may_be_set = false;
        s.deny_requested.reset();
        s.deny_acked.reset();
        if (s.resume_after_restore && !s.cancel_requested) {
            s.resume_after_restore = false;
            return enter(std::move(s), phase::duplicate, now, act_query_duplication{duration(0)});
        }
        // Said only now that the meta acknowledged the delete (before, a failed restore would
        // have contradicted it).
        s.failure += s.failure.empty() ? "writes restored" : "; writes restored";
        const phase end = s.cancel_requested ? phase::aborted : phase::failed;
        return enter(std::move(s), end, now, act_finish{});
    }
    if (const auto* e = std::get_if<ev_error>(&ev)) {
        if (++s.restore_attempts < max_restore_attempts) {
            const duration backoff = clamp_poll(duration(500) * (1 << s.restore_attempts), cfg);
            return {std::move(s), act_restore_writes{backoff}};
        }
        const phase end = s.cancel_requested ? phase::aborted : phase::failed;
        std::string why = (s.failure.empty() ? std::string() : s.failure + "; ") +
                          "restoring writes failed: " + e->message +
                          " — WRITES MAY STILL BE DENIED: run 'table-migrator abort' for this table";
        return finish(std::move(s), end, now, std::move(why), e->error);
    }
    throw std::logic_error("migrate::decide: unexpected event in phase restore");
}

} // namespace

const char* to_string(phase p) noexcept {
    switch (p) {
    case phase::duplicate: return "duplicate";
    case phase::wait_log: return "wait_log";
    case phase::wait_backlog: return "wait_backlog";
    case phase::freeze: return "freeze";
    case phase::wait_frozen: return "wait_frozen";
    case phase::drain: return "drain";
    case phase::switch_clients: return "switch";
    case phase::restore: return "restore";
    case phase::done: return "done";
    case phase::failed: return "failed";
    case phase::aborted: return "aborted";
    }
    return "?";
}

duration freeze_margin_for(duration period) noexcept {
    // The delays it covers are absolute (an RPC to the meta and applying the env: milliseconds on
    // a healthy cluster), so it does not grow with the period beyond a second.
    return std::clamp(period / 10, duration(250), duration(1000));
}

bool is_terminal(phase p) noexcept {
    return p == phase::done || p == phase::failed || p == phase::aborted;
}

duration backlog_poll_delay(std::int64_t backlog, std::optional<double> rate_per_s, const settings& cfg) {
    const std::int64_t above = backlog - cfg.threshold;
    if (above <= 0)
        return cfg.poll_min;
    if (!rate_per_s || *rate_per_s <= 0.0)
        return clamp_poll(cfg.poll_max / 2, cfg);
    // Poll at a third of the estimated time to the threshold: few requests far away, a prompt
    // reaction close to it.
    const double eta_ms = static_cast<double>(above) / *rate_per_s * 1000.0;
    return clamp_poll(duration(static_cast<std::int64_t>(eta_ms / 3.0)), cfg);
}

decision decide(const table_state& state, const event& ev, time_point now, const settings& cfg) {
    if (is_terminal(state.current))
        return {state, act_finish{}};
    if (std::holds_alternative<ev_cancel>(ev)) {
        switch (state.current) {
        case phase::switch_clients: {
            // The switch is idempotent and short: finishing it is safer than stopping half-way.
            table_state s = state;
            s.cancel_requested = true;
            return {std::move(s), act_switch{}};
        }
        case phase::restore: {
            table_state s = state;
            s.cancel_requested = true;
            return finish(std::move(s), phase::aborted, now,
                          "interrupted while restoring writes — WRITES MAY STILL BE DENIED: run "
                          "'table-migrator abort' for this table",
                          make_error_code(client_errc::cancelled));
        }
        default:
            return cancel(state, now);
        }
    }
    switch (state.current) {
    case phase::duplicate: return on_duplicate(state, ev, now, cfg);
    case phase::wait_log: return on_wait_log(state, ev, now, cfg);
    case phase::wait_backlog: return on_wait_backlog(state, ev, now, cfg);
    case phase::freeze: return on_freeze(state, ev, now, cfg);
    case phase::wait_frozen: return on_wait_frozen(state, ev, now, cfg);
    case phase::drain: return on_drain(state, ev, now, cfg);
    case phase::switch_clients: return on_switch(state, ev, now, cfg);
    case phase::restore: return on_restore(state, ev, now, cfg);
    default: break;
    }
    throw std::logic_error("migrate::decide: unknown phase");
}

} // namespace tablemigrator::migrate
