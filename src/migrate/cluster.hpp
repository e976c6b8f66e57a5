// Shared per-run context of the engine (private to src/migrate): clients of both clusters, the
// meta request budget, the fast-cutover lease, and the table_ops implementation over them.
#pragma once

#include <tablemigrator/async/request_pacer.hpp>
#include <tablemigrator/meta/meta_client.hpp>
#include <tablemigrator/migrate/engine.hpp>
#include <tablemigrator/replica/replica_client.hpp>
#include <tablemigrator/replica/server_generation.hpp>
#include <tablemigrator/rpc/session_pool.hpp>

#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <set>

namespace tablemigrator::migrate {

inline constexpr const char* deny_env_key = "replica.deny_client_request";
inline constexpr const char* deny_write_value = "timeout*write";
inline constexpr const char* reconfig_all_value = "reconfig*all";

// Lowered config_sync_interval_ms on source replica nodes, reference-counted per node, with the
// original values kept in a state file so a rerun after a crash restores them too.
class sync_lease {
public:
    sync_lease(std::optional<std::string> state_file) : state_file_(std::move(state_file)) {}
    struct node_state {
        std::int64_t original_ms = 0;
        int refs = 0;
        time_point lowered_at{};   // set once this run's lowering RPC to the node returned
        bool lowered_ok = false;   // the node acknowledged the lowered period
    };
    std::map<std::string, node_state> nodes;   // "host:port"
    std::set<std::string> holders;             // tables that lowered (and must release)
    std::map<std::string, std::int64_t> load_state() const;
    void save_state() const;

private:
    std::optional<std::string> state_file_;
};

struct run_context {
    boost::asio::any_io_executor ex;
    run_options opt;
    run_observer* observer = nullptr;
    rpc::session_pool pool;
    std::unique_ptr<meta::meta_client> source_meta;
    std::unique_ptr<meta::meta_client> target_meta;
    std::map<rpc::endpoint, std::shared_ptr<replica::replica_client>> replicas;
    replica::server_generation generation = replica::server_generation::unknown;
    std::string source_cluster;
    std::string target_cluster;
    std::string zk_connect;
    duration config_sync_period{30000};
    // Every request to the source meta (bar restoring writes) takes a grant: --meta-rps bounds
    // the rate however many tables run; requests of a cutover in progress go first.
    async::request_pacer budget;
    sync_lease lease;
    std::vector<rpc::endpoint> alive_nodes;
    // The source's table list (with envs) from preflight, shared by the tables' start checks.
    std::optional<std::vector<meta::app_entry>> apps_snapshot;
    time_point apps_snapshot_at{};

    run_context(boost::asio::any_io_executor e, run_options o, run_observer* obs);
    replica::replica_client& replica(const rpc::endpoint& ep);
};

boost::asio::awaitable<preflight_report> run_preflight(run_context& ctx);

// Reachability in seconds: cluster_info through a short-deadline client over the same metas.
inline constexpr std::chrono::seconds probe_deadline{10};
boost::asio::awaitable<result<std::map<std::string, std::string>>> probe_cluster(run_context& ctx,
                                                                               const meta::meta_client& client);
// "<role> cluster unreachable (no meta of a,b answered as leader within 10 s): <error>"
std::string unreachable_message(const std::string& role, const meta::meta_client& client, const error_code& ec);

std::shared_ptr<table_ops> make_table_ops(run_context& ctx, const table_plan& plan);

// Fast cutover: lower the period on every alive source node (the first holder does the RPC) and
// say from when the lowered period governs them all (one old period later), or that some node
// refused; restore when the last holder releases. Release is a no-op for a table that never
// acquired.
boost::asio::awaitable<ev_sync_lowered> acquire_fast_cutover(run_context& ctx, std::string table);
boost::asio::awaitable<void> release_fast_cutover(run_context& ctx, std::string table);
// A rerun after a crash: put back originals recorded in the state file.
boost::asio::awaitable<void> restore_recorded_periods(run_context& ctx);

} // namespace tablemigrator::migrate
