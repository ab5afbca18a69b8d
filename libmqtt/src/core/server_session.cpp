// SPDX-License-Identifier: MIT
// server_session: packet dispatch, keepalive, close handling. CONNECT lives in
// server_session_connect.cpp, the QoS flows in server_session_qos.cpp.
#include <mqtt/core/server_session.hpp>

#include <algorithm>
#include <utility>

namespace mqtt::core {

server_session::server_session(server_session_config cfg) : cfg_(cfg) {}

std::vector<server_action> server_session::take_actions() {
    std::vector<server_action> out;
    out.swap(actions_);
    return out;
}

void server_session::on_packet(mqtt::packet pkt, time_point now) {
    if (state_ == state::closed) return;
    now_ = std::max(now_, now);
    if (state_ == state::awaiting_connect) {
        if (auto* c = std::get_if<mqtt::connect>(&pkt)) {
            handle_connect(*c, now);
        } else {
            // [MQTT-3.1.0-1] the first packet must be CONNECT: close, send nothing.
            close_with(reason::protocol_error, false, false);
        }
        return;
    }
    // Any packet from the client restarts the keepalive timer [MQTT-3.1.2-22].
    if (keep_alive_ != 0)
        keepalive_deadline_ = now + std::chrono::milliseconds(std::uint64_t{keep_alive_} * 1500u);

    switch (type_of(pkt)) {
        case packet_type::connect:
            protocol_violation(reason::protocol_error);  // [MQTT-3.1.0-2] second CONNECT
            return;
        case packet_type::publish:
            handle_publish(std::get<mqtt::publish>(pkt));
            return;
        case packet_type::puback:
            last_progress_ = now;
            handle_puback(std::get<mqtt::puback>(pkt).packet_id);
            return;
        case packet_type::pubrec:
            last_progress_ = now;
            handle_pubrec(std::get<mqtt::pubrec>(pkt));
            return;
        case packet_type::pubrel:
            handle_pubrel(std::get<mqtt::pubrel>(pkt).packet_id);
            return;
        case packet_type::pubcomp:
            last_progress_ = now;
            handle_pubcomp(std::get<mqtt::pubcomp>(pkt).packet_id);
            return;
        case packet_type::subscribe: {
            auto& s = std::get<mqtt::subscribe>(pkt);
            // Decoded without the string limit so long filters get SUBACK 0x8F; the
            // other strings still obey it (hardening §1.1: 0x83).
            for (const auto& [key, value] : s.props.user_properties()) {
                if (key.size() > cfg_.max_string_length || value.size() > cfg_.max_string_length) {
                    protocol_violation(reason::implementation_specific_error);
                    return;
                }
            }
            subscribe_request req{s.packet_id, std::move(s.entries), std::nullopt};
            if (auto id = s.props.get_int(property_id::subscription_identifier)) req.subscription_id = *id;
            actions_.emplace_back(std::move(req));
            return;
        }
        case packet_type::unsubscribe: {
            auto& u = std::get<mqtt::unsubscribe>(pkt);
            actions_.emplace_back(unsubscribe_request{u.packet_id, std::move(u.filters)});
            return;
        }
        case packet_type::pingreq:
            emit(mqtt::pingresp{});
            return;  // [MQTT-3.12.4-1]
        case packet_type::disconnect:
            handle_disconnect(std::get<mqtt::disconnect>(pkt));
            return;
        case packet_type::auth:
            // No Authentication Method was accepted, so AUTH is out of place [MQTT-4.12.0-1].
            protocol_violation(reason::protocol_error);
            return;
        case packet_type::connack:
        case packet_type::suback:
        case packet_type::unsuback:
        case packet_type::pingresp:
        case packet_type::reserved:
            // Packets only a server sends (hardening A13).
            protocol_violation(reason::protocol_error);
            return;
    }
}

void server_session::on_decode_error(std::error_code ec, std::optional<std::uint8_t> connect_level,
                                     time_point) {
    if (state_ == state::closed) return;
    const reason why = reason_of(ec);
    if (state_ != state::awaiting_connect) {
        // A second CONNECT is a protocol error whatever it holds [MQTT-3.1.0-2];
        // its version or protocol-name codes (0x84) are CONNACK-only, never
        // valid in DISCONNECT (hardening B01).
        const bool connect_only = ec == codec_error::unsupported_protocol_version ||
                                  ec == codec_error::bad_protocol_name;
        protocol_violation(connect_only ? reason::protocol_error : why);
        return;
    }
    // Before CONNECT is decoded the version is only known from the peeked level.
    if (ec == codec_error::bad_protocol_name || !connect_level) {
        close_with(why, false, false);
        return;
    }
    if (ec == codec_error::unsupported_protocol_version) {
        // [MQTT-3.1.2-2] 0x01 in 3.1.1 format for old levels, 0x84 for newer ones.
        version_ = *connect_level > 5 ? protocol_version::v5 : protocol_version::v311;
        emit(mqtt::connack{false, reason::unsupported_protocol_version, {}});
        close_with(why, false, false);
        return;
    }
    if (*connect_level == 5) {
        version_ = protocol_version::v5;
        emit(mqtt::connack{false, why, {}});
    }
    // 3.1.1 has no CONNACK code for malformed packets: just close.
    close_with(why, false, false);
}

void server_session::on_connection_lost(time_point) {
    if (state_ == state::closed) return;
    // Abnormal close: the Will is published [MQTT-3.1.2-8].
    close_with(reason::unspecified_error, false, state_ == state::connected);
}

void server_session::on_tick(time_point now) {
    if (state_ != state::connected || !keepalive_deadline_) return;
    if (now >= *keepalive_deadline_) {
        // [MQTT-3.1.2-22] silence beyond 1.5x keepalive: close and publish the Will.
        close_with(reason::keep_alive_timeout, true, true);
    }
}

std::optional<time_point> server_session::next_deadline() const {
    if (state_ != state::connected) return std::nullopt;
    return keepalive_deadline_;
}

void server_session::disconnect(reason why, bool publish_will) {
    if (state_ == state::closed) return;
    close_with(why, true, publish_will);
}

void server_session::protocol_violation(reason why) {
    close_with(why, true, true);
}

void server_session::close_with(reason why, bool send_disconnect, bool publish_will) {
    if (state_ == state::closed) return;
    // v5 DISCONNECT from the server carries the reason [MQTT-3.14.2-1]; 3.1.1 just closes.
    if (send_disconnect && state_ == state::connected && version_ == protocol_version::v5)
        emit(mqtt::disconnect{why, {}});
    close_connection c;
    c.why = why;
    if (publish_will && state_ == state::connected) {
        c.will = std::move(will_);
        c.will_delay = std::min(will_delay_, session_expiry_);
    }
    will_.reset();
    state_ = state::closed;
    keepalive_deadline_.reset();
    actions_.emplace_back(std::move(c));
}

void server_session::handle_disconnect(const mqtt::disconnect& d) {
    if (version_ == protocol_version::v5) {
        if (auto e = d.props.get_int(property_id::session_expiry_interval)) {
            // [MQTT-3.14.2-2] a session created with expiry 0 cannot be given one now.
            if (session_expiry_ == 0 && *e != 0) {
                protocol_violation(reason::protocol_error);
                return;
            }
            session_expiry_ = std::min(*e, cfg_.max_session_expiry);
        }
    }
    // [MQTT-3.14.4-3] a normal DISCONNECT discards the Will; 0x04 publishes it.
    const bool with_will =
        version_ == protocol_version::v5 && d.reason_code == reason::disconnect_with_will_message;
    close_connection c;
    c.why = d.reason_code;
    c.client_disconnect = true;
    if (with_will) {
        c.will = std::move(will_);
        c.will_delay = std::min(will_delay_, session_expiry_);
    }
    will_.reset();
    state_ = state::closed;
    keepalive_deadline_.reset();
    actions_.emplace_back(std::move(c));
}

void server_session::accept(bool session_present, time_point now, std::string_view response_information) {
    if (state_ != state::connecting) return;
    now_ = std::max(now_, now);
    mqtt::connack ack;
    // [MQTT-3.2.2-2] session present only for a resumed session (never with clean start).
    ack.session_present = session_present;
    ack.reason_code = reason::success;
    if (version_ == protocol_version::v5) {
        auto& p = ack.props;
        if (cfg_.receive_maximum != 65'535) p.set_int(property_id::receive_maximum, cfg_.receive_maximum);
        p.set_int(property_id::maximum_packet_size, cfg_.max_packet_size);
        if (cfg_.topic_alias_maximum != 0)
            p.set_int(property_id::topic_alias_maximum, cfg_.topic_alias_maximum);
        if (assigned_id_) p.set_string(property_id::assigned_client_identifier, client_id_);
        if (keep_alive_lowered_) p.set_int(property_id::server_keep_alive, keep_alive_);
        if (session_expiry_lowered_) p.set_int(property_id::session_expiry_interval, session_expiry_);
        // [MQTT-3.1.2-28] never unless asked; asked, the Server MAY (3.2.2.3.15).
        if (request_response_info_ && !response_information.empty())
            p.set_string(property_id::response_information, std::string(response_information));
    }
    emit(std::move(ack));
    state_ = state::connected;
    if (keep_alive_ != 0)
        keepalive_deadline_ = now + std::chrono::milliseconds(std::uint64_t{keep_alive_} * 1500u);
    // [MQTT-4.4.0-1] resend unacknowledged PUBLISH (DUP set) and PUBREL in order.
    for (auto& o : inflight_) {
        if (o.released)
            emit(mqtt::pubrel{o.packet_id, reason::success, {}});
        else
            send_outbound(o, true);
    }
    pump_queue();
}

void server_session::reject(reason why) {
    if (state_ != state::connecting) return;
    emit(mqtt::connack{false, why, {}});
    close_with(why, false, false);
}

void server_session::resume(server_session&& old) {
    inflight_ = std::move(old.inflight_);
    queue_ = std::move(old.queue_);
    queued_bytes_ = std::exchange(old.queued_bytes_, 0);
    backlog_ = std::move(old.backlog_);
    inbound_qos2_ = std::move(old.inbound_qos2_);
    ids_ = old.ids_;
    dropped_ += old.dropped_;
    new_drops_ += old.new_drops_;
    old.new_drops_ = {};
    old.inflight_.clear();
    old.queue_.clear();
    old.backlog_.clear();
    old.inbound_qos2_.clear();
    old.ids_.clear();
}

std::size_t server_session::discard_queued(const std::function<bool(std::string_view topic)>& may_read) {
    const auto before = queue_.size() + backlog_.size();
    const auto refused = [&](const outbound& o) {
        const bool out = !o.msg || !may_read(o.msg->topic);
        if (out) note(session_event::kind::done, o.tag, 0);
        return out;
    };
    erase_if(queue_, refused);
    erase_if(backlog_, refused);
    queued_bytes_ = 0;
    for (const auto& o : queue_) queued_bytes_ += queued_weight(o);
    const auto removed = before - queue_.size() - backlog_.size();
    for (std::size_t i = 0; i < removed; ++i) count_drop(&drop_counts::not_authorized);
    return removed;
}

void server_session::complete_subscribe(std::uint16_t packet_id, std::vector<reason> codes) {
    if (state_ != state::connected) return;
    emit(mqtt::suback{packet_id, std::move(codes), {}});
}

void server_session::complete_unsubscribe(std::uint16_t packet_id, std::vector<reason> codes) {
    if (state_ != state::connected) return;
    if (version_ == protocol_version::v311) codes.clear();
    emit(mqtt::unsuback{packet_id, std::move(codes), {}});
}

}  // namespace mqtt::core

namespace mqtt::core {

void server_session::export_state(std::vector<stored_outbound>& out, std::vector<std::uint16_t>& inbound_qos2) const {
    // Only tagged messages are in the journal; the retained backlog is
    // re-derived from the retained store by a new SUBSCRIBE, not persisted.
    for (const auto* q : {&inflight_, &queue_}) {
        for (const auto& o : *q) {
            if (o.tag == 0) continue;
            out.push_back({o.msg, o.level, o.retain, o.subscription_ids, o.tag, o.packet_id, o.released, o.received});
        }
    }
    inbound_qos2.insert(inbound_qos2.end(), inbound_qos2_.begin(), inbound_qos2_.end());
}

void server_session::restore(std::string client_id, std::uint32_t session_expiry, std::vector<stored_outbound> items,
                             const std::vector<std::uint16_t>& inbound_qos2) {
    client_id_ = std::move(client_id);
    session_expiry_ = session_expiry;
    state_ = state::closed;  // offline until a connection resumes it
    for (auto& s : items) {
        // The journal does not keep which shared subscription a message came
        // through: after a restart it stays with this session (mq-broker(1)).
        outbound o{std::move(s.msg), s.level, s.retain, std::move(s.subscription_ids), 0, s.released, s.received,
                   s.tag, nullptr};
        // [MQTT-4.4.0-1] in-flight messages keep their packet id, so a resend
        // with DUP (or the PUBREL) matches what the client already holds.
        if (s.packet_id != 0 && ids_.reserve(s.packet_id)) {
            o.packet_id = s.packet_id;
            inflight_.push_back(std::move(o));
        } else if (o.msg && !o.released) {
            // Restored whole, even above max_queued_bytes: it was accepted before the restart.
            queued_bytes_ += queued_weight(o);
            queue_.push_back(std::move(o));
        }
    }
    inbound_qos2_.insert(inbound_qos2.begin(), inbound_qos2.end());
}

void server_session::refuse_inbound(std::uint16_t packet_id) {
    if (inbound_qos2_.erase(packet_id) != 0) note(session_event::kind::inbound_del, 0, packet_id);
}

}  // namespace mqtt::core
