// SPDX-License-Identifier: MIT
#include <mqtt/codec/reason.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace mqtt {

const char* reason_name(std::uint8_t v) noexcept {
    switch (v) {
        case 0x00: return "Success";
        case 0x01: return "Granted QoS 1";
        case 0x02: return "Granted QoS 2";
        case 0x04: return "Disconnect with Will Message";
        case 0x10: return "No matching subscribers";
        case 0x11: return "No subscription existed";
        case 0x18: return "Continue authentication";
        case 0x19: return "Re-authenticate";
        case 0x80: return "Unspecified error";
        case 0x81: return "Malformed Packet";
        case 0x82: return "Protocol Error";
        case 0x83: return "Implementation specific error";
        case 0x84: return "Unsupported Protocol Version";
        case 0x85: return "Client Identifier not valid";
        case 0x86: return "Bad User Name or Password";
        case 0x87: return "Not authorized";
        case 0x88: return "Server unavailable";
        case 0x89: return "Server busy";
        case 0x8A: return "Banned";
        case 0x8B: return "Server shutting down";
        case 0x8C: return "Bad authentication method";
        case 0x8D: return "Keep Alive timeout";
        case 0x8E: return "Session taken over";
        case 0x8F: return "Topic Filter invalid";
        case 0x90: return "Topic Name invalid";
        case 0x91: return "Packet Identifier in use";
        case 0x92: return "Packet Identifier not found";
        case 0x93: return "Receive Maximum exceeded";
        case 0x94: return "Topic Alias invalid";
        case 0x95: return "Packet too large";
        case 0x96: return "Message rate too high";
        case 0x97: return "Quota exceeded";
        case 0x98: return "Administrative action";
        case 0x99: return "Payload format invalid";
        case 0x9A: return "Retain not supported";
        case 0x9B: return "QoS not supported";
        case 0x9C: return "Use another server";
        case 0x9D: return "Server moved";
        case 0x9E: return "Shared Subscriptions not supported";
        case 0x9F: return "Connection rate exceeded";
        case 0xA0: return "Maximum connect time";
        case 0xA1: return "Subscription Identifiers not supported";
        case 0xA2: return "Wildcard Subscriptions not supported";
        default: return "Unknown reason";
    }
}

bool is_known_reason(std::uint8_t v) noexcept { return std::string_view(reason_name(v)) != "Unknown reason"; }

namespace {

class reason_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mqtt.reason"; }
    std::string message(int ev) const override {
        char code[8];
        std::snprintf(code, sizeof code, "0x%02X", static_cast<unsigned>(ev & 0xff));
        return std::string(reason_name(static_cast<std::uint8_t>(ev))) + " (" + code + ")";
    }
};

struct codec_entry {
    const char* message;
    reason maps_to;
};

