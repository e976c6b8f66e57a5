// spawn_logged: co_spawn with a completion handler that reports instead of discarding.
#include <tablemigrator/async/spawn.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace tablemigrator::async {

namespace asio = boost::asio;

namespace {

// Returns normally for a cancellation-induced stop; otherwise logs and rethrows.
void report_exception(const std::string& label, const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        if (se.code() == asio::error::operation_aborted) {
            spdlog::debug("{}: stopped (cancelled)", label);
            return;
        }
        spdlog::error("{}: unexpected exception: {}", label, se.what());
    } catch (const std::exception& ex) {
        spdlog::error("{}: unexpected exception: {}", label, ex.what());
    } catch (...) {
        spdlog::error("{}: unexpected non-standard exception", label);
    }
    std::rethrow_exception(e);
}

void report_status(const std::string& label, const status& st) {
    if (st)
        return;
    if (st.error() == client_errc::cancelled)
        spdlog::debug("{}: stopped (cancelled)", label);
    else
        spdlog::warn("{}: failed: {}", label, st.error().message());
}

struct void_done {
    std::string label;
    void operator()(std::exception_ptr e) const {
        if (e)
            report_exception(label, e);
    }
};

struct status_done {
    std::string label;
    void operator()(std::exception_ptr e, status st) const {
        if (e)
            report_exception(label, e);
        else
            report_status(label, st);
    }
};

} // namespace

void spawn_logged(asio::any_io_executor ex, asio::awaitable<void> work, std::string label) {
    asio::co_spawn(ex, std::move(work), void_done{std::move(label)});
}

void spawn_logged(asio::any_io_executor ex, asio::awaitable<status> work, std::string label) {
    asio::co_spawn(ex, std::move(work), status_done{std::move(label)});
}

void spawn_logged(asio::any_io_executor ex, asio::awaitable<void> work, std::string label,
                  asio::cancellation_slot slot) {
    asio::co_spawn(ex, std::move(work),
                   asio::bind_cancellation_slot(slot, void_done{std::move(label)}));
}

void spawn_logged(asio::any_io_executor ex, asio::awaitable<status> work, std::string label,
                  asio::cancellation_slot slot) {
    asio::co_spawn(ex, std::move(work),
                   asio::bind_cancellation_slot(slot, status_done{std::move(label)}));
}

} // namespace tablemigrator::async
