// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <system_error>
#include <type_traits>

namespace mqtt {

/// Every MQTT 5.0 reason code (spec 2.4). Several names share a value (0x00 is
/// success, normal disconnection and granted QoS 0). MQTT 3.1.1 return codes are
/// mapped onto these on decode and back on encode.
enum class reason : std::uint8_t {
    success = 0x00,
    normal_disconnection = 0x00,
    granted_qos_0 = 0x00,
    granted_qos_1 = 0x01,
    granted_qos_2 = 0x02,
    disconnect_with_will_message = 0x04,
    no_matching_subscribers = 0x10,
    no_subscription_existed = 0x11,
    continue_authentication = 0x18,
    re_authenticate = 0x19,
    unspecified_error = 0x80,
    malformed_packet = 0x81,
    protocol_error = 0x82,
    implementation_specific_error = 0x83,
    unsupported_protocol_version = 0x84,
    client_identifier_not_valid = 0x85,
    bad_user_name_or_password = 0x86,
    not_authorized = 0x87,
    server_unavailable = 0x88,
    server_busy = 0x89,
    banned = 0x8A,
    server_shutting_down = 0x8B,
    bad_authentication_method = 0x8C,
    keep_alive_timeout = 0x8D,
    session_taken_over = 0x8E,
    topic_filter_invalid = 0x8F,
    topic_name_invalid = 0x90,
    packet_identifier_in_use = 0x91,
    packet_identifier_not_found = 0x92,
    receive_maximum_exceeded = 0x93,
    topic_alias_invalid = 0x94,
    packet_too_large = 0x95,
    message_rate_too_high = 0x96,
    quota_exceeded = 0x97,
    administrative_action = 0x98,
    payload_format_invalid = 0x99,
    retain_not_supported = 0x9A,
    qos_not_supported = 0x9B,
    use_another_server = 0x9C,
    server_moved = 0x9D,
    shared_subscriptions_not_supported = 0x9E,
    connection_rate_exceeded = 0x9F,
    maximum_connect_time = 0xA0,
    subscription_identifiers_not_supported = 0xA1,
    wildcard_subscriptions_not_supported = 0xA2,
};

/// True for every byte value that is a defined MQTT 5.0 reason code.
bool is_known_reason(std::uint8_t value) noexcept;
/// True when the code reports failure (>= 0x80) [MQTT-2.4].
constexpr bool is_failure(reason r) noexcept { return static_cast<std::uint8_t>(r) >= 0x80; }
/// Spec name of a reason code, e.g. "Not authorized"; "Unknown reason" if undefined.
const char* reason_name(std::uint8_t value) noexcept;

/// Category "mqtt.reason": what a peer said, or what we must say to it.
const std::error_category& reason_category() noexcept;
std::error_code make_error_code(reason r) noexcept;

/// Fine-grained decoding / validation failures (category "mqtt.codec"). Each maps
/// to exactly one reason code via reason_of(); tests assert both.
enum class codec_error : std::uint8_t {
    ok = 0,
    remaining_length_too_long,      // more than 4 bytes of varint        -> 0x81
    varint_not_minimal,             // non-minimal encoding [MQTT-1.5.5-1] -> 0x81
    packet_too_large,               // over limits::max_packet_size        -> 0x95
    reserved_packet_type,           // type 0                              -> 0x81
    bad_fixed_header_flags,         // [MQTT-2.1.3-1]                      -> 0x81
    invalid_qos,                    // QoS 3 [MQTT-3.3.1-4]                -> 0x81
    dup_on_qos0,                    // [MQTT-3.3.1-2]                      -> 0x81
    zero_packet_id,                 // [MQTT-2.2.1-3]                      -> 0x81
    truncated,                      // a field overruns the frame          -> 0x81
    trailing_bytes,                 // bytes after the last field          -> 0x81
    invalid_utf8,                   // [MQTT-1.5.4-1]                      -> 0x81
    null_character,                 // U+0000 [MQTT-1.5.4-2]               -> 0x81
    string_too_long,                // over limits::max_string_length      -> 0x83
    bad_protocol_name,              // not "MQTT" [MQTT-3.1.2-1]           -> 0x81 (close)
    unsupported_protocol_version,   // level not 4/5 [MQTT-3.1.2-2]        -> 0x84
    connect_reserved_flag,          // [MQTT-3.1.2-3]                      -> 0x81
    bad_will_flags,                 // [MQTT-3.1.2-11..13]                 -> 0x81
    password_without_username,      // 3.1.1 [MQTT-3.1.2-22]               -> 0x81
    topic_name_empty,               // no topic and no alias               -> 0x82
    topic_name_has_wildcard,        // [MQTT-3.3.2-2]                      -> 0x90
    topic_filter_invalid,           // [MQTT-4.7.1-*]                      -> 0x8F
    empty_subscription_list,        // [MQTT-3.8.3-2] [MQTT-3.10.3-2]      -> 0x82
    bad_subscription_options,       // reserved bits, QoS 3, RH 3 [MQTT-3.8.3-5] -> 0x81
    no_local_on_shared,             // [MQTT-3.8.3-4]                      -> 0x82
    invalid_reason_code,            // code not allowed in this packet     -> 0x81
    unknown_property,               // id not defined                      -> 0x81
    property_not_allowed,           // defined but not in this packet      -> 0x81
    duplicate_property,             // [MQTT-3.1.2-*] single-valued twice  -> 0x82
    property_value_invalid,         // e.g. Receive Maximum 0              -> 0x82
    too_many_user_properties,       // over limits::max_user_properties    -> 0x83
    auth_on_v311,                   // AUTH does not exist in 3.1.1        -> 0x81 (close)
    subscription_id_from_client,    // [MQTT-3.3.4-6] in PUBLISH to server -> 0x82
    auth_data_without_method,       // [MQTT-3.1.2-?] / 4.12               -> 0x82
    response_topic_invalid,         // wildcard in Response Topic          -> 0x82
    topic_alias_zero,               // [MQTT-3.3.2-8]                      -> 0x94
    topic_name_invalid,             // e.g. more levels than allowed       -> 0x90
    connack_reserved_flags,         // [MQTT-3.2.2-1]                      -> 0x81
    subscription_option_value,      // v5 Maximum QoS 3 / Retain Handling 3 (3.8.3.1) -> 0x82
};

const std::error_category& codec_category() noexcept;
std::error_code make_error_code(codec_error e) noexcept;

/// The reason code to send (or report) for an error from either category;
/// unspecified_error for anything else, success for no error.
reason reason_of(std::error_code ec) noexcept;

}  // namespace mqtt

template <> struct std::is_error_code_enum<mqtt::reason> : std::true_type {};
template <> struct std::is_error_code_enum<mqtt::codec_error> : std::true_type {};
