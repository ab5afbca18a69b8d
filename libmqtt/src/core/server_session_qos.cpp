// SPDX-License-Identifier: MIT
// server_session: PUBLISH in both directions and the QoS 1/2 acknowledgement
// flows, the outbound window and queue.
#include <mqtt/core/server_session.hpp>

#include <algorithm>
#include <string_view>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/utf8.hpp>
#include <mqtt/codec/varint.hpp>

namespace mqtt::core {
namespace {

// Bytes of an encoded property block without its length prefix.
std::size_t properties_size(const properties& props) noexcept {
    std::size_t n = 0;
    for (const auto& p : props.items) {
        const auto t = mqtt::type_of(static_cast<std::uint8_t>(p.id));
        if (!t) continue;
        n += 1;
        switch (*t) {
            case property_type::byte:
                n += 1;
                break;
            case property_type::two_byte:
                n += 2;
                break;
            case property_type::four_byte:
                n += 4;
                break;
            case property_type::varint:
                n += varint_size(std::min(std::get<std::uint32_t>(p.value), max_varint));
                break;
            case property_type::utf8:
                n += 2 + std::get<std::string>(p.value).size();
                break;
            case property_type::binary:
                n += 2 + std::get<binary>(p.value).size();
                break;
            case property_type::utf8_pair: {
                const auto& kv = std::get<string_pair>(p.value);
                n += 4 + kv.first.size() + kv.second.size();
                break;
            }
        }
    }
    return n;
}

bool is_sys_topic(std::string_view t) noexcept {
    return t == "$SYS" || t.starts_with("$SYS/");
}

}  // namespace

void server_session::handle_publish(mqtt::publish& p) {
    const bool v5 = version_ == protocol_version::v5;
    // Decoded without --max-string-length (see connection::process_frames):
    // a string property over it is 0x83; binary fields are exempt. The topic
    // has its own limits (--max-topic-length/-levels), checked once the alias
    // is resolved.
    for (const auto& prop : p.props.items) {
        const auto* str = std::get_if<std::string>(&prop.value);
        const auto* pair = std::get_if<string_pair>(&prop.value);
        if ((str && str->size() > cfg_.max_string_length) ||
            (pair &&
             (pair->first.size() > cfg_.max_string_length || pair->second.size() > cfg_.max_string_length))) {
            protocol_violation(reason::implementation_specific_error);
            return;
        }
    }
    if (v5) {
        if (auto alias = p.props.get_int(property_id::topic_alias)) {
            // [MQTT-3.3.2-8] [MQTT-3.3.2-9] alias 0 or above our maximum.
            if (*alias == 0 || *alias > cfg_.topic_alias_maximum) {
                protocol_violation(reason::topic_alias_invalid);
                return;
            }
            if (aliases_.empty()) aliases_.resize(std::size_t{cfg_.topic_alias_maximum} + 1);
            auto& slot = aliases_[*alias];
            if (p.topic.empty()) {
                if (slot.empty()) {  // unknown alias and no topic (hardening C12)
                    protocol_violation(reason::protocol_error);
                    return;
                }
                p.topic = slot;
            } else {
                slot = p.topic;  // [MQTT-3.3.2-12] (re)defines the mapping
            }
            // Aliases are per connection: never forwarded.
            p.props.remove(property_id::topic_alias);
        }
    }
    const std::uint16_t id = p.packet_id;
    if (!topic_within_limits(p.topic)) {
        // 0x90 "Topic Name invalid: well formed, but not accepted by this Server"
        // (3.4.2.1, 3.5.2.1). QoS 1/2 are refused in the ack and the connection
        // stays [MQTT-3.4.2-1]; QoS 0 has no ack, so DISCONNECT 0x90 (3.14.2.1)
        // rather than a silent loss; 3.1.1 has no reason codes: close.
        if (v5 && p.level == qos::at_least_once)
            emit(mqtt::puback{id, reason::topic_name_invalid, {}});
        else if (v5 && p.level == qos::exactly_once)
            emit(mqtt::pubrec{id, reason::topic_name_invalid, {}});  // flow ends: no id kept
        else
            protocol_violation(reason::topic_name_invalid);
        return;
    }
    if (v5 && p.props.get_int(property_id::payload_format_indicator) == 1u &&
        check_utf8(std::string_view(reinterpret_cast<const char*>(p.payload.data()), p.payload.size())) ==
            utf8_status::invalid) {
        // [MQTT-3.3.2-4] Payload Format Indicator 1 promises UTF-8 (hardening C16):
        // not routed; QoS 1/2 are refused with 0x99, QoS 0 can only be refused by DISCONNECT.
        if (p.level == qos::at_least_once)
            emit(mqtt::puback{id, reason::payload_format_invalid, {}});
        else if (p.level == qos::exactly_once)
            emit(mqtt::pubrec{id, reason::payload_format_invalid, {}});  // flow ends: no id kept
        else
            protocol_violation(reason::payload_format_invalid);
        return;
    }
    if (is_sys_topic(p.topic)) {
        // Clients cannot publish under $SYS/ (hardening C19): not routed.
        if (p.level == qos::at_least_once)
            emit(mqtt::puback{id, v5 ? reason::not_authorized : reason::success, {}});
        else if (p.level == qos::exactly_once) {
            if (!v5 && inbound_qos2_.insert(id).second) note(session_event::kind::inbound_add, 0, id);
            emit(mqtt::pubrec{id, v5 ? reason::not_authorized : reason::success, {}});
        }
        return;
    }
    if (may_publish_ && !(p.level == qos::exactly_once && inbound_qos2_.contains(id)) && !may_publish_(p.topic)) {
        // ACL refused (hardening J05): v5 learns it from the ack [MQTT-3.4.2-1]
        // (0x87 ends a QoS 2 flow, no PUBREL state); QoS 0 and 3.1.1, which
        // cannot carry a reason, are acknowledged as usual and counted.
        if (p.level == qos::at_least_once) {
            emit(mqtt::puback{id, v5 ? reason::not_authorized : reason::success, {}});
        } else if (p.level == qos::exactly_once) {
            if (!v5 && inbound_qos2_.insert(id).second) note(session_event::kind::inbound_add, 0, id);
            emit(mqtt::pubrec{id, v5 ? reason::not_authorized : reason::success, {}});
        }
        if (!v5 || p.level == qos::at_most_once) count_drop(&drop_counts::not_authorized);
        return;
    }
    switch (p.level) {
        case qos::at_most_once:
            actions_.emplace_back(route_publish{std::make_shared<const mqtt::publish>(std::move(p))});
            return;
        case qos::at_least_once:
            // [MQTT-4.3.2-2] deliver, then PUBACK.
            actions_.emplace_back(route_publish{std::make_shared<const mqtt::publish>(std::move(p))});
            emit(mqtt::puback{id, reason::success, {}});
            return;
        case qos::exactly_once:
            if (inbound_qos2_.contains(id)) {
                // Retransmission before PUBREL: acknowledge, do not deliver twice [MQTT-4.3.3-10].
                emit(mqtt::pubrec{id, reason::success, {}});
                return;
            }
            if (v5 && inbound_qos2_.size() >= cfg_.receive_maximum) {
                protocol_violation(reason::receive_maximum_exceeded);  // [MQTT-3.3.4-9]
                return;
            }
            inbound_qos2_.insert(id);
            note(session_event::kind::inbound_add, 0, id);
            // Delivered on PUBLISH; only the id is kept until PUBREL.
            actions_.emplace_back(route_publish{std::make_shared<const mqtt::publish>(std::move(p))});
            emit(mqtt::pubrec{id, reason::success, {}});
            return;
    }
}

void server_session::handle_pubrel(std::uint16_t id) {
    // [MQTT-4.3.3-11] PUBCOMP; unknown id gets 0x92 (v5).
    const bool known = inbound_qos2_.erase(id) != 0;
    if (known) note(session_event::kind::inbound_del, 0, id);
    emit(mqtt::pubcomp{id, known ? reason::success : reason::packet_identifier_not_found, {}});
}

void server_session::handle_puback(std::uint16_t id) {
    auto it = std::find_if(inflight_.begin(), inflight_.end(), [id](const outbound& o) {
        return o.packet_id == id && o.level == qos::at_least_once;
    });
    if (it == inflight_.end()) return;  // unknown id: ignored (hardening C10)
    note(session_event::kind::done, it->tag, id);
    inflight_.erase(it);
    ids_.release(id);
    pump_queue();
}

void server_session::handle_pubrec(const mqtt::pubrec& r) {
    auto it = std::find_if(inflight_.begin(), inflight_.end(), [&r](const outbound& o) {
        return o.packet_id == r.packet_id && o.level == qos::exactly_once;
    });
    if (it == inflight_.end()) {
        emit(mqtt::pubrel{r.packet_id, reason::packet_identifier_not_found, {}});
        return;
    }
    if (is_failure(r.reason_code)) {
        // [MQTT-4.3.3-?] a failing PUBREC ends the flow; the id is free again.
        note(session_event::kind::done, it->tag, r.packet_id);
        inflight_.erase(it);
        ids_.release(r.packet_id);
        pump_queue();
        return;
    }
    it->released = true;
    note(session_event::kind::released, it->tag, r.packet_id);
    it->msg.reset();                                       // the payload is no longer needed after PUBREC
    emit(mqtt::pubrel{r.packet_id, reason::success, {}});  // [MQTT-4.3.3-4]
}

void server_session::handle_pubcomp(std::uint16_t id) {
    auto it = std::find_if(inflight_.begin(), inflight_.end(), [id](const outbound& o) {
        return o.packet_id == id && o.level == qos::exactly_once && o.released;
    });
    if (it == inflight_.end()) return;
    note(session_event::kind::done, it->tag, id);
    inflight_.erase(it);
    ids_.release(id);
    pump_queue();
}

std::uint16_t server_session::window() const noexcept {
    return std::max<std::uint16_t>(1, std::min(client_receive_maximum_, cfg_.max_inflight));
}

bool server_session::topic_within_limits(std::string_view topic) const noexcept {
    if (topic.size() > cfg_.max_topic_length) return false;
    // Levels = separators + 1, so the loop stops as soon as the limit is passed.
    std::uint32_t levels = 1;
    for (char c : topic)
        if (c == '/' && ++levels > cfg_.max_topic_levels) return false;
    return true;
}

bool server_session::fits_client_limit(const mqtt::publish& m, qos level,
                                       const std::vector<std::uint32_t>& ids) const {
    if (client_max_packet_size_ >= 268'435'460u) return true;
    std::size_t rem = 2 + m.topic.size() + (level == qos::at_most_once ? 0 : 2) + m.payload.size();
    if (version_ == protocol_version::v5) {
        std::size_t props = properties_size(m.props);
        for (auto id : ids) props += 1 + varint_size(std::min(id, max_varint));
        rem += varint_size(static_cast<std::uint32_t>(std::min<std::size_t>(props, max_varint))) + props;
    }
    if (rem > max_varint) return false;
    const std::size_t total = 1 + varint_size(static_cast<std::uint32_t>(rem)) + rem;
    return total <= client_max_packet_size_;
}

std::shared_ptr<const mqtt::publish> server_session::with_remaining_expiry(
    const std::shared_ptr<const mqtt::publish>& msg, std::optional<time_point> received) const {
    if (!msg || !received) return msg;
    const auto interval = msg->props.get_int(property_id::message_expiry_interval);
    if (!interval) return msg;
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now_ - *received).count();
    // [MQTT-3.3.2-5] expired in the broker: not delivered.
    if (waited >= static_cast<std::int64_t>(*interval)) return nullptr;
    if (waited <= 0) return msg;
    // [MQTT-3.3.2-6] forward the time left; the copy is only made for a message that waited.
    auto copy = std::make_shared<mqtt::publish>(*msg);
    copy->props.set_int(property_id::message_expiry_interval,
                        *interval - static_cast<std::uint32_t>(waited));
    return copy;
}

