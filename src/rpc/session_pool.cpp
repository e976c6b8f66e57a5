// session_pool: a map from endpoint to session; sessions connect lazily on their first call.
#include <tablemigrator/rpc/session_pool.hpp>

#include <utility>

namespace tablemigrator::rpc {

session_pool::session_pool(boost::asio::any_io_executor ex, session_options opts)
    : ex_(std::move(ex))
    , opts_(opts) {}

session_pool::~session_pool() {
    close_all();
}

std::shared_ptr<rpc_session> session_pool::get(const endpoint& ep) {
    auto it = sessions_.find(ep);
    if (it == sessions_.end())
        it = sessions_.emplace(ep, std::make_shared<rpc_session>(ex_, ep, opts_)).first;
    return it->second;
}

void session_pool::close_all() {
    auto sessions = std::move(sessions_);
    sessions_.clear();
    for (auto& [ep, session] : sessions)
        session->close();
}

} // namespace tablemigrator::rpc
