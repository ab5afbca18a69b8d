// SPDX-License-Identifier: MIT
// Replay of persistence journal records into the state they describe.
#include <mqtt/core/store_model.hpp>

namespace mqtt::core::store {

std::uint8_t pack_options(const subscriber_options& o) noexcept {
    return static_cast<std::uint8_t>((o.no_local ? 1u : 0u) | (o.retain_as_published ? 2u : 0u) |
                                     ((o.retain_handling & 3u) << 2));
}

subscriber_options unpack_options(std::uint8_t flags, qos level, std::uint32_t sub_id) noexcept {
    subscriber_options o;
    o.max_qos = level;
    o.no_local = (flags & 1u) != 0;
    o.retain_as_published = (flags & 2u) != 0;
    o.retain_handling = static_cast<std::uint8_t>((flags >> 2) & 3u);
    if (sub_id != 0) o.subscription_id = sub_id;
    return o;
}

void model::apply(const record& r) {
    if (r.tag > max_tag) max_tag = r.tag;
    const auto find = [&]() -> stored_session* {
        auto it = sessions.find(r.client_id);
        return it == sessions.end() ? nullptr : &it->second;
    };
    switch (r.type) {
        case record_type::retained:
            if (!r.msg) return;
            // [MQTT-3.3.1-6] an empty retained payload deletes the entry.
            if (r.msg->payload.empty())
                retained.erase(r.msg->topic);
            else
                retained[r.msg->topic] = {r.msg, r.time_ms};
            return;
        case record_type::session: {
            auto& s = sessions[r.client_id];  // created, or updated (expiry from DISCONNECT)
            s.expiry = r.expiry;
            s.username = r.username;
            s.disconnected_ms = r.time_ms;
            return;
        }
        case record_type::session_end:
            sessions.erase(r.client_id);  // [MQTT-3.1.2-4] clean start / expiry discards it
            return;
        case record_type::subscribe:
            if (auto* s = find()) s->subscriptions[r.text] = unpack_options(r.flags, r.level, r.sub_id);
            return;
        case record_type::unsubscribe:
            if (auto* s = find()) s->subscriptions.erase(r.text);
            return;
        case record_type::message:
            if (r.msg) messages[r.tag] = {r.msg, r.time_ms};
            return;
        case record_type::enqueue:
            if (auto* s = find()) s->pending[r.tag] = {r.level, (r.flags & 1u) != 0, r.sub_ids, 0, false};
            return;
        case record_type::sent:
            if (auto* s = find()) {
                if (auto it = s->pending.find(r.tag); it != s->pending.end()) it->second.packet_id = r.packet_id;
            }
            return;
        case record_type::released:
            if (auto* s = find()) {
                if (auto it = s->pending.find(r.tag); it != s->pending.end()) it->second.released = true;
            }
            return;
        case record_type::done:
            if (auto* s = find()) s->pending.erase(r.tag);
            return;
        case record_type::inbound_add:
            if (auto* s = find()) s->inbound_qos2.insert(r.packet_id);
            return;
        case record_type::inbound_del:
            if (auto* s = find()) s->inbound_qos2.erase(r.packet_id);
            return;
    }
}

}  // namespace mqtt::core::store
