// SPDX-License-Identifier: MIT
// Outbound Topic Aliases (MQTT 5 3.3.2.3.4, --topic-alias-out): a subscriber
// that allows them gets its own encoding of each PUBLISH, with the alias and
// the topic on first use and an empty topic after. Other subscribers keep the
// shared encode-once bytes (publish_cache).
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/varint.hpp>

#include "server_impl.hpp"

namespace mqtt::net::detail {

bool connection::enqueue_aliased(const core::send_publish& sp) {
    // Made lazily: a connection that is never sent a PUBLISH pays nothing.
    if (!aliases_out_)
        aliases_out_ = std::make_unique<core::outbound_aliases>(session_->client_topic_alias_maximum());
    const auto choice = aliases_out_->assign(sp.msg->topic);
    if (choice.alias == 0) return false;
    const mqtt::publish& msg = *sp.msg;
    // Everything but the payload, encoded; the payload is appended once below.
    mqtt::publish hdr;
    if (choice.first_use) hdr.topic = msg.topic;  // defines the mapping [MQTT-3.3.2-12]
    hdr.level = sp.level;
    hdr.packet_id = sp.packet_id;
    hdr.dup = sp.dup;
    hdr.retain = sp.retain;
    hdr.props = msg.props;
    for (auto id : sp.subscription_ids) hdr.props.add_int(property_id::subscription_identifier, id);
    hdr.props.set_int(property_id::topic_alias, choice.alias);
    std::vector<std::uint8_t> head;
    std::uint32_t rem = 0;
    std::size_t used = 0;
    const bool encoded =
        !encode(mqtt::packet{std::move(hdr)}, protocol_version::v5, head) && head.size() >= 2 &&
        decode_varint(std::span<const std::uint8_t>(head).subspan(1), rem, used) == varint_status::ok;
    const std::size_t body_start = 1 + used;
    const std::size_t new_rem = encoded ? head.size() - body_start + msg.payload.size() : 0;
    const std::size_t total =
        new_rem <= max_varint ? 1 + varint_size(static_cast<std::uint32_t>(new_rem)) + new_rem : 0;
    // The alias property may push a message that fitted over the client's
    // Maximum Packet Size [MQTT-3.1.2-24]: then it goes the plain way, and a
    // mapping it would have defined is forgotten.
    if (!encoded || new_rem > max_varint || total > session_->client_maximum_packet_size()) {
        if (choice.first_use) aliases_out_->forget(choice.alias);
        return false;
    }
    out_item item;
    item.owned.reserve(total);
    item.owned.push_back(head[0]);
    encode_varint(static_cast<std::uint32_t>(new_rem), item.owned);
    item.owned.insert(item.owned.end(), head.begin() + static_cast<std::ptrdiff_t>(body_start), head.end());
    item.owned.insert(item.owned.end(), msg.payload.begin(), msg.payload.end());
    enqueue(std::move(item));
    return true;
}

}  // namespace mqtt::net::detail
