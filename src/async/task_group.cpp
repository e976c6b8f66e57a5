// task_group: a queue plus a map of running children, each with its own cancellation_signal.
// join() is a custom async operation (not a timer) so that cancelling the joiner can be turned
// into "cancel the children, then complete once they stopped".
#include <tablemigrator/async/task_group.hpp>

#include <tablemigrator/core/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <spdlog/spdlog.h>

#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

namespace tablemigrator::async {

namespace asio = boost::asio;

namespace {

bool is_operation_aborted(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return se.code() == asio::error::operation_aborted;
    } catch (...) {
        return false;
    }
}

} // namespace

struct task_group::state : std::enable_shared_from_this<state> {
    struct queued_task {
        std::string label;
        asio::awaitable<status> work;
    };
    struct child {
        std::string label;
        asio::cancellation_signal signal;
        bool done = false;
    };

    state(asio::any_io_executor e, std::size_t limit)
        : ex(std::move(e))
        , max_running(limit) {}

    bool idle() const noexcept { return queue.empty() && children.empty(); }

    void start_ready() {
        // A child runs inline up to its first suspension and may spawn more children: the outer
        // call drains the queue, nested calls return at once.
        if (starting)
            return;
        starting = true;
        while (!cancelled_flag && !queue.empty() && children.size() < max_running) {
            queued_task task = std::move(queue.front());
            queue.pop_front();
            const std::uint64_t id = next_id++;
            auto& c = *children.emplace(id, std::make_unique<child>()).first->second;
            c.label = task.label;
            asio::co_spawn(ex, std::move(task.work),
                           asio::bind_cancellation_slot(
                               c.signal.slot(),
                               [self = shared_from_this(), id](std::exception_ptr e, status st) {
                                   self->on_child_done(id, std::move(e), std::move(st));
                               }));
        }
        starting = false;
    }

    void on_child_done(std::uint64_t id, std::exception_ptr e, status st) {
        auto it = children.find(id);
        if (it == children.end())
            return; // cannot happen: each child completes once
        child& c = *it->second;
        if (e) {
            if (cancelled_flag && is_operation_aborted(e)) {
                failures.push_back({c.label, make_error_code(client_errc::cancelled)});
            } else {
                spdlog::error("task_group: child '{}' threw; cancelling its siblings", c.label);
                if (!first_exception)
                    first_exception = e;
                cancel_all();
            }
        } else if (!st) {
            spdlog::debug("task_group: child '{}' failed: {}", c.label, st.error().message());
            failures.push_back({c.label, st.error()});
        }
        if (emitting > 0)
            c.done = true; // cancel_all() is iterating; it erases finished children afterwards
        else
            children.erase(it);
        start_ready();
        maybe_complete_join();
    }

    void cancel_all() {
        cancelled_flag = true;
        for (auto& task : queue)
            failures.push_back({task.label, make_error_code(client_errc::cancelled)});
        queue.clear();
        // emit() may resume a child inline; it must not free the signal being emitted.
        ++emitting;
        for (auto& [id, c] : children)
            if (!c->done)
                c->signal.emit(asio::cancellation_type::terminal);
        --emitting;
        if (emitting == 0)
            std::erase_if(children, [](const auto& kv) { return kv.second->done; });
        maybe_complete_join();
    }

    template <class Handler>
    void install_joiner(Handler&& handler) {
        if (joiner)
            throw std::logic_error("task_group: join() is already being awaited");
        // Move-construct only (Boost 1.81 any_completion_handler move assignment recurses), and
        // take the slot from the type-erased handler (toolchain.md §3).
        joiner.emplace(std::forward<Handler>(handler));
        auto slot = asio::get_associated_cancellation_slot(*joiner);
        if (slot.is_connected()) {
            slot.assign([weak = weak_from_this()](asio::cancellation_type_t) {
                if (auto self = weak.lock())
                    self->cancel_all();
            });
        }
        maybe_complete_join();
    }

    void maybe_complete_join() {
        if (!joiner || !idle())
            return;
        asio::any_completion_handler<void()> h(std::move(*joiner));
        joiner.reset();
        asio::get_associated_cancellation_slot(h).clear();
        // Posted, not called: the joiner must not resume inside a child's completion.
        asio::post(ex, [h = std::move(h)]() mutable { std::move(h)(); });
    }

    asio::any_io_executor ex;
    std::size_t max_running;
    std::deque<queued_task> queue;
    std::map<std::uint64_t, std::unique_ptr<child>> children;
    std::uint64_t next_id = 1;
    std::vector<task_failure> failures;
    std::exception_ptr first_exception;
    bool cancelled_flag = false;
    bool starting = false;
    int emitting = 0;
    std::optional<asio::any_completion_handler<void()>> joiner;
};

task_group::task_group(asio::any_io_executor ex, std::size_t max_concurrent)
    : state_(std::make_shared<state>(std::move(ex), max_concurrent == 0 ? 1 : max_concurrent)) {}

task_group::~task_group() {
    if (!state_->idle())
        state_->cancel_all();
}

void task_group::spawn(std::string label, asio::awaitable<status> work) {
    if (state_->cancelled_flag) {
        state_->failures.push_back({std::move(label), make_error_code(client_errc::cancelled)});
        return;
    }
    state_->queue.push_back({std::move(label), std::move(work)});
    state_->start_ready();
}

asio::awaitable<std::vector<task_failure>> task_group::join() {
    auto st = state_;
    if (!st->idle()) {
        // A joiner cancelled before it got here would never see its slot fire: cancel now. And
        // awaiting with throw_if_cancelled on would throw instead of waiting for the children,
        // so it is off for this one wait (the thread is suspended here, nothing else sees it).
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none)
            st->cancel_all();
        const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
        co_await asio::this_coro::throw_if_cancelled(false);
        // The initiation is a named object: g++ 12 mishandles class-type temporaries inside a
        // co_await expression.
        auto initiation = [st](auto handler) { st->install_joiner(std::move(handler)); };
        auto wait = asio::async_initiate<decltype(asio::use_awaitable), void()>(
            initiation, asio::use_awaitable);
        co_await std::move(wait);
        co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
    }
    if (st->first_exception)
        std::rethrow_exception(std::exchange(st->first_exception, nullptr));
    co_return st->failures;
}

void task_group::cancel() {
    state_->cancel_all();
}

std::size_t task_group::running() const noexcept {
    return state_->children.size();
}

std::size_t task_group::queued() const noexcept {
    return state_->queue.size();
}

bool task_group::cancelled() const noexcept {
    return state_->cancelled_flag;
}

} // namespace tablemigrator::async
