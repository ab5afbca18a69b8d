// SPDX-License-Identifier: MIT
#include <mqtt/core/client_session.hpp>

#include <algorithm>
#include <string>
#include <utility>

#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/topic.hpp>

namespace mqtt::core {

namespace {

std::string hex_byte(reason r) {
    static constexpr char digits[] = "0123456789ABCDEF";
    const auto v = static_cast<unsigned>(r);
    std::string s = "0x";
    s += digits[(v >> 4) & 0xFu];
    s += digits[v & 0xFu];
    return s;
}

std::string describe(reason r) {
    return hex_byte(r) + " (" + reason_name(static_cast<std::uint8_t>(r)) + ")";
}

constexpr std::uint32_t protocol_max_packet = 268'435'460;
constexpr std::uint32_t default_max_packet = 256u * 1024u * 1024u;

}  // namespace

client_session::client_session(client_config cfg) : cfg_(cfg) {
    if (cfg_.max_inflight == 0) cfg_.max_inflight = 1;
    inbound_limits_.max_packet_size = std::min(cfg_.max_packet_size, protocol_max_packet);
}

void client_session::start(mqtt::connect c, time_point now) {
    version_ = c.version;
    clean_start_ = c.clean_start;
    client_id_ = c.client_id;
    keep_alive_ = c.keep_alive;
    broker_ = broker_limits{};
    aliases_.clear();  // aliases never outlive a connection [MQTT-3.3.2-7]
    ping_outstanding_ = false;
    reading_paused_ = false;
    last_received_ = now;
    receive_maximum_ = 65'535;
    topic_alias_maximum_ = 0;
    if (version_ == protocol_version::v5) {
        if (auto v = c.props.get_int(property_id::receive_maximum); v && *v > 0)
            receive_maximum_ = static_cast<std::uint16_t>(*v);
        if (auto v = c.props.get_int(property_id::topic_alias_maximum))
            topic_alias_maximum_ = static_cast<std::uint16_t>(*v);
        // Advertise a limit below the 256 MiB default so a conforming broker never
        // sends more [MQTT-3.1.2-24].
        if (!c.props.has(property_id::maximum_packet_size) &&
            inbound_limits_.max_packet_size < default_max_packet)
            c.props.set_int(property_id::maximum_packet_size, inbound_limits_.max_packet_size);
        if (auto v = c.props.get_int(property_id::maximum_packet_size); v && *v > 0)
            inbound_limits_.max_packet_size = std::min(*v, inbound_limits_.max_packet_size);
    }
    state_ = state::connecting;
    send(std::move(c), now);
}

void client_session::on_connection_lost() {
    if (state_ == state::idle) return;
    state_ = state::closed;
    for (auto& [id, n] : pending_subscribe_) ids_.release(id);
    for (auto& [id, n] : pending_unsubscribe_) ids_.release(id);
    pending_subscribe_.clear();
    pending_unsubscribe_.clear();
    aliases_.clear();
    ping_outstanding_ = false;
    has_session_ = true;
}

std::uint16_t client_session::window() const noexcept {
    return std::min(cfg_.max_inflight, broker_.receive_maximum);
}

bool client_session::can_publish(qos q) const noexcept {
    if (state_ != state::connected) return false;
    if (q == qos::at_most_once) return true;
    return outgoing_.size() < window() && ids_.used() < 65'535u;
}

std::uint16_t client_session::publish(mqtt::publish msg, time_point now, std::error_code& ec) {
    ec.clear();
    if (state_ != state::connected) {
        ec = reason::protocol_error;
        return 0;
    }
    if (msg.level > broker_.maximum_qos) {  // [MQTT-3.2.2-11]
        ec = reason::qos_not_supported;
        return 0;
    }
    if (msg.retain && !broker_.retain_available) {  // [MQTT-3.2.2-14]
        ec = reason::retain_not_supported;
        return 0;
    }
    msg.dup = false;
    std::uint16_t id = 0;
    if (msg.level != qos::at_most_once) {
        // [MQTT-3.3.4-7] never more unacknowledged QoS 1/2 than the broker's Receive Maximum.
        if (outgoing_.size() >= window()) {
            ec = reason::receive_maximum_exceeded;
            return 0;
        }
        auto got = ids_.allocate();  // [MQTT-2.2.1-3] non-zero and unused
        if (!got) {
            ec = reason::receive_maximum_exceeded;
            return 0;
        }
        id = *got;
    }
    msg.packet_id = id;
    if (broker_.maximum_packet_size < protocol_max_packet) {
        // [MQTT-3.2.2-15] never send a packet above the broker's Maximum Packet Size.
        const std::size_t size = encoded_size(msg, version_);
        if (size == 0 || size > broker_.maximum_packet_size) {
            ids_.release(id);
            ec = reason::packet_too_large;
            return 0;
        }
    }
    if (id != 0) {
        outgoing o{msg,
                   msg.level == qos::at_least_once ? out_state::awaiting_puback
                                                   : out_state::awaiting_pubrec,
                   reason::success, next_seq_++};
        outgoing_.emplace(id, std::move(o));
    }
    send(std::move(msg), now);
    return id;
}

std::uint16_t client_session::subscribe(mqtt::subscribe s, time_point now, std::error_code& ec) {
    ec.clear();
    if (state_ != state::connected) {
        ec = reason::protocol_error;
        return 0;
    }
    if (s.entries.empty()) {  // [MQTT-3.8.3-2]
        ec = codec_error::empty_subscription_list;
        return 0;
    }
    auto id = ids_.allocate();
    if (!id) {
        ec = reason::packet_identifier_in_use;
        return 0;
    }
    s.packet_id = *id;
    pending_subscribe_[*id] = s.entries.size();
    send(std::move(s), now);
    return *id;
}

std::uint16_t client_session::unsubscribe(mqtt::unsubscribe u, time_point now, std::error_code& ec) {
    ec.clear();
    if (state_ != state::connected) {
        ec = reason::protocol_error;
        return 0;
    }
    if (u.filters.empty()) {  // [MQTT-3.10.3-2]
        ec = codec_error::empty_subscription_list;
        return 0;
    }
    auto id = ids_.allocate();
    if (!id) {
        ec = reason::packet_identifier_in_use;
        return 0;
    }
    u.packet_id = *id;
    pending_unsubscribe_[*id] = u.filters.size();
    send(std::move(u), now);
    return *id;
}

void client_session::disconnect(mqtt::disconnect d, time_point now) {
    if (state_ != state::connected && state_ != state::connecting) return;
    const reason code = d.reason_code;
    send(std::move(d), now);
    state_ = state::closed;
    has_session_ = true;
    actions_.emplace_back(close_action{close_cause::client_disconnect, code, {}, "disconnected", {}});
}

void client_session::send(mqtt::packet p, time_point now) {
    last_sent_ = now;
    actions_.emplace_back(send_action{std::move(p)});
}

void client_session::fail(reason code, std::string message, time_point now) {
    if (state_ == state::closed) return;
    // v5 tells the broker why; 3.1.1 has no DISCONNECT reason, so just close.
    if (version_ == protocol_version::v5) send(mqtt::disconnect{code, {}}, now);
    state_ = state::closed;
    has_session_ = true;
    actions_.emplace_back(
        close_action{close_cause::protocol_violation, code, make_error_code(code), std::move(message), {}});
}

void client_session::on_malformed(std::error_code ec, time_point now) {
    if (state_ == state::closed) return;
    const reason code = reason_of(ec);
    if (version_ == protocol_version::v5 && state_ == state::connected)
        send(mqtt::disconnect{code, {}}, now);
    state_ = state::closed;
    has_session_ = true;
    actions_.emplace_back(close_action{close_cause::malformed, code, ec,
                                       "malformed packet from the broker", {}});
}

void client_session::on_packet(mqtt::packet p, time_point now) {
    if (state_ == state::closed || state_ == state::idle) return;
    last_received_ = now;
    if (state_ == state::connecting) {
        // [MQTT-3.2.0-1] the first packet from the server is CONNACK.
        if (auto* a = std::get_if<mqtt::connack>(&p)) {
            on_connack(*a, now);
        } else {
            fail(reason::protocol_error,
                 std::string("expected CONNACK, broker sent ") + to_string(type_of(p)), now);
        }
        return;
    }
    switch (p.index()) {
        case 2: on_publish(std::get<mqtt::publish>(p), now); break;
        case 3: on_puback(std::get<mqtt::puback>(p), now); break;
        case 4: on_pubrec(std::get<mqtt::pubrec>(p), now); break;
        case 5: on_pubrel(std::get<mqtt::pubrel>(p), now); break;
        case 6: on_pubcomp(std::get<mqtt::pubcomp>(p), now); break;
        case 8: on_suback(std::get<mqtt::suback>(p), now); break;
        case 10: on_unsuback(std::get<mqtt::unsuback>(p), now); break;
        case 12: ping_outstanding_ = false; break;  // PINGRESP
        case 13: on_disconnect(std::get<mqtt::disconnect>(p)); break;
        case 1:  // [MQTT-3.2.0-2] a second CONNACK
        default:
            // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and AUTH (no enhanced
            // authentication is in progress) never go from a server to a client.
            fail(reason::protocol_error,
                 std::string("unexpected ") + to_string(type_of(p)) + " from the broker", now);
            break;
    }
}

void client_session::on_connack(mqtt::connack& a, time_point now) {
    if (!is_known_reason(static_cast<std::uint8_t>(a.reason_code))) {
        fail(reason::protocol_error, "CONNACK with an unknown reason code", now);
        return;
    }
    if (is_failure(a.reason_code)) {
        state_ = state::closed;
        close_action c{close_cause::connack_refused, a.reason_code, make_error_code(a.reason_code),
                       "broker refused the connection: " + describe(a.reason_code), a.props};
        if (const auto* rs = a.props.get_string(property_id::reason_string))
            c.message += ": " + *rs;
        actions_.emplace_back(std::move(c));
        return;
    }
    // [MQTT-3.2.2-4] Session Present without session state (we asked for a clean start).
    if (a.session_present && clean_start_) {
        fail(reason::protocol_error, "CONNACK Session Present after a clean start", now);
        return;
    }
    if (version_ == protocol_version::v5) {
        const auto& pr = a.props;
        if (auto v = pr.get_int(property_id::receive_maximum))
            broker_.receive_maximum = static_cast<std::uint16_t>(std::max<std::uint32_t>(*v, 1));
        if (auto v = pr.get_int(property_id::maximum_packet_size); v && *v > 0)
            broker_.maximum_packet_size = *v;
        if (auto v = pr.get_int(property_id::topic_alias_maximum))
            broker_.topic_alias_maximum = static_cast<std::uint16_t>(*v);
        if (auto v = pr.get_int(property_id::maximum_qos))
            broker_.maximum_qos = *v == 0 ? qos::at_most_once : qos::at_least_once;
        if (auto v = pr.get_int(property_id::retain_available)) broker_.retain_available = *v != 0;
        if (auto v = pr.get_int(property_id::server_keep_alive)) {
            broker_.server_keep_alive = static_cast<std::uint16_t>(*v);
            keep_alive_ = static_cast<std::uint16_t>(*v);  // [MQTT-3.2.2-21]
        }
        if (const auto* id = pr.get_string(property_id::assigned_client_identifier))
            client_id_ = *id;
    }
    state_ = state::connected;
    actions_.emplace_back(connected_action{a});
    resume_or_discard(a.session_present, now);
}

void client_session::resume_or_discard(bool session_present, time_point now) {
    if (!session_present) {
        // [MQTT-3.2.2-5] the broker has no session: drop ours. Messages the
        // broker never acknowledged are sent again as new; a QoS 2 message in
        // PUBREL state already reached the broker, so it is complete.
        inbound_qos2_.clear();
        std::vector<std::pair<std::uint64_t, std::uint16_t>> order;
        for (auto& [id, o] : outgoing_) order.emplace_back(o.seq, id);
        std::sort(order.begin(), order.end());
        for (auto& [seq, id] : order) {
            auto it = outgoing_.find(id);
            if (it->second.st == out_state::awaiting_pubcomp) {
                const reason code = it->second.rec_reason;
                outgoing_.erase(it);
                ids_.release(id);
                actions_.emplace_back(completed_action{id, code, {}});
            } else {
                it->second.msg.dup = false;
                send(it->second.msg, now);
            }
        }
        has_session_ = false;
        return;
    }
    // [MQTT-4.4.0-1] resend unacknowledged PUBLISH (DUP [MQTT-3.3.1-1]) and PUBREL
    // with their original packet ids, in the original order [MQTT-4.6.0-1].
    std::vector<std::pair<std::uint64_t, std::uint16_t>> order;
    for (auto& [id, o] : outgoing_) order.emplace_back(o.seq, id);
    std::sort(order.begin(), order.end());
    for (auto& [seq, id] : order) {
        auto& o = outgoing_.at(id);
        if (o.st == out_state::awaiting_pubcomp) {
            send(mqtt::pubrel{id, reason::success, {}}, now);
        } else {
            o.msg.dup = true;
            send(o.msg, now);
        }
    }
}

void client_session::on_publish(mqtt::publish& p, time_point now) {
    // Topic aliases [MQTT-3.3.2-7..12]: 0 is rejected by the decoder.
    if (auto alias = p.props.get_int(property_id::topic_alias)) {
        if (*alias == 0 || *alias > topic_alias_maximum_) {
            fail(reason::topic_alias_invalid, "topic alias " + std::to_string(*alias) +
                                                  " above our maximum of " +
                                                  std::to_string(topic_alias_maximum_), now);
            return;
        }
        const auto key = static_cast<std::uint16_t>(*alias);
        if (p.topic.empty()) {
            auto it = aliases_.find(key);
            if (it == aliases_.end()) {
                fail(reason::protocol_error, "unknown topic alias " + std::to_string(*alias), now);
                return;
            }
            p.topic = it->second;
        } else {
            aliases_[key] = p.topic;
        }
    } else if (p.topic.empty()) {
        fail(reason::protocol_error, "PUBLISH without topic name or alias", now);
        return;
    }
    if (auto ec = check_topic_name(p.topic)) {  // [MQTT-3.3.2-2] no wildcards in a name
        if (ec == codec_error::topic_name_has_wildcard) {
            fail(reason::topic_name_invalid, "PUBLISH topic with a wildcard", now);
        } else {
            on_malformed(ec, now);
        }
        return;
    }
    switch (p.level) {
        case qos::at_most_once:
            actions_.emplace_back(deliver_action{std::move(p)});
            return;
        case qos::at_least_once: {
            // Acked at once, so it never counts against our Receive Maximum for long.
            const std::uint16_t id = p.packet_id;
            actions_.emplace_back(deliver_action{std::move(p)});
            send(mqtt::puback{id, reason::success, {}}, now);
            return;
        }
        case qos::exactly_once: {
            const std::uint16_t id = p.packet_id;
            if (inbound_qos2_.count(id) == 0) {
                // [MQTT-3.3.4-9] the broker may not exceed our Receive Maximum.
                if (version_ == protocol_version::v5 && inbound_qos2_.size() >= receive_maximum_) {
                    fail(reason::receive_maximum_exceeded,
                         "broker exceeded our Receive Maximum of " + std::to_string(receive_maximum_),
                         now);
                    return;
                }
                inbound_qos2_.insert(id);
                actions_.emplace_back(deliver_action{std::move(p)});
            }
            // A repeated id is a resend: PUBREC again, deliver once [MQTT-4.3.3-10].
            send(mqtt::pubrec{id, reason::success, {}}, now);
            return;
        }
    }
}

void client_session::complete(std::uint16_t id, reason code, properties props) {
    outgoing_.erase(id);
    ids_.release(id);
    actions_.emplace_back(completed_action{id, code, std::move(props)});
}

void client_session::on_puback(const mqtt::puback& a, time_point) {
    auto it = outgoing_.find(a.packet_id);
    // A PUBACK for an id we did not use is ignored (hardening E08).
    if (it == outgoing_.end() || it->second.st != out_state::awaiting_puback) return;
    complete(a.packet_id, a.reason_code, a.props);
}

void client_session::on_pubrec(const mqtt::pubrec& a, time_point now) {
    auto it = outgoing_.find(a.packet_id);
    if (it == outgoing_.end() || it->second.st == out_state::awaiting_puback) {
        send(mqtt::pubrel{a.packet_id, reason::packet_identifier_not_found, {}}, now);
        return;
    }
    if (is_failure(a.reason_code)) {  // no PUBREL after a failing PUBREC [MQTT-4.3.3-4]
        complete(a.packet_id, a.reason_code, a.props);
        return;
    }
    it->second.st = out_state::awaiting_pubcomp;
    it->second.rec_reason = a.reason_code;
    it->second.msg.payload.clear();  // the message is no longer needed, only its id
    it->second.msg.payload.shrink_to_fit();
    send(mqtt::pubrel{a.packet_id, reason::success, {}}, now);
}

void client_session::on_pubrel(const mqtt::pubrel& a, time_point now) {
    if (inbound_qos2_.erase(a.packet_id) == 0) {
        // Unknown id: PUBCOMP 0x92 (hardening E08); 3.1.1 drops the reason on encode.
        send(mqtt::pubcomp{a.packet_id, reason::packet_identifier_not_found, {}}, now);
        return;
    }
    send(mqtt::pubcomp{a.packet_id, reason::success, {}}, now);
}

void client_session::on_pubcomp(const mqtt::pubcomp& a, time_point) {
    auto it = outgoing_.find(a.packet_id);
    if (it == outgoing_.end() || it->second.st != out_state::awaiting_pubcomp) return;
    // PUBCOMP can only say Success or 0x92; whether anyone subscribed is in
    // the PUBREC (sec-3.5.2.1), which `mq pub --require-subscribers` needs.
    if (a.reason_code == reason::success && it->second.rec_reason != reason::success) {
        complete(a.packet_id, it->second.rec_reason, a.props);
        return;
    }
    complete(a.packet_id, a.reason_code, a.props);
}

void client_session::on_suback(mqtt::suback& a, time_point now) {
    auto it = pending_subscribe_.find(a.packet_id);
    if (it == pending_subscribe_.end()) {
        fail(reason::protocol_error, "SUBACK for an unknown packet id", now);
        return;
    }
    // [MQTT-3.9.3-1] one reason code per filter (hardening E01).
    if (a.reason_codes.size() != it->second) {
        fail(reason::protocol_error,
             "SUBACK has " + std::to_string(a.reason_codes.size()) + " reason codes for " +
                 std::to_string(it->second) + " filters",
             now);
        return;
    }
    for (reason r : a.reason_codes) {  // hardening E02
        const auto v = static_cast<std::uint8_t>(r);
        if (v > 2 && !(is_failure(r) && is_known_reason(v))) {
            fail(reason::protocol_error, "SUBACK with invalid reason code " + hex_byte(r), now);
            return;
        }
    }
    pending_subscribe_.erase(it);
    ids_.release(a.packet_id);
    actions_.emplace_back(suback_action{std::move(a)});
}

void client_session::on_unsuback(mqtt::unsuback& a, time_point now) {
    auto it = pending_unsubscribe_.find(a.packet_id);
    if (it == pending_unsubscribe_.end()) {
        fail(reason::protocol_error, "UNSUBACK for an unknown packet id", now);
        return;
    }
    // [MQTT-3.11.3-1] v5: one reason code per filter; 3.1.1 has none.
    if (version_ == protocol_version::v5 && a.reason_codes.size() != it->second) {
        fail(reason::protocol_error,
             "UNSUBACK has " + std::to_string(a.reason_codes.size()) + " reason codes for " +
                 std::to_string(it->second) + " filters",
             now);
        return;
    }
    pending_unsubscribe_.erase(it);
    ids_.release(a.packet_id);
    actions_.emplace_back(unsuback_action{std::move(a)});
}

void client_session::on_disconnect(mqtt::disconnect& d) {
    state_ = state::closed;
    has_session_ = true;
    close_action c{close_cause::server_disconnect, d.reason_code, make_error_code(d.reason_code),
                   "broker sent DISCONNECT " + describe(d.reason_code), std::move(d.props)};
    if (const auto* rs = c.props.get_string(property_id::reason_string)) c.message += ": " + *rs;
    actions_.emplace_back(std::move(c));
}

void client_session::on_tick(time_point now) {
    if (state_ != state::connected || keep_alive_ == 0) return;
    const auto ka = std::chrono::milliseconds(std::uint32_t{keep_alive_} * 1000u);
    const auto silence = std::chrono::milliseconds(std::uint32_t{keep_alive_} * 1500u);
    // Silence for 1.5x keepalive means the broker or the path is gone (spec 3.1.2.10).
    if (!reading_paused_ && now - last_received_ >= silence) {
        state_ = state::closed;
        has_session_ = true;
        actions_.emplace_back(close_action{close_cause::keepalive_timeout, reason::keep_alive_timeout,
                                           make_error_code(reason::keep_alive_timeout),
                                           "no packet from the broker for 1.5x keepalive (" +
                                               std::to_string(keep_alive_) + " s)",
                                           {}});
        return;
    }
    // [MQTT-3.1.2-20] PINGREQ when nothing was sent for a keepalive period. Also
    // probe when nothing arrived, so a publish-only flood still hears the broker.
    if (now - last_sent_ >= ka || (!ping_outstanding_ && now - last_received_ >= ka)) {
        ping_outstanding_ = true;
        send(mqtt::pingreq{}, now);
    }
}

void client_session::set_reading_paused(bool paused, time_point now) {
    if (reading_paused_ && !paused) last_received_ = now;
    reading_paused_ = paused;
}

std::optional<time_point> client_session::next_deadline() const noexcept {
    if (state_ != state::connected || keep_alive_ == 0) return std::nullopt;
    const auto ka = std::chrono::milliseconds(std::uint32_t{keep_alive_} * 1000u);
    const auto silence = std::chrono::milliseconds(std::uint32_t{keep_alive_} * 1500u);
    time_point t = last_sent_ + ka;
    if (!ping_outstanding_) t = std::min(t, last_received_ + ka);
    if (!reading_paused_) t = std::min(t, last_received_ + silence);
    return t;
}

void client_session::take_actions(std::vector<client_action>& out) {
    out.clear();
    out.swap(actions_);
}

std::vector<client_action> client_session::take_actions() {
    std::vector<client_action> out;
    out.swap(actions_);
    return out;
}

}  // namespace mqtt::core
