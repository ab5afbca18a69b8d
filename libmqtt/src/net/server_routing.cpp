// SPDX-License-Identifier: MIT
// Broker engine: session lookup (resume, takeover, expiry), subscriptions,
// retained messages and routing. Runs on the worker thread only.
#include <algorithm>

#include <mqtt/codec/topic.hpp>

#include "server_impl.hpp"

namespace mqtt::net::detail {

void server_state::attach_session(connection& c, const core::connect_request& req) {
    auto& s = c.session();
    const auto now = core::clock::now();
    if (stopping) {
        s.reject(reason::server_unavailable);
        return;
    }
    const auto files = auth.get();
    if (const core::acl* acl = files->acl.get()) {
        // hardening J06: a Will the client may not write refuses the CONNECT.
        if (req.will_topic && !acl->may_write(c.subject(), *req.will_topic)) {
            MQ_LOG(log, log_level::info, "broker", req.client_id, "refused: Will topic not authorised");
            s.reject(reason::not_authorized);  // 0x87 (3.1.1: 0x05)
            return;
        }
    }
    // Write access is looked up per PUBLISH, so a reload applies at once.
    if (!opts.acl_file.empty()) {
        s.set_publish_check([this, conn = &c](std::string_view topic) {
            const auto f = auth.get();
            return !f->acl || f->acl->may_write(conn->subject(), topic);
        });
    }
    // `conns` includes this connection.
    if (conns.size() > opts.limits.max_connections) {
        s.reject(reason::server_busy);  // 0x89 (3.1.1: 0x03)
        return;
    }
    // A Will still waiting out its delay is dropped when the client resumes its
    // session, and published now when a clean start ends that session.
    settle_will(req.client_id, req.clean_start);
    // Housekeeping expires sessions once a second; a CONNECT only needs its own
    // session to be current (a scan of all of them per CONNECT made 10,000
    // connects quadratic), and a full scan when the table looks full.
    auto it = sessions.find(req.client_id);
    if (it != sessions.end() && session_expired(it->second, now)) {
        erase_session(it);
        it = sessions.end();
    }
    if (it == sessions.end() && sessions.size() >= opts.limits.max_sessions) expire_sessions(now);
    if (it == sessions.end() && sessions.size() >= opts.limits.max_sessions) {
        s.reject(reason::quota_exceeded);  // 0x97 (3.1.1: 0x03)
        return;
    }
    bool present = false;
    if (it != sessions.end()) {
        session_record& rec = it->second;
        connection* old = rec.conn;
        // The record belongs to the new connection before the old one is told,
        // so the old connection's close does not touch it.
        rec.conn = &c;
        if (!req.clean_start) {
            if (old) {
                s.resume(std::move(old->session()));
                present = true;
            } else if (rec.offline) {
                s.resume(std::move(*rec.offline));
                present = true;
            }
        } else {
            // [MQTT-3.1.2-4] clean start discards the old session.
            router.unsubscribe_all(rec.ref);
            if (persist) persist_session_end(rec);
            if (old)
                return_shared(rec.ref, old->session());
            else if (rec.offline)
                return_shared(rec.ref, *rec.offline);
        }
        rec.offline.reset();
        if (old) {
            // [MQTT-3.1.4-3] session takeover: the old connection gets 0x8E and is closed.
            old->attached = false;
            MQ_LOG(log, log_level::info, "broker", req.client_id, "session taken over");
            old->kick(reason::session_taken_over, true);
            // A delayed Will the kick just scheduled follows the rule above
            // [MQTT-3.1.3-9]: this new connection came within the delay, so a
            // resumed session drops it and a clean start, which ends the old
            // session, publishes it now. (With one worker the old socket's EOF
            // is usually read first; across workers the CONNECT can win.)
            settle_will(req.client_id, req.clean_start);
        }
        c.ref = rec.ref;
    } else {
        session_record rec;
        rec.ref = next_ref++;
        rec.conn = &c;
        auto [pos, ok] = sessions.emplace(req.client_id, std::move(rec));
        pos->second.key = &pos->first;
        by_ref[pos->second.ref] = &pos->second;
        c.ref = pos->second.ref;
    }
    session_record& current = sessions.find(req.client_id)->second;
    current.username = c.username;
    // [MQTT-3.1.2-4] [MQTT-3.1.2-23] a session with an expiry interval is
    // state to keep: in the journal before the CONNACK goes out.
    if (persist) persist_session(current, s, req.session_expiry, true);
    if (present) {
        if (const core::acl* acl = files->acl.get()) {
            const auto who = c.subject();
            s.discard_queued([acl, &who](std::string_view topic) { return acl->may_read(who, topic); });
        }
    }
    c.attached = true;
    MQ_LOG(log, log_level::info, "broker", req.client_id, "connected (v{}, clean {}, present {})",
           static_cast<int>(s.version()), req.clean_start, present);
    s.accept(present, now, s.wants_response_information() ? response_information_for(req.client_id) : std::string());
}

std::string server_state::response_information_for(const std::string& client_id) const {
    // Client ids never hold '+' or '#' (0x85), so the prefix is a valid topic
    // name start; one above the string limit is not offered.
    std::string out;
    const std::string& t = opts.response_information;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '%' && i + 1 < t.size() && t[i + 1] == 'c') {
            out += client_id;
            ++i;
        } else {
            out.push_back(t[i]);
        }
    }
    if (out.size() > opts.limits.max_string_length) out.clear();
    return out;
}

