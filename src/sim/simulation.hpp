// A complete pegasus-sim instance: the model plus its servers, wired to the meta and replica
// handlers. Used by the pegasus-sim executable and by in-process component tests.
#pragma once

#include "sim/config.hpp"
#include "sim/model.hpp"
#include "sim/server.hpp"

#include <memory>

namespace tablemigrator::sim {

class simulation {
public:
    simulation(asio::io_context& io, sim_config cfg);

    // Binds every port (0 = any) and starts the timers. Errors: the first bind error.
    status start();
    void stop() { server_->stop_all(); }

    model& state() noexcept { return *model_; }
    sim_server& server() noexcept { return *server_; }
    cluster_state& cluster(std::string_view name) { return *model_->find_cluster(name); }

private:
    sim_config cfg_;
    std::unique_ptr<model> model_;
    std::unique_ptr<sim_server> server_;
};

} // namespace tablemigrator::sim
