// The migration policy: a pure function from (table state, observed event, now) to the next state
// and the one action the per-table coroutine must carry out. No I/O, no clocks: everything the
// policy knows arrives in an event, so every safety rule is unit-tested on its own.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace tablemigrator::migrate {

using duration = std::chrono::milliseconds;
using time_point = std::chrono::steady_clock::time_point;

enum class phase {
    duplicate,      // reuse or add the duplication (with checkpoint)
    wait_log,       // wait until the duplication is in DS_LOG
    wait_backlog,   // wait until this table's backlog is at most the threshold
    freeze,         // set replica.deny_client_request=timeout*write
    wait_frozen,    // one config-sync period (+ margin) after the meta's ack
    drain,          // every partition's last pre-freeze mutation shipped and acknowledged
    switch_clients, // MetaProxy switch + reconfig*all (only with -r)
    restore,        // deleting the deny env after a failure or a cancel
    done,
    failed,
    aborted,
};

const char* to_string(phase p) noexcept;
bool is_terminal(phase p) noexcept;

// Generation-neutral duplication status (the clients map the 2.4+ numbers).
enum class dup_status { init, prepare, app, log, pause, removed };

struct settings {
    std::int64_t threshold = 10000;                  // -p: this table's un-shipped mutations
    duration config_sync_period{30000};              // effective period on the source nodes
    duration freeze_margin{3000};                    // added to the period before the freeze counts
    duration max_deny{std::chrono::seconds(300)};    // bound of the write-deny window
    duration wait_log_timeout{std::chrono::hours(2)};     // checkpoint copy can be long
    duration wait_backlog_timeout{std::chrono::hours(6)};
    duration poll_min{250};
    duration poll_max{10000};
    int drain_stable_polls = 2;                      // consecutive fully-drained observations
    bool switch_clients = false;                     // -r given
    // Fast cutover: the lowered config-sync period (nullopt: off, or the servers cannot change
    // it). The tool lowers it only when the table nears its freeze, and counts the freeze with it
    // only once the nodes confirmed it and one *old* period has passed (the tick already
    // scheduled fires at the old time).
    std::optional<duration> fast_period;
    duration fast_freeze_margin{250};
};

// The margin added to a config-sync period before a freeze counts as in force on every node: it
// covers the meta-to-node propagation and the timer jitter of the tick (tens of ms on real
// servers) plus a share of the period for nodes whose ticks drift.
duration freeze_margin_for(duration period) noexcept;

// ---- events: what the coroutine observed ----------------------------------------------------

struct ev_start {                       // preflight passed; what already exists (rerun / resume)
    bool duplication_exists = false;
    dup_status existing_status = dup_status::init;
    bool deny_write_set = false;        // source already has timeout*write (a crashed run froze it)
};
struct ev_duplication_added {};
struct ev_duplication {                 // a query of this table's duplication to the target
    bool exists = false;
    dup_status status = dup_status::init;
};
struct ev_backlog {                     // this table's un-shipped mutations (sum over partitions)
    dup_status status = dup_status::log; // observed in the same poll: the gate is re-checked
    std::int64_t backlog = 0;
    std::optional<double> rate_per_s;   // shipping rate, when the signal provides one
    bool complete = true;               // every partition reported
};
struct ev_deny_acked {};                // the meta acknowledged SET timeout*write
struct ev_drain {                       // per-partition confirmation against the freeze decrees
    int partitions = 0;
    int drained = 0;
    bool topology_changed = false;      // a primary moved: freeze decrees must be read again
};
struct ev_switched {                    // the MetaProxy switch finished, successfully or not
    bool entry_switched = true;         // the ZooKeeper entry now names the target
    bool reconfig_set = true;           // reconfig*all set on the source
    error_code error;                   // set when the switch did not complete
    std::string message;
};
struct ev_sync_lowered {                // fast cutover: the config-sync period was lowered
    bool lowered = false;               // on every node hosting the table; false: some node kept
                                        // the old period, so the freeze counts with the old one
    time_point in_force_from{};         // when the lowered period governs every node's ticks
};
struct ev_restored {};                  // the deny env was deleted
struct ev_timer {};                     // a wait (action_wait) ended
struct ev_error {                       // the last action failed
    error_code error;
    std::string message;
};
struct ev_cancel {};                    // Ctrl-C / SIGTERM / abort

using event = std::variant<ev_start, ev_duplication_added, ev_duplication, ev_backlog, ev_deny_acked,
                           ev_drain, ev_switched, ev_sync_lowered, ev_restored, ev_timer, ev_error,
                           ev_cancel>;

// ---- actions: what the coroutine must do next ----------------------------------------------

struct act_add_duplication {};
struct act_query_duplication { duration after; };
struct act_query_backlog { duration after; };
struct act_lower_sync_period {};    // fast cutover: lower the period on the source nodes now
struct act_set_deny {};
struct act_wait { time_point until; };
struct act_query_drain { duration after; bool capture_freeze_decrees; };
struct act_switch {};
struct act_restore_writes { duration after; };
struct act_finish {};               // terminal: the state says done / failed / aborted

using action = std::variant<act_add_duplication, act_query_duplication, act_query_backlog,
                            act_lower_sync_period, act_set_deny, act_wait, act_query_drain, act_switch,
                            act_restore_writes, act_finish>;

// ---- state --------------------------------------------------------------------------------

struct table_state {
    phase current = phase::duplicate;
    time_point phase_started{};
    std::optional<time_point> deny_requested;   // start of the write-deny window (conservative)
    std::optional<time_point> deny_acked;
    std::optional<time_point> freeze_in_force_at; // when wait_frozen ends (set on the meta's ack)
    std::optional<time_point> frozen_at;        // deny known to be in force on every node
    std::int64_t backlog_at_freeze = -1;
    std::int64_t last_backlog = -1;
    int stable_drained = 0;
    bool freeze_decrees_captured = false;
    bool deny_may_be_set = false;               // the source may be denying writes right now
    bool entry_switched = false;
    bool reconfig_set = false;
    bool cancel_requested = false;
    bool resume_after_restore = false;          // a rerun found writes denied before DS_LOG
    bool sync_lowering_requested = false;       // fast cutover: act_lower_sync_period was issued
    std::optional<time_point> fast_in_force_from; // the lowered period governs every node from then
    int restore_attempts = 0;
    std::string failure;                        // why the table failed or was aborted
    error_code error;
};

struct decision {
    table_state next;
    action todo;
};

// The policy. Throws std::logic_error only for an event that cannot happen in the current phase
// (a bug in the driver).
decision decide(const table_state& state, const event& ev, time_point now, const settings& cfg);

// Next poll delay while waiting for the backlog: slow while far from the threshold, fast near it.
duration backlog_poll_delay(std::int64_t backlog, std::optional<double> rate_per_s, const settings& cfg);

} // namespace tablemigrator::migrate
