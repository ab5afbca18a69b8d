// SPDX-License-Identifier: MIT
// Broker persistence (--persistence-dir): what the engine writes to the
// journal, the replay into live state at start, and compaction. The journal
// file and its thread are in server_journal.cpp, the record format in
// core/store_record. Nothing here runs without a persistence directory.
#include <unordered_set>

#include <boost/asio/post.hpp>

#include <mqtt/core/store_model.hpp>

#include "server_impl.hpp"

namespace mqtt::net::detail {
namespace {

using core::store::record;
using core::store::record_type;

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

/// Steady-clock time of a system-clock arrival stamp (message expiry after a restart).
core::time_point steady_of(std::uint64_t ms, core::time_point now, std::uint64_t wall_now) {
    const auto ago = std::chrono::milliseconds(wall_now > ms ? wall_now - ms : 0);
    return now - ago;
}

record make(record_type t, const std::string& client_id = {}) {
    record r;
    r.type = t;
    r.client_id = client_id;
    return r;
}

bool persisted_topic(std::string_view topic) {
    return topic.empty() || topic.front() != '$';  // $SYS is the broker's own, rebuilt on start
}

}  // namespace

void server_state::open_persistence() {
    if (opts.persistence_dir.empty()) return;
    journal::options jo;
    jo.dir = opts.persistence_dir;
    jo.fsync_always = opts.fsync_always;
    jo.interval = opts.fsync_interval;
    persist = std::make_unique<journal>(jo, log, [this](std::uint64_t seq) {
        asio::post(ioc, [this, seq] {
            const state_lock lk(mu);
            on_journal_durable(seq);
        });
    });
    core::store::model m;
    persist->open([&m](const record& r) { m.apply(r); });
    next_tag = m.max_tag + 1;

    const auto now = core::clock::now();
    const auto wall = now_ms();
    for (auto& [topic, sm] : m.retained) {
        if (!store_retained(sm.msg, steady_of(sm.arrived_ms, now, wall)))
            MQ_LOG(log, log_level::warn, "persist", "", "retained {} not restored: store full", topic);
    }
    std::size_t queued = 0;
    for (auto& [id, ss] : m.sessions) {
        // [MQTT-3.1.2-23] the expiry counts from the disconnect; a session that
        // was online at the crash starts counting now.
        const auto gone = ss.disconnected_ms == 0 || ss.disconnected_ms > wall
                              ? std::chrono::milliseconds(0)
                              : std::chrono::milliseconds(wall - ss.disconnected_ms);
        if (gone >= std::chrono::seconds(ss.expiry)) {
            append_record(make(record_type::session_end, id));
            continue;
        }
        std::vector<core::stored_outbound> items;
        for (auto& [tag, d] : ss.pending) {
            auto mit = m.messages.find(tag);
            core::stored_outbound o;
            o.level = d.level;
            o.retain = d.retain;
            o.subscription_ids = d.sub_ids;
            o.tag = tag;
            o.packet_id = d.packet_id;
            o.released = d.released;
            if (!d.released) {
                if (mit == m.messages.end()) continue;  // body lost with a cut tail: nothing acked it
                o.msg = mit->second.msg;
                if (o.msg->props.get_int(property_id::message_expiry_interval))
                    o.received = steady_of(mit->second.arrived_ms, now, wall);
            }
            items.push_back(std::move(o));
        }
        queued += items.size();
        session_record rec;
        rec.ref = next_ref++;
        rec.username = ss.username;
        rec.journaled = true;
        rec.expiry = ss.expiry;
        rec.expires = now + std::chrono::seconds(ss.expiry) - gone;
        rec.offline = std::make_unique<core::server_session>(session_cfg);
        rec.offline->restore(id, ss.expiry, std::move(items),
                             std::vector<std::uint16_t>(ss.inbound_qos2.begin(), ss.inbound_qos2.end()));
        rec.offline->set_journaled(true);
        for (auto& [filter, o] : ss.subscriptions) {
            if (!router.subscribe(rec.ref, filter, o).ec) rec.subs[filter] = o;
        }
        auto [pos, ok] = sessions.emplace(id, std::move(rec));
        pos->second.key = &pos->first;
        by_ref[pos->second.ref] = &pos->second;
    }
    MQ_LOG(log, log_level::info, "persist", "", "restored {} retained messages, {} sessions, {} queued messages",
           retained.size(), sessions.size(), queued);
}

void server_state::append_record(const core::store::record& r) {
    persist->append(r);
    if (persist_flush_posted) return;
    // One hand-over per turn of the event loop: every record of the packets
    // being processed now shares one write (and one fsync).
    persist_flush_posted = true;
    asio::post(ioc, [this] {
        const state_lock lk(mu);
        persist_flush_posted = false;
        persist->flush();
    });
}

void server_state::on_journal_durable(std::uint64_t seq) {
    persist->set_durable(seq);
    // Each woken writer checks again whether what it waits for is durable.
    std::vector<std::weak_ptr<connection>> w;
    w.swap(persist_waiters);
    for (auto& wp : w)
        if (auto c = wp.lock()) c->wake_writer();
}

void server_state::persist_session(session_record& rec, core::server_session& s, std::uint32_t expiry,
                                   bool online) {
    if (expiry == 0) {
        // Ends with this connection: nothing to keep.
        persist_session_end(rec);
        return;
    }
    rec.journaled = true;
    rec.expiry = expiry;
    s.set_journaled(true);
    record r = make(record_type::session, rec.client_id());
    r.expiry = expiry;
    r.username = rec.username;
    r.time_ms = online ? 0 : now_ms();
    append_record(r);
}

void server_state::persist_session_end(session_record& rec) {
    if (!rec.journaled) return;
    rec.journaled = false;
    rec.subs.clear();
    append_record(make(record_type::session_end, rec.client_id()));
}

void server_state::persist_subscription(session_record& rec, const std::string& filter,
                                        const core::subscriber_options* o) {
    if (!rec.journaled) return;
    record r = make(o ? record_type::subscribe : record_type::unsubscribe, rec.client_id());
    r.text = filter;
    if (o) {
        rec.subs[filter] = *o;
        r.level = o->max_qos;
        r.flags = core::store::pack_options(*o);
        r.sub_id = o->subscription_id.value_or(0);
    } else {
        rec.subs.erase(filter);
    }
    append_record(r);
}

void server_state::persist_retained(const std::shared_ptr<const mqtt::publish>& msg) {
    if (!persisted_topic(msg->topic)) return;
    record r = make(record_type::retained);
    r.msg = msg;
    r.time_ms = now_ms();
    append_record(r);
}

std::uint64_t server_state::persist_delivery(session_record& rec, const std::shared_ptr<const mqtt::publish>& msg,
                                             std::uint64_t& tag, qos level, bool retain,
                                             const std::vector<std::uint32_t>& sub_ids) {
    if (!rec.journaled || level == qos::at_most_once || !persisted_topic(msg->topic)) return 0;
    if (tag == 0) {
        // The body once per routed message, then one small record per session.
        tag = next_tag++;
        record m = make(record_type::message);
        m.msg = msg;
        m.tag = tag;
        m.time_ms = now_ms();
        append_record(m);
    }
    record e = make(record_type::enqueue, rec.client_id());
    e.tag = tag;
    e.level = level;
    e.flags = retain ? 1 : 0;
    e.sub_ids = sub_ids;
    append_record(e);
    // A QoS 2 delivery waits for its `sent` record (reported by the session),
    // which comes after this one; a QoS 1 delivery waits for nothing.
    return tag;
}

void server_state::persist_events(const std::string& client_id, core::server_session& s) {
    using k = core::session_event::kind;
    for (const auto& ev : s.take_events()) {
        record r = make(record_type::done, client_id);
        r.tag = ev.tag;
        r.packet_id = ev.packet_id;
        switch (ev.what) {
            case k::sent: r.type = record_type::sent; break;
            case k::released: r.type = record_type::released; break;
            case k::done: r.type = record_type::done; break;
            case k::inbound_add: r.type = record_type::inbound_add; break;
            case k::inbound_del: r.type = record_type::inbound_del; break;
        }
        append_record(r);
    }
}

std::vector<std::uint8_t> server_state::persist_snapshot() {
    // The live state as records: retained messages, then each persistent
    // session with its subscriptions, messages and inbound QoS 2 ids. Replayed
    // alone it rebuilds what replaying the whole log would.
    std::vector<std::uint8_t> out;
    const auto add = [&out](const record& r) { core::store::encode_record(r, out); };
    const auto wall = now_ms();
    const auto now = core::clock::now();
    std::vector<std::shared_ptr<const mqtt::publish>> all;
    retained.match("#", all);
    for (const auto& m : all) {
        if (!persisted_topic(m->topic)) continue;
        record r = make(record_type::retained);
        r.msg = m;
        r.time_ms = wall;
        if (auto it = retained_received.find(m->topic); it != retained_received.end())
            r.time_ms = wall - static_cast<std::uint64_t>(
                                   std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second).count());
        add(r);
    }
    std::unordered_set<std::uint64_t> bodies;
    std::vector<core::stored_outbound> items;
    std::vector<std::uint16_t> inbound;
    for (auto& [id, rec] : sessions) {
        if (!rec.journaled) continue;
        core::server_session* s = rec.conn ? &rec.conn->session() : rec.offline.get();
        if (!s) continue;
        record sr = make(record_type::session, id);
        sr.expiry = rec.expiry;
        sr.username = rec.username;
        if (!rec.conn) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(rec.expires - now).count();
            // disconnected at = expiry end - interval, in wall-clock time
            sr.time_ms = wall + static_cast<std::uint64_t>(std::max<std::int64_t>(left, 0)) -
                         std::uint64_t{sr.expiry} * 1000u;
        }
        add(sr);
        for (const auto& [filter, o] : rec.subs) {
            record b = make(record_type::subscribe, id);
            b.text = filter;
            b.level = o.max_qos;
            b.flags = core::store::pack_options(o);
            b.sub_id = o.subscription_id.value_or(0);
            add(b);
        }
        items.clear();
        inbound.clear();
        s->export_state(items, inbound);
        for (const auto& o : items) {
            if (o.msg && bodies.insert(o.tag).second) {
                record m = make(record_type::message);
                m.msg = o.msg;
                m.tag = o.tag;
                m.time_ms = wall;
                if (o.received)
                    m.time_ms = wall - static_cast<std::uint64_t>(
                                           std::chrono::duration_cast<std::chrono::milliseconds>(now - *o.received)
                                               .count());
                add(m);
            }
            record e = make(record_type::enqueue, id);
            e.tag = o.tag;
            e.level = o.level;
            e.flags = o.retain ? 1 : 0;
            e.sub_ids = o.subscription_ids;
            add(e);
            if (o.packet_id != 0) {
                record r = make(record_type::sent, id);
                r.tag = o.tag;
                r.packet_id = o.packet_id;
                add(r);
            }
            if (o.released) {
                record r = make(record_type::released, id);
                r.tag = o.tag;
                add(r);
            }
        }
        for (auto pid : inbound) {
            record r = make(record_type::inbound_add, id);
            r.packet_id = pid;
            add(r);
        }
    }
    return out;
}

void server_state::maybe_compact() {
    if (!persist || persist->compacting()) return;
    const auto size = persist->file_bytes();
    if (size < opts.compact_bytes || size < 2 * last_snapshot_bytes) return;
    auto snap = persist_snapshot();
    last_snapshot_bytes = snap.size();
    MQ_LOG(log, log_level::debug, "persist", "", "compacting: journal {} bytes, snapshot {} bytes", size,
           snap.size());
    persist->compact(std::move(snap));
}

}  // namespace mqtt::net::detail