void server_state::on_session_closed(connection& c) {
    if (!c.attached) return;
    c.attached = false;
    auto it = sessions.find(c.session().client_id());
    if (it == sessions.end() || it->second.conn != &c) return;
    session_record& rec = it->second;
    rec.conn = nullptr;
    const std::uint32_t expiry = c.session().session_expiry();
    MQ_LOG(log, log_level::info, "broker", rec.client_id(), "disconnected");
    if (persist && rec.journaled) {
        // The expiry counts from now, and DISCONNECT may have changed it [MQTT-3.14.2-2].
        persist_session(rec, c.session(), expiry, false);
        // Shutdown: the journal keeps the session for the next start.
        if (stopping) rec.journaled = false;
    }
    if (expiry == 0 || stopping) {
        const core::session_ref ref = rec.ref;
        drop_session(rec);  // `rec` is gone
        return_shared(ref, c.session());
        return;
    }
    // Keep the persistent state in a detached session object until it expires.
    rec.offline = std::make_unique<core::server_session>(session_cfg);
    rec.offline->resume(std::move(c.session()));
    rec.offline->set_journaled(rec.journaled);
    rec.expires = core::clock::now() + std::chrono::seconds(expiry);
}

void server_state::drop_session(session_record& rec) {
    if (persist) persist_session_end(rec);
    router.unsubscribe_all(rec.ref);
    by_ref.erase(rec.ref);
    const std::string key = rec.client_id();
    sessions.erase(key);
}

bool server_state::session_expired(const session_record& rec, core::time_point now) const noexcept {
    return !rec.conn && rec.offline && rec.expires <= now;
}

void server_state::erase_session(session_map::iterator it) {
    // [MQTT-3.1.2-23] the session state is discarded after the expiry interval.
    if (persist) persist_session_end(it->second);
    const core::session_ref ref = it->second.ref;
    router.unsubscribe_all(ref);
    by_ref.erase(ref);
    auto ending = std::move(it->second.offline);
    sessions.erase(it);
    if (ending) return_shared(ref, *ending);
}

void server_state::expire_sessions(core::time_point now) {
    // Ids first: handing an ended session's shared messages to other members
    // runs their connections, which may end sessions and move iterators.
    std::vector<std::string> ended;
    for (const auto& [id, rec] : sessions)
        if (session_expired(rec, now)) ended.push_back(id);
    for (const auto& id : ended) {
        const auto it = sessions.find(id);
        if (it != sessions.end() && session_expired(it->second, now)) erase_session(it);
    }
}