bool server_session::deliver(std::shared_ptr<const mqtt::publish> msg, qos level, bool retain,
                             std::vector<std::uint32_t> subscription_ids, time_point now,
                             std::optional<time_point> received, std::uint64_t tag,
                             std::shared_ptr<const std::string> share) {
    return deliver_into(queue_, true, std::move(msg), level, retain, std::move(subscription_ids), now, received,
                        tag, std::move(share));
}

std::vector<shared_return> server_session::take_shared_unfinished() {
    std::vector<shared_return> out;
    // In send order: what went out first is owed first.
    for (auto it = inflight_.begin(); it != inflight_.end();) {
        if (it->share && it->level == qos::at_least_once) {
            note(session_event::kind::done, it->tag, it->packet_id);
            ids_.release(it->packet_id);
            // Its Message Expiry was counted from `received` when it was sent,
            // so a second count can only make it expire early, never late.
            out.push_back({std::move(it->msg), std::move(it->share), it->received});
            it = inflight_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->share) {
            note(session_event::kind::done, it->tag, 0);
            queued_bytes_ -= queued_weight(*it);
            out.push_back({std::move(it->msg), std::move(it->share), it->received});
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

bool server_session::deliver_retained(std::shared_ptr<const mqtt::publish> msg, qos level,
                                      std::vector<std::uint32_t> subscription_ids, time_point now,
                                      std::optional<time_point> received) {
    // [MQTT-3.3.1-8] retained messages sent on subscribe keep RETAIN = 1.
    return deliver_into(backlog_, false, std::move(msg), level, true, std::move(subscription_ids), now, received,
                        0, nullptr);
}

bool server_session::deliver_into(lazy_deque<outbound>& waiting, bool bounded,
                                  std::shared_ptr<const mqtt::publish> msg, qos level, bool retain,
                                  std::vector<std::uint32_t> subscription_ids, time_point now,
                                  std::optional<time_point> received, std::uint64_t tag,
                                  std::shared_ptr<const std::string> share) {
    if (!msg) return false;
    // A journaled message that is not kept is done at once.
    const auto refuse = [&] {
        note(session_event::kind::done, tag, 0);
        return false;
    };
    now_ = std::max(now_, now);
    if (msg->props.get_int(property_id::message_expiry_interval))
        received = received.value_or(now);
    else
        received.reset();
    msg = with_remaining_expiry(msg, received);
    if (!msg) {
        count_drop(&drop_counts::expired);
        return refuse();
    }
    if (version_ == protocol_version::v311) subscription_ids.clear();
    // [MQTT-3.1.2-25] never send a packet above the client's Maximum Packet Size.
    if (!fits_client_limit(*msg, level, subscription_ids)) {
        count_drop(&drop_counts::packet_too_large);
        return refuse();
    }
    const bool online = state_ == state::connected;
    if (level == qos::at_most_once) {
        if (!online) return refuse();  // QoS 0 is never queued for offline sessions
        actions_.emplace_back(
            send_publish{std::move(msg), level, 0, false, retain, std::move(subscription_ids)});
        return true;
    }
    if (state_ == state::closed && session_expiry_ == 0) return refuse();
    outbound o{std::move(msg), level, retain, std::move(subscription_ids), 0, false, received, tag, std::move(share)};
    // Nothing overtakes what already waits (per-topic order [MQTT-4.6.0-6]).
    if (online && backlog_.empty() && queue_.empty() && inflight_.size() < window()) {
        if (auto id = ids_.allocate()) {
            o.packet_id = *id;
            // The stall clock starts when an idle subscriber is sent something.
            if (inflight_.empty()) last_progress_ = std::max(last_progress_.value_or(now_), now_);
            if (o.level == qos::exactly_once) note(session_event::kind::sent, o.tag, o.packet_id);
            inflight_.push_back(std::move(o));
            send_outbound(inflight_.back(), false);
            return true;
        }
    }
    if (bounded && cfg_.max_queued == 0) {
        count_drop(&drop_counts::queue_full);
        return refuse();
    }
    if (bounded) {
        const auto weight = queued_weight(o);
        if (weight > cfg_.max_queued_bytes) {
            // Could never fit: dropping everything older would not help.
            count_drop(&drop_counts::queue_full);
            return refuse();
        }
        // Drop-oldest until both the count and the bytes fit, so a slow
        // consumer of large messages holds at most max_queued_bytes.
        while (!waiting.empty() &&
               (waiting.size() >= cfg_.max_queued || queued_bytes_ + weight > cfg_.max_queued_bytes)) {
            note(session_event::kind::done, waiting.front().tag, 0);
            queued_bytes_ -= queued_weight(waiting.front());
            waiting.pop_front();
            count_drop(&drop_counts::queue_full);
        }
        queued_bytes_ += weight;
    }
    waiting.push_back(std::move(o));
    return true;
}

void server_session::send_outbound(const outbound& o, bool dup) {
    // [MQTT-3.3.1-1] DUP only on redelivery of QoS 1/2.
    actions_.emplace_back(send_publish{o.msg, o.level, o.packet_id, dup, o.retain, o.subscription_ids});
}

void server_session::pump_queue() {
    while (state_ == state::connected && (!backlog_.empty() || !queue_.empty()) && inflight_.size() < window()) {
        // The retained backlog is older than anything queued after the SUBSCRIBE.
        auto& from = backlog_.empty() ? queue_ : backlog_;
        outbound o = std::move(from.front());
        from.pop_front();
        const std::uint64_t weight = &from == &queue_ ? queued_weight(o) : 0;
        queued_bytes_ -= weight;
        // The message may have waited in the queue: drop it when expired, else
        // forward the time left [MQTT-3.3.2-5] [MQTT-3.3.2-6].
        o.msg = with_remaining_expiry(o.msg, o.received);
        if (!o.msg) {
            count_drop(&drop_counts::expired);
            note(session_event::kind::done, o.tag, 0);
            continue;
        }
        auto id = ids_.allocate();
        if (!id) {
            queued_bytes_ += weight;
            from.push_front(std::move(o));
            return;
        }
        o.packet_id = *id;
        if (o.level == qos::exactly_once) note(session_event::kind::sent, o.tag, o.packet_id);
        inflight_.push_back(std::move(o));
        send_outbound(inflight_.back(), false);
    }
}

}  // namespace mqtt::core
