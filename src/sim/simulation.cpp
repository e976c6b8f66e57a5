// Wires the model, the meta/replica handlers and the Asio server together.
#include "sim/simulation.hpp"

#include "sim/meta_service.hpp"
#include "sim/replica_rpc.hpp"

#include <chrono>

namespace tablemigrator::sim {

simulation::simulation(asio::io_context& io, sim_config cfg)
    : cfg_(std::move(cfg)) {
    auto unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    model_ = std::make_unique<model>(cfg_, unix_us);
    server_ = std::make_unique<sim_server>(
        io, *model_, [](cluster_state& c, const endpoint_info& e, const wire::request_frame& f) {
            return e.role == server_role::meta ? handle_meta_request(c, e.index, f)
                                               : handle_replica_request(c, e.index, f);
        });
}

status simulation::start() {
    return server_->start(cfg_.admin_port);
}

} // namespace tablemigrator::sim
