// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <mqtt/codec/properties.hpp>
#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/types.hpp>

/// One set of plain packet structs for MQTT 3.1.1 and 5.0. Fields that exist
/// only in 5.0 (properties, most reason codes) are ignored when encoding 3.1.1
/// and left at their defaults when decoding it.
namespace mqtt {

struct will {
    std::string topic;
    std::vector<std::uint8_t> payload;
    qos level = qos::at_most_once;
    bool retain = false;
    properties props;  // Will Properties (v5)
    friend bool operator==(const will&, const will&) = default;
};

struct connect {
    protocol_version version = protocol_version::v5;
    std::string client_id;
    bool clean_start = true;
    std::uint16_t keep_alive = 60;
    std::optional<std::string> username;
    std::optional<std::vector<std::uint8_t>> password;
    std::optional<will> will_msg;
    properties props;
    friend bool operator==(const connect&, const connect&) = default;
};

struct connack {
    bool session_present = false;
    /// v5 reason code. 3.1.1 return codes map: 0 success, 1 unsupported protocol
    /// version, 2 client identifier not valid, 3 server unavailable, 4 bad user
    /// name or password, 5 not authorized.
    reason reason_code = reason::success;
    properties props;
    friend bool operator==(const connack&, const connack&) = default;
};

struct publish {
    std::string topic;
    std::vector<std::uint8_t> payload;
    qos level = qos::at_most_once;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;  // non-zero iff level > 0
    properties props;
    friend bool operator==(const publish&, const publish&) = default;
};

struct puback {
    std::uint16_t packet_id = 0;
    reason reason_code = reason::success;
    properties props;
    friend bool operator==(const puback&, const puback&) = default;
};
struct pubrec {
    std::uint16_t packet_id = 0;
    reason reason_code = reason::success;
    properties props;
    friend bool operator==(const pubrec&, const pubrec&) = default;
};
struct pubrel {
    std::uint16_t packet_id = 0;
    reason reason_code = reason::success;
    properties props;
    friend bool operator==(const pubrel&, const pubrel&) = default;
};
struct pubcomp {
    std::uint16_t packet_id = 0;
    reason reason_code = reason::success;
    properties props;
    friend bool operator==(const pubcomp&, const pubcomp&) = default;
};

struct subscription {
    std::string filter;
    qos max_qos = qos::at_most_once;
    bool no_local = false;             // v5
    bool retain_as_published = false;  // v5
    std::uint8_t retain_handling = 0;  // v5: 0 send, 1 send if new, 2 never
    friend bool operator==(const subscription&, const subscription&) = default;
};

struct subscribe {
    std::uint16_t packet_id = 0;
    std::vector<subscription> entries;
    properties props;
    friend bool operator==(const subscribe&, const subscribe&) = default;
};

struct suback {
    std::uint16_t packet_id = 0;
    /// granted_qos_0..2 or a failure; 3.1.1's 0x80 maps to unspecified_error.
    std::vector<reason> reason_codes;
    properties props;
    friend bool operator==(const suback&, const suback&) = default;
};

struct unsubscribe {
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;
    properties props;
    friend bool operator==(const unsubscribe&, const unsubscribe&) = default;
};

struct unsuback {
    std::uint16_t packet_id = 0;
    std::vector<reason> reason_codes;  // v5 only; empty on 3.1.1
    properties props;
    friend bool operator==(const unsuback&, const unsuback&) = default;
};

struct pingreq {
    friend bool operator==(const pingreq&, const pingreq&) = default;
};
struct pingresp {
    friend bool operator==(const pingresp&, const pingresp&) = default;
};

struct disconnect {
    reason reason_code = reason::normal_disconnection;
    properties props;
    friend bool operator==(const disconnect&, const disconnect&) = default;
};

struct auth {  // v5 only
    reason reason_code = reason::success;
    properties props;
    friend bool operator==(const auth&, const auth&) = default;
};

using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe,
                            suback, unsubscribe, unsuback, pingreq, pingresp, disconnect, auth>;

/// The packet type of the alternative held.
packet_type type_of(const packet& p) noexcept;

/// 3.1.1 CONNACK return code for a reason (inverse of the decode mapping);
/// reasons without a 3.1.1 equivalent map to 3 (server unavailable).
std::uint8_t v311_connack_code(reason r) noexcept;

}  // namespace mqtt
