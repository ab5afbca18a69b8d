// SPDX-License-Identifier: MIT
// Broker flow control: drop accounting with a rate-limited warn log, and
// publisher back-pressure while a live subscriber drains a large queue.
#include <algorithm>

#include <fmt/format.h>

#include "server_impl.hpp"

namespace mqtt::net::detail {
namespace {

// A subscriber that has not acknowledged anything for this long is stalled:
// it no longer holds publishers back and its queue policy applies.
constexpr std::chrono::milliseconds stall_after{500};
constexpr std::chrono::seconds drop_log_interval{1};

const char* cause_name(drop_cause c) noexcept {
    switch (c) {
        case drop_cause::queue_full:
            return "queue full (--max-queued or --max-queued-bytes)";
        case drop_cause::packet_too_large:
            return "above the client's maximum packet size";
        case drop_cause::expired:
            return "message expired";
        case drop_cause::write_buffer:
            return "write buffer full (QoS 0)";
        case drop_cause::retained_limit:
            return "retained store full";
        case drop_cause::not_authorized:
            return "publish not authorised by the ACL";
    }
    return "unknown";
}

}  // namespace

void server_state::note_drop(const std::string& client_id, drop_cause cause, std::uint64_t n) {
    if (n == 0) return;
    drops_by_cause[static_cast<std::size_t>(cause)].fetch_add(n, std::memory_order_relaxed);
    dropped.fetch_add(n, std::memory_order_relaxed);
    auto& e = drop_log_[client_id];
    e.pending += n;
    const auto now = core::clock::now();
    if (now - e.last_log >= drop_log_interval) {
        MQ_LOG(log, log_level::warn, "broker", client_id, "dropped {} message(s), last: {}", e.pending,
               cause_name(cause));
        e.pending = 0;
        e.last_log = now;
    }
}

void server_state::note_drops(const std::string& client_id, const core::drop_counts& d) {
    if (d.total() == 0) return;
    note_drop(client_id, drop_cause::queue_full, d.queue_full);
    note_drop(client_id, drop_cause::packet_too_large, d.packet_too_large);
    note_drop(client_id, drop_cause::expired, d.expired);
    note_drop(client_id, drop_cause::not_authorized, d.not_authorized);
}

void server_state::flush_drop_log(core::time_point now, bool all) {
    for (auto it = drop_log_.begin(); it != drop_log_.end();) {
        auto& e = it->second;
        const bool due = all || now - e.last_log >= drop_log_interval;
        if (e.pending > 0 && due) {
            MQ_LOG(log, log_level::warn, "broker", it->first, "dropped {} message(s)", e.pending);
            e.pending = 0;
            e.last_log = now;
        }
        // Quiet clients are forgotten so the map stays bounded.
        if (e.pending == 0 && now - e.last_log >= drop_log_interval)
            it = drop_log_.erase(it);
        else
            ++it;
    }
}

void server_state::update_congestion(connection& c) {
    const std::size_t q = c.session().queued();
    const std::size_t high = std::max<std::size_t>(session_cfg.max_queued / 2, 1);
    const std::size_t low = session_cfg.max_queued / 4;
    // Bytes count like messages: a live subscriber of large messages holds
    // publishers back before max_queued_bytes makes it drop.
    const std::uint64_t b = c.session().queued_bytes();
    const std::uint64_t high_bytes = std::max<std::uint64_t>(session_cfg.max_queued_bytes / 2, 1);
    const std::uint64_t low_bytes = session_cfg.max_queued_bytes / 4;
    if ((q >= high || b >= high_bytes) && !c.session().closed()) {
        congested.try_emplace(c.id(), c.weak_from_this());
    } else if ((q <= low && b <= low_bytes) || c.session().closed()) {
        if (congested.erase(c.id()) != 0) wake_paused();
    }
}

bool server_state::should_pause(connection& c, core::time_point now) {
    if (congested.empty() || stopping) return false;
    // A subscriber with messages out must keep reading its acknowledgements:
    // paused, its acks would wait unread, it would look stalled and its own
    // queue would overflow (found by the S03 fault test under load).
    if (congested.contains(c.id()) || c.session().inflight() > 0 || c.session().queued() > 0) return false;
    bool pause = false;
    for (auto it = congested.begin(); it != congested.end();) {
        auto sub = it->second.lock();
        if (!sub || sub->session().closed()) {
            it = congested.erase(it);
            continue;
        }
        const auto ack = sub->session().last_progress();
        if (ack && now - *ack < stall_after) pause = true;
        ++it;
    }
    return pause;
}

void server_state::wake_paused() {
    std::vector<std::weak_ptr<connection>> waiting;
    waiting.swap(paused);
    for (auto& w : waiting)
        if (auto c = w.lock()) c->wake_reader();
}

}  // namespace mqtt::net::detail
