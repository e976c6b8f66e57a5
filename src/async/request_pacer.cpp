// request_pacer (see request_pacer.hpp): a dispatcher coroutine grants one waiter per interval,
// urgent first. State is shared with the dispatcher so the pacer may go away while it sleeps.
#include <tablemigrator/async/request_pacer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>

namespace asio = boost::asio;

namespace tablemigrator::async {

using clock = std::chrono::steady_clock;

namespace {

struct waiter {
    explicit waiter(asio::any_io_executor ex) : timer(ex, clock::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;
};

} // namespace

struct request_pacer::state {
    asio::any_io_executor ex;
    clock::duration interval{0};
    clock::time_point next_free{};
    std::deque<std::shared_ptr<waiter>> queues[2]; // [urgent, normal]
    bool dispatching = false;
    bool closed = false;

    bool empty() const { return queues[0].empty() && queues[1].empty(); }
};

request_pacer::request_pacer(asio::any_io_executor ex, double rps) : state_(std::make_shared<state>()) {
    state_->ex = ex;
    if (rps > 0)
        state_->interval = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / rps));
}

request_pacer::~request_pacer() {
    state_->closed = true;
    for (auto& q : state_->queues)
        for (auto& w : q) {
            w->granted = true;
            w->timer.cancel();
        }
}

std::size_t request_pacer::waiting() const noexcept { return state_->queues[0].size() + state_->queues[1].size(); }

asio::awaitable<void> request_pacer::acquire(priority p) {
    auto s = state_;
    if (s->interval.count() <= 0 || s->closed)
        co_return;
    const auto now = clock::now();
    if (!s->dispatching && s->empty() && now >= s->next_free) {
        s->next_free = now + s->interval;
        co_return;
    }
    auto w = std::make_shared<waiter>(s->ex);
    auto& queue = s->queues[p == priority::urgent ? 0 : 1];
    queue.push_back(w);
    if (!s->dispatching) {
        s->dispatching = true;
        asio::co_spawn(s->ex, dispatch(s), asio::detached);
    }
    // co_spawn *dispatches*: on the io thread the dispatcher starts inline and, if the clock has
    // passed next_free meanwhile, grants this waiter before it waits. Waiting then would hang.
    if (w->granted)
        co_return;
    auto wait = w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(wait);
    if (!w->granted) // cancelled: give the place up
        queue.erase(std::remove(queue.begin(), queue.end(), w), queue.end());
}

asio::awaitable<void> request_pacer::dispatch(std::shared_ptr<state> s) {
    while (!s->closed && !s->empty()) {
        const auto now = clock::now();
        if (now < s->next_free) {
            asio::steady_timer pause(s->ex, s->next_free);
            auto wait = pause.async_wait(asio::as_tuple(asio::use_awaitable));
            co_await std::move(wait);
            continue; // an urgent waiter may have arrived meanwhile
        }
        auto& q = s->queues[0].empty() ? s->queues[1] : s->queues[0];
        auto w = q.front();
        q.pop_front();
        w->granted = true;
        w->timer.cancel();
        s->next_free = now + s->interval;
    }
    s->dispatching = false;
}

} // namespace tablemigrator::async