void server_state::on_subscribe(connection& c, const core::subscribe_request& req) {
    auto& s = c.session();
    const bool v5 = s.version() == protocol_version::v5;
    std::vector<reason> codes;
    codes.reserve(req.entries.size());
    std::vector<bool> send_retained(req.entries.size(), false);
    const auto files = auth.get();
    const core::acl* acl = files->acl.get();
    const core::acl_subject who = c.subject();
    for (std::size_t i = 0; i < req.entries.size(); ++i) {
        const auto& e = req.entries[i];
        core::subscriber_options o;
        o.max_qos = e.max_qos;
        o.no_local = v5 && e.no_local;
        o.retain_as_published = v5 && e.retain_as_published;
        o.retain_handling = v5 ? e.retain_handling : 0;
        o.subscription_id = req.subscription_id;
        auto check = check_topic_filter(e.filter, opts.limits.max_topic_levels);
        if (check || e.filter.size() > opts.limits.max_topic_length) {
            codes.push_back(reason::topic_filter_invalid);  // 0x8F (3.1.1: 0x80)
            continue;
        }
        if (acl && !acl->may_subscribe(who, e.filter)) {
            // hardening J05: 0x87 (3.1.1: 0x80) [MQTT-3.9.3-1]; other filters still granted.
            codes.push_back(reason::not_authorized);
            continue;
        }
        // hardening D07: a new filter beyond --max-subscriptions is refused
        // with Quota exceeded (3.1.1: 0x80); replacing an existing one is not new.
        if (router.subscription_count(c.ref) >= opts.limits.max_subscriptions &&
            !router.has_subscription(c.ref, e.filter)) {
            codes.push_back(reason::quota_exceeded);
            continue;
        }
        const auto res = router.subscribe(c.ref, e.filter, o);
        if (res.ec) {
            codes.push_back(reason_of(res.ec) == reason::unspecified_error ? reason::topic_filter_invalid
                                                                           : reason_of(res.ec));
            continue;
        }
        if (persist) {
            if (auto rit = by_ref.find(c.ref); rit != by_ref.end()) persist_subscription(*rit->second, e.filter, &o);
        }
        // [MQTT-3.9.3-?] granted QoS; this broker supports QoS 2.
        codes.push_back(static_cast<reason>(static_cast<std::uint8_t>(e.max_qos)));
        std::error_code share_ec;
        const bool shared = parse_shared(e.filter, share_ec).has_value();
        // [MQTT-3.3.1-9] retained messages on subscribe; Retain Handling 1: only
        // for a new subscription, 2: never [MQTT-3.3.1-10] [MQTT-3.3.1-11].
        // Shared subscriptions get no retained messages [MQTT-4.8.2-?].
        send_retained[i] = !shared && (o.retain_handling == 0 || (o.retain_handling == 1 && !res.existed));
    }
    s.complete_subscribe(req.packet_id, std::move(codes));
    c.apply_actions();
    const auto now = core::clock::now();
    std::vector<std::shared_ptr<const mqtt::publish>> matches;
    for (std::size_t i = 0; i < req.entries.size(); ++i) {
        if (!send_retained[i]) continue;
        matches.clear();
        retained.match(req.entries[i].filter, matches);
        for (auto& m : matches) {
            // Read access is checked at delivery, retained included (hardening J07).
            if (acl && !acl->may_read(who, m->topic)) continue;
            std::optional<core::time_point> arrived;
            if (auto rt = retained_received.find(m->topic); rt != retained_received.end()) {
                const auto interval = m->props.get_int(property_id::message_expiry_interval);
                if (interval && now - rt->second >= std::chrono::seconds(*interval)) {
                    // [MQTT-3.3.2-5] expired: not sent to the new subscriber, and removed.
                    retained.erase(m->topic);
                    retained_received.erase(rt);
                    continue;
                }
                arrived = rt->second;
            }
            const qos level = std::min(m->level, req.entries[i].max_qos);
            std::vector<std::uint32_t> ids;
            if (req.subscription_id) ids.push_back(*req.subscription_id);
            // Streamed at the client's pace, none dropped for max_queued (D09).
            s.deliver_retained(m, level, std::move(ids), now, arrived);
            c.apply_actions();  // counts drops
        }
    }
}

