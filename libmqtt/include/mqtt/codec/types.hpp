// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>

namespace mqtt {

/// Protocol level byte of CONNECT: 4 is MQTT 3.1.1, 5 is MQTT 5.0. MQTT 3.1 (level 3) is not supported.
enum class protocol_version : std::uint8_t { v311 = 4, v5 = 5 };

enum class qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

/// Control packet types, the high nibble of the fixed header [MQTT-2.1.2].
enum class packet_type : std::uint8_t {
    reserved = 0,
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    pingreq = 12,
    pingresp = 13,
    disconnect = 14,
    auth = 15,
};

const char* to_string(packet_type t) noexcept;

}  // namespace mqtt
