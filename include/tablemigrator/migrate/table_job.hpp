// One table's migration as a coroutine: it asks the pure policy what to do next, carries the action
// out through table_ops (the typed clients behind an interface), and feeds the outcome back.
// Cancellation (Ctrl-C, --timeout) interrupts waits and queries; restoring writes and the MetaProxy
// switch are never interrupted half-way (each has its own deadline inside table_ops).
#pragma once

#include <tablemigrator/migrate/policy.hpp>
#include <tablemigrator/migrate/progress.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tablemigrator::migrate {

struct drain_observation {
    std::int32_t partition_count = 0;
    std::vector<drain_sample> samples;
};

// What the job needs from the clusters, for one table. Implemented over the meta/replica/zk
// clients by the engine, and by scripted fakes in tests. Every method honours the cancellation
// slot of the awaiting coroutine and has its own deadline.
class table_ops {
public:
    virtual ~table_ops() = default;
    virtual boost::asio::awaitable<result<ev_start>> inspect() = 0;
    virtual boost::asio::awaitable<status> add_duplication() = 0;
    virtual boost::asio::awaitable<result<ev_duplication>> query_duplication() = 0;
    virtual boost::asio::awaitable<result<ev_backlog>> query_backlog() = 0;
    virtual boost::asio::awaitable<status> set_deny_write() = 0;
    virtual boost::asio::awaitable<status> restore_writes() = 0;
    virtual boost::asio::awaitable<result<drain_observation>> drain_samples() = 0;
    virtual boost::asio::awaitable<ev_switched> switch_clients() = 0;
    // Fast cutover: lower config_sync_interval_ms on the source nodes (shared with other tables)
    // and say from when the lowered period governs them. Short and never interrupted half-way
    // (each node has its own deadline). The default lowers nothing.
    virtual boost::asio::awaitable<ev_sync_lowered> lower_sync_period();
};

struct phase_span {
    phase p;
    time_point start;
    time_point end;
};

struct table_report {
    std::string table;
    phase outcome = phase::failed;
    std::string failure;
    error_code error;
    std::vector<phase_span> phases;
    std::int64_t backlog_at_freeze = -1;
    std::optional<duration> deny_window;   // from the deny request to the switch / restore / end
    bool entry_switched = false;
    bool reconfig_set = false;
    bool writes_may_be_denied = false;     // true when the table ends frozen without a switch
};

// Notified on the io_context thread; must not block.
class job_observer {
public:
    virtual ~job_observer() = default;
    virtual void on_phase(const std::string& /*table*/, phase /*from*/, phase /*to*/,
                          const table_state& /*state*/) {}
    virtual void on_backlog(const std::string& /*table*/, const ev_backlog& /*b*/) {}
    virtual void on_drain(const std::string& /*table*/, const ev_drain& /*d*/) {}
    virtual void on_error(const std::string& /*table*/, phase /*p*/, const error_code& /*ec*/,
                          const std::string& /*message*/) {}
};

class table_job {
public:
    table_job(std::string table, settings cfg, std::shared_ptr<table_ops> ops,
              job_observer* observer = nullptr);

    // Runs to a terminal phase. Never throws for expected failures: the report says what happened.
    boost::asio::awaitable<table_report> run();

    // Requests cancellation: the current wait or query ends, and the policy decides (restore
    // writes when they may be denied). Safe to call from the io_context thread at any time.
    void cancel();

    const table_state& state() const { return state_; }
    const std::string& table() const { return table_; }

private:
    boost::asio::awaitable<event> execute(const action& a);
    boost::asio::awaitable<bool> sleep_until(time_point until); // false when cancelled
    template <class T>
    boost::asio::awaitable<T> cancellable(boost::asio::awaitable<T> op);

    std::string table_;
    settings cfg_;
    std::shared_ptr<table_ops> ops_;
    job_observer* observer_;
    table_state state_;
    drain_tracker drain_;
    bool cancel_requested_ = false;
    bool cancel_delivered_ = false;
    bool drain_reset_next_ = true;
    boost::asio::cancellation_signal cancel_signal_;
};

} // namespace tablemigrator::migrate