bool server_state::store_retained(const std::shared_ptr<const mqtt::publish>& msg, core::time_point now) {
    if (!retained.set(msg)) return false;
    if (!msg->payload.empty() && msg->props.get_int(property_id::message_expiry_interval))
        retained_received[msg->topic] = now;
    else
        retained_received.erase(msg->topic);
    return true;
}

void server_state::expire_retained(core::time_point now) {
    std::vector<std::shared_ptr<const mqtt::publish>> found;
    for (auto it = retained_received.begin(); it != retained_received.end();) {
        found.clear();
        retained.match(it->first, found);  // a topic name is a filter matching only itself
        const auto interval = found.empty() ? std::nullopt
                                            : found.front()->props.get_int(property_id::message_expiry_interval);
        if (!interval || now - it->second >= std::chrono::seconds(*interval)) {
            if (interval) retained.erase(it->first);
            it = retained_received.erase(it);
        } else {
            ++it;
        }
    }
}

void server_state::on_unsubscribe(connection& c, const core::unsubscribe_request& req) {
    std::vector<reason> codes;
    codes.reserve(req.filters.size());
    for (const auto& f : req.filters) {
        // [MQTT-3.11.3-1] 0x11 when nothing was subscribed.
        const bool had = router.unsubscribe(c.ref, f);
        codes.push_back(had ? reason::success : reason::no_subscription_existed);
        if (had && persist) {
            if (auto rit = by_ref.find(c.ref); rit != by_ref.end()) persist_subscription(*rit->second, f, nullptr);
        }
    }
    c.session().complete_unsubscribe(req.packet_id, std::move(codes));
}

server_state::route_result server_state::route(core::session_ref from, const std::shared_ptr<const mqtt::publish>& msg,
                                               bool count) {
    if (persist && persist->failing() && (msg->retain || msg->level != qos::at_most_once) && count) {
        // hardening S15: what cannot be stored is not accepted (the caller
        // answers 0x80, or closes a 3.1.1 connection); QoS 0 still flows.
        const auto now = core::clock::now();
        if (now - last_refusal_log >= std::chrono::seconds(1)) {
            last_refusal_log = now;
            MQ_LOG(log, log_level::error, "persist", "", "journal not writable: PUBLISH to {} refused", msg->topic);
        }
        return route_result::refused;
    }
    if (count) received.fetch_add(1, std::memory_order_relaxed);
    if (msg->retain) {
        // [MQTT-3.3.1-5] store (or with an empty payload delete [MQTT-3.3.1-6]).
        if (!store_retained(msg, core::clock::now())) {
            const auto* rec = by_ref.count(from) ? by_ref[from] : nullptr;
            note_drop(rec ? rec->client_id() : std::string(), drop_cause::retained_limit);
        } else if (persist) {
            persist_retained(msg);
        }
    }
    // Deliveries may re-enter route() (a Will published on a kick), so take the
    // scratch vector instead of iterating the member.
    std::vector<core::delivery> ds;
    ds.swap(deliveries);
    ds.clear();
    router.route(msg->topic, from, msg->level, ds);
    publish_cache cache;
    std::uint64_t tag = 0;  // the message's journal identity, once a journaled session takes it
    const auto now = core::clock::now();
    const auto files = auth.get();
    // A subscriber counts once the message is handed to its session, even if
    // the session then drops it (queue policy, packet size): it matched.
    bool matched = false;
    for (auto& d : ds) {
        if (hand_to(d, msg, files->acl.get(), cache, tag, now, std::nullopt)) {
            matched = true;
        } else if (d.shared && d.share) {
            // The group's pick may not read the topic: the message goes to a
            // member that may (spec 4.8.2 leaves the choice to the Server), and
            // is lost, counted, only when none may.
            bool refused = false;
            auto alt = pick_reader(*d.share, d.session, *msg, files->acl.get(), refused);
            if (alt && hand_to(*alt, msg, files->acl.get(), cache, tag, now, std::nullopt))
                matched = true;
            else if (files->acl)  // the pick was refused, and so was every other member
                note_drop(*d.share, drop_cause::not_authorized);
        }
    }
    ds.clear();
    if (deliveries.capacity() < ds.capacity()) deliveries.swap(ds);
    return matched ? route_result::delivered : route_result::no_subscribers;
}

