// SPDX-License-Identifier: MIT
#pragma once
// Per-packet decoders shared between decode*.cpp files. Internal to the codec.
#include <initializer_list>
#include <string>

#include <mqtt/codec/packets.hpp>

#include "wire.hpp"

namespace mqtt::detail {

bool valid_code(std::uint8_t c, std::initializer_list<std::uint8_t> allowed) noexcept;
/// Topic Name rules applied to a decoded PUBLISH or Will topic.
void check_topic_name_field(reader& r, const std::string& topic, bool alias_present);

connect decode_connect(reader& r);
subscribe decode_subscribe(reader& r, protocol_version v);
suback decode_suback(reader& r, protocol_version v);
unsubscribe decode_unsubscribe(reader& r, protocol_version v);
unsuback decode_unsuback(reader& r, protocol_version v);

}  // namespace mqtt::detail
