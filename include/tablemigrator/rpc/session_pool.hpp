// session_pool: one rpc_session per endpoint, shared by every caller on this io_context, so all
// RPCs to a server share one multiplexed connection (as the Go client does).
#pragma once

#include <tablemigrator/rpc/endpoint.hpp>
#include <tablemigrator/rpc/session.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <map>
#include <memory>

namespace tablemigrator::rpc {

class session_pool {
public:
    explicit session_pool(boost::asio::any_io_executor ex, session_options opts = {});
    // Closes every session (pending calls fail with client_errc::cancelled).
    ~session_pool();
    session_pool(const session_pool&) = delete;
    session_pool& operator=(const session_pool&) = delete;

    // The session for `ep`, created (unconnected) on first use. Endpoints compare by host text and
    // port: "localhost:1" and "127.0.0.1:1" are different sessions.
    std::shared_ptr<rpc_session> get(const endpoint& ep);

    // Closes and forgets every session (shutdown). A later get() creates a fresh session.
    void close_all();

    std::size_t size() const noexcept { return sessions_.size(); }
    const session_options& options() const noexcept { return opts_; }

private:
    boost::asio::any_io_executor ex_;
    session_options opts_;
    std::map<endpoint, std::shared_ptr<rpc_session>> sessions_;
};

} // namespace tablemigrator::rpc