bool server_state::hand_to(core::delivery& d, const std::shared_ptr<const mqtt::publish>& msg, const core::acl* acl,
                           publish_cache& cache, std::uint64_t& tag, core::time_point now,
                           std::optional<core::time_point> arrived) {
    auto rit = by_ref.find(d.session);
    if (rit == by_ref.end()) return false;
    session_record& rec = *rit->second;
    // Read access on every delivery, so an ACL reload applies at once (hardening J07).
    if (acl &&
        !acl->may_read({rec.username ? std::optional<std::string_view>(*rec.username) : std::nullopt, rec.client_id()},
                       msg->topic))
        return false;
    // [MQTT-3.3.1-12] RETAIN is kept only with Retain As Published (v5).
    const bool retain = msg->retain && d.retain_as_published;
    // [MQTT-4.3.2-2] [MQTT-4.3.3-2] a QoS 1/2 message for a persistent
    // session is journaled before the publisher's ack can go out.
    const std::uint64_t my_tag =
        persist && rec.journaled ? persist_delivery(rec, msg, tag, d.level, retain, d.subscription_ids) : 0;
    if (rec.conn) {
        if (rec.conn->session().deliver(msg, d.level, retain, std::move(d.subscription_ids), now, arrived, my_tag,
                                        std::move(d.share)))
            sent.fetch_add(1, std::memory_order_relaxed);
        rec.conn->apply_actions(&cache);  // counts drops
        update_congestion(*rec.conn);
    } else if (rec.offline) {
        rec.offline->deliver(msg, d.level, retain, std::move(d.subscription_ids), now, arrived, my_tag,
                             std::move(d.share));
        note_drops(rec.client_id(), rec.offline->take_drops());
        if (my_tag != 0) persist_events(rec.client_id(), *rec.offline);
    }
    return true;
}

void server_state::return_shared(core::session_ref from, core::server_session& ending) {
    // Spec 4.8.2: what a shared subscription gave a member whose session ends
    // unfinished goes to another member of the group, in the order it was owed.
    // A member whose session outlives its connection keeps its messages until
    // then (the spec lets the Server wait for it) and gets them again with DUP.
    auto items = ending.take_shared_unfinished();
    (void)ending.take_events();  // the ending session's journal record goes as a whole
    if (items.empty() || stopping) return;
    const auto now = core::clock::now();
    const auto files = auth.get();
    for (auto& it : items) {
        bool refused = false;
        auto d = pick_reader(*it.share, from, *it.msg, files->acl.get(), refused);
        if (!d) {
            if (refused) {
                note_drop(*it.share, drop_cause::not_authorized);  // no member may read it
            } else {
                MQ_LOG(log, log_level::debug, "broker", "", "no other member of {} for a message on {}",
                       *it.share, it.msg->topic);
            }
            continue;
        }
        publish_cache cache;
        std::uint64_t tag = 0;
        (void)hand_to(*d, it.msg, files->acl.get(), cache, tag, now, it.received);
    }
}

std::optional<core::delivery> server_state::pick_reader(const std::string& share, core::session_ref excluded,
                                                       const mqtt::publish& msg, const core::acl* acl,
                                                       bool& refused) {
    refused = false;
    auto d = router.pick_shared(share, excluded, msg.level, [&](core::session_ref s) {
        const auto rit = by_ref.find(s);
        if (rit == by_ref.end()) return false;
        const session_record& rec = *rit->second;
        // Read access as hand_to() checks it (hardening J05, J07).
        const bool ok =
            !acl || acl->may_read({rec.username ? std::optional<std::string_view>(*rec.username) : std::nullopt,
                                   rec.client_id()},
                                  msg.topic);
        refused = refused || !ok;
        return ok;
    });
    if (d) refused = false;
    return d;
}

}  // namespace mqtt::net::detail
