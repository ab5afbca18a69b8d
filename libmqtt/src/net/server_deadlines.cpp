// SPDX-License-Identifier: MIT
// Server-wide timing for connections: one deadline heap and one timer for the
// connect timeout, keepalive x1.5 [MQTT-3.1.2-24] and the close bound of every
// connection, and one timer that bounds how long back-pressure parks readers.
// A per-connection steady_timer plus a waiting coroutine cost ~1.5 KB each
// at 10,000 idle connections (issue 4); a heap entry is 16 bytes.
#include <algorithm>
#include <functional>

#include "server_impl.hpp"

namespace mqtt::net::detail {
namespace {

// std::push_heap builds a max-heap: order by "later" for a min-heap on `at`.
constexpr auto later = [](const server_state::deadline_entry& a, const server_state::deadline_entry& b) {
    return a.at > b.at;
};
constexpr auto pause_bound = std::chrono::milliseconds(20);

}  // namespace

void server_state::schedule_deadline(connection& c, core::time_point t) {
    // An entry at or before `t` exists: when it fires the connection re-arms.
    if (t == core::time_point::max() || t >= c.armed_deadline) return;
    c.armed_deadline = t;  // an older, later entry of `c` is now stale
    deadlines.push_back({t, c.id()});
    std::push_heap(deadlines.begin(), deadlines.end(), later);
    if (deadlines.size() > 2 * conns.size() + 1024) {
        // Stale entries (closed connections, deadlines moved earlier) are
        // dropped when they outnumber the live ones, so the heap stays
        // within twice the connections even with long keepalives.
        std::erase_if(deadlines, [this](const deadline_entry& e) {
            auto it = conns.find(e.conn);
            return it == conns.end() || it->second->armed_deadline != e.at;
        });
        std::make_heap(deadlines.begin(), deadlines.end(), later);
    }
    arm_deadline_timer();
}

void server_state::arm_deadline_timer() {
    if (deadlines.empty() || deadlines.front().at >= deadline_timer_at) return;
    deadline_timer_at = deadlines.front().at;
    deadline_timer.expires_at(deadline_timer_at);  // cancels a later wait
    deadline_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;  // re-armed earlier
        const state_lock lk(mu);
        deadline_timer_at = core::time_point::max();
        run_deadlines();
    });
}

void server_state::run_deadlines() {
    const auto now = core::clock::now();
    while (!deadlines.empty() && deadlines.front().at <= now) {
        std::pop_heap(deadlines.begin(), deadlines.end(), later);
        const deadline_entry e = deadlines.back();
        deadlines.pop_back();
        auto it = conns.find(e.conn);
        if (it == conns.end() || it->second->armed_deadline != e.at) continue;  // stale
        auto c = it->second;  // on_deadline may close it, which erases it from conns
        c->armed_deadline = core::time_point::max();
        c->on_deadline(now);
    }
    arm_deadline_timer();
}

void server_state::park_reader(connection& c) {
    paused.push_back(c.weak_from_this());
    if (pause_tick_armed) return;
    // No wake-up may come (the congested subscriber closes quietly, or its
    // queue drains by expiry): this bounds the wait, and each woken reader
    // checks should_pause() again.
    pause_tick_armed = true;
    pause_tick.expires_after(pause_bound);
    pause_tick.async_wait([this](const boost::system::error_code&) {
        const state_lock lk(mu);
        pause_tick_armed = false;
        wake_paused();
    });
}

}  // namespace mqtt::net::detail
