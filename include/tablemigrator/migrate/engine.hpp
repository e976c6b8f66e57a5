// The orchestrator: preflight for every table before any change, then one table_job per table on
// one io_context under a concurrency limit, with a shared meta request budget, the fast-cutover
// lease on source nodes, Ctrl-C handling and a final report. Also the read-only `status` and the
// `abort` commands.
#pragma once

#include <tablemigrator/metaproxy/switch.hpp>
#include <tablemigrator/migrate/table_job.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::migrate {

struct run_options {
    std::vector<std::string> source_metas;      // "host:port"
    std::vector<std::string> tables;
    std::string target_cluster;                 // -c
    std::vector<std::string> target_metas;      // -m
    std::string target_meta_text;               // -m as written into MetaProxy
    std::optional<std::string> root;            // -r
    std::optional<std::string> zk_connect;      // -n
    std::int64_t threshold = 10000;
    int parallel = 0;
    bool dry_run = false;
    duration max_deny{300000};
    duration config_sync_interval{30000};       // used when the servers do not tell
    std::optional<duration> fast_cutover;
    std::optional<duration> timeout;
    bool create_missing = false;
    bool remove_duplication = false;            // abort
    double meta_rps_budget = 200;               // requests per second to the source meta (all tables)
    std::optional<std::string> state_file;      // fast-cutover originals survive a crash here
    metaproxy::switch_hooks switch_hooks;       // tests: faults between reading and writing the entry
};

// Per-table preflight result.
struct table_plan {
    std::string table;
    std::int32_t app_id = 0;
    std::int32_t partition_count = 0;
    bool already_switched = false;              // the MetaProxy entry already names the target
    bool rerun = false;                         // the target table is our duplication's follower
    std::string deny_env;                       // the source's replica.deny_client_request ("" = unset)
    std::vector<std::string> failures;
    std::vector<std::string> warnings;
};

struct preflight_report {
    std::string source_cluster;
    std::string target_cluster;
    std::string generation;                     // "2.4", "2.5", "master"
    std::string zk_connect;                     // resolved connect string (with -r)
    duration config_sync_period{30000};         // as read from the source nodes (or the flag)
    std::vector<std::string> failures;          // cluster-level
    std::vector<std::string> warnings;
    std::vector<table_plan> tables;
    bool ok() const;
};

struct run_report {
    preflight_report preflight;
    std::vector<table_report> tables;
    std::vector<std::string> notes;             // what the operator must still do
    int exit_code = 0;                          // 0 done, 1 a table failed, 2 preflight, 130 interrupted
};

// Observes the whole run: phases and numbers per table (the progress view and --json use it).
class run_observer : public job_observer {
public:
    virtual void on_preflight(const preflight_report& /*r*/) {}
    virtual void on_table_start(const std::string& /*table*/) {} // its job starts (after --parallel)
    virtual void on_table_done(const table_report& /*r*/) {}
    virtual void on_note(const std::string& /*text*/) {}
};

class engine {
public:
    engine(boost::asio::any_io_executor ex, run_options options, run_observer* observer = nullptr);
    ~engine();

    boost::asio::awaitable<run_report> migrate();
    boost::asio::awaitable<run_report> status();
    boost::asio::awaitable<run_report> abort();

    // First call: cancel every table (frozen tables get writes restored). Returns the tables that
    // may still be denied right now (for the message of a second Ctrl-C, which exits at once).
    std::vector<std::string> interrupt();
    bool interrupted() const;

    // Closes every connection the engine opened (meta and replica sessions with their reconnect
    // timers): after the report, nothing of the engine keeps the io_context busy.
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tablemigrator::migrate