codec_entry codec_info(codec_error e) noexcept {
    switch (e) {
        case codec_error::ok: return {"success", reason::success};
        case codec_error::remaining_length_too_long: return {"remaining length longer than 4 bytes", reason::malformed_packet};
        case codec_error::varint_not_minimal: return {"variable byte integer not minimally encoded", reason::malformed_packet};
        case codec_error::packet_too_large: return {"packet exceeds the maximum packet size", reason::packet_too_large};
        case codec_error::reserved_packet_type: return {"reserved packet type 0", reason::malformed_packet};
        case codec_error::bad_fixed_header_flags: return {"invalid fixed header flags", reason::malformed_packet};
        case codec_error::invalid_qos: return {"QoS 3 is invalid", reason::malformed_packet};
        case codec_error::dup_on_qos0: return {"DUP flag set on a QoS 0 PUBLISH", reason::malformed_packet};
        case codec_error::zero_packet_id: return {"packet identifier 0", reason::malformed_packet};
        case codec_error::truncated: return {"field runs past the end of the packet", reason::malformed_packet};
        case codec_error::trailing_bytes: return {"unexpected bytes after the last field", reason::malformed_packet};
        case codec_error::invalid_utf8: return {"invalid UTF-8 string", reason::malformed_packet};
        case codec_error::null_character: return {"string contains U+0000", reason::malformed_packet};
        case codec_error::string_too_long: return {"string or binary field too long", reason::implementation_specific_error};
        case codec_error::bad_protocol_name: return {"protocol name is not MQTT", reason::malformed_packet};
        case codec_error::unsupported_protocol_version: return {"unsupported protocol level", reason::unsupported_protocol_version};
        case codec_error::connect_reserved_flag: return {"CONNECT reserved flag set", reason::malformed_packet};
        case codec_error::bad_will_flags: return {"inconsistent Will flags", reason::malformed_packet};
        case codec_error::password_without_username: return {"password flag without user name flag", reason::malformed_packet};
        case codec_error::topic_name_empty: return {"empty topic name", reason::protocol_error};
        case codec_error::topic_name_has_wildcard: return {"wildcard in topic name", reason::topic_name_invalid};
        case codec_error::topic_filter_invalid: return {"invalid topic filter", reason::topic_filter_invalid};
        case codec_error::empty_subscription_list: return {"no topic filters", reason::protocol_error};
        case codec_error::bad_subscription_options: return {"invalid subscription options", reason::malformed_packet};
        case codec_error::no_local_on_shared: return {"No Local on a shared subscription", reason::protocol_error};
        case codec_error::invalid_reason_code: return {"reason code not allowed in this packet", reason::malformed_packet};
        case codec_error::unknown_property: return {"unknown property identifier", reason::malformed_packet};
        case codec_error::property_not_allowed: return {"property not allowed in this packet", reason::malformed_packet};
        case codec_error::duplicate_property: return {"property included more than once", reason::protocol_error};
        case codec_error::property_value_invalid: return {"invalid property value", reason::protocol_error};
        case codec_error::too_many_user_properties: return {"too many user properties", reason::implementation_specific_error};
        case codec_error::auth_on_v311: return {"AUTH does not exist in MQTT 3.1.1", reason::malformed_packet};
        case codec_error::subscription_id_from_client: return {"Subscription Identifier sent by a client", reason::protocol_error};
        case codec_error::auth_data_without_method: return {"Authentication Data without Authentication Method", reason::protocol_error};
        case codec_error::response_topic_invalid: return {"Response Topic is not a valid topic name", reason::protocol_error};
        case codec_error::topic_alias_zero: return {"Topic Alias 0", reason::topic_alias_invalid};
        case codec_error::topic_name_invalid: return {"invalid topic name", reason::topic_name_invalid};
        case codec_error::subscription_option_value: return {"Maximum QoS 3 or Retain Handling 3", reason::protocol_error};
        case codec_error::connack_reserved_flags: return {"CONNACK reserved flag set", reason::malformed_packet};
    }
    return {"unknown codec error", reason::unspecified_error};
}

class codec_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mqtt.codec"; }
    std::string message(int ev) const override {
        return codec_info(static_cast<codec_error>(ev)).message;
    }
};

}  // namespace

const std::error_category& reason_category() noexcept {
    static const reason_category_impl instance;
    return instance;
}
std::error_code make_error_code(reason r) noexcept {
    return {static_cast<int>(r), reason_category()};
}
const std::error_category& codec_category() noexcept {
    static const codec_category_impl instance;
    return instance;
}
std::error_code make_error_code(codec_error e) noexcept {
    return {static_cast<int>(e), codec_category()};
}

reason reason_of(std::error_code ec) noexcept {
    if (!ec) return reason::success;
    if (ec.category() == reason_category()) return static_cast<reason>(ec.value() & 0xff);
    if (ec.category() == codec_category()) return codec_info(static_cast<codec_error>(ec.value())).maps_to;
    return reason::unspecified_error;
}

}  // namespace mqtt
