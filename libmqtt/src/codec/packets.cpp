// SPDX-License-Identifier: MIT
#include <mqtt/codec/packets.hpp>

namespace mqtt {

const char* to_string(packet_type t) noexcept {
    static constexpr const char* names[] = {"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK",
                                            "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK",
                                            "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP",
                                            "DISCONNECT", "AUTH"};
    const auto i = static_cast<std::uint8_t>(t);
    return i < 16 ? names[i] : "?";
}

packet_type type_of(const packet& p) noexcept {
    // The variant's alternatives are declared in packet-type order, CONNECT first.
    return static_cast<packet_type>(p.index() + 1);
}

std::uint8_t v311_connack_code(reason r) noexcept {
    switch (r) {
        case reason::success: return 0;
        case reason::unsupported_protocol_version: return 1;
        case reason::client_identifier_not_valid: return 2;
        case reason::server_unavailable:
        case reason::server_busy: return 3;
        case reason::bad_user_name_or_password: return 4;
        case reason::not_authorized: return 5;
        default: return 3;
    }
}

}  // namespace mqtt
