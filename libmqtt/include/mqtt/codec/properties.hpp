// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <mqtt/codec/types.hpp>

namespace mqtt {

/// MQTT 5.0 property identifiers (spec 2.2.2.2).
enum class property_id : std::uint8_t {
    payload_format_indicator = 0x01,
    message_expiry_interval = 0x02,
    content_type = 0x03,
    response_topic = 0x08,
    correlation_data = 0x09,
    subscription_identifier = 0x0B,
    session_expiry_interval = 0x11,
    assigned_client_identifier = 0x12,
    server_keep_alive = 0x13,
    authentication_method = 0x15,
    authentication_data = 0x16,
    request_problem_information = 0x17,
    will_delay_interval = 0x18,
    request_response_information = 0x19,
    response_information = 0x1A,
    server_reference = 0x1C,
    reason_string = 0x1F,
    receive_maximum = 0x21,
    topic_alias_maximum = 0x22,
    topic_alias = 0x23,
    maximum_qos = 0x24,
    retain_available = 0x25,
    user_property = 0x26,
    maximum_packet_size = 0x27,
    wildcard_subscription_available = 0x28,
    subscription_identifier_available = 0x29,
    shared_subscription_available = 0x2A,
};

/// Wire data types of properties (spec 1.5).
enum class property_type : std::uint8_t { byte, two_byte, four_byte, varint, utf8, binary, utf8_pair };

/// Where a property block appears. `will` is the Will Properties of CONNECT.
enum class property_context : std::uint8_t {
    connect, connack, publish, will, puback, pubrec, pubrel, pubcomp,
    subscribe, suback, unsubscribe, unsuback, disconnect, auth,
};

/// Type of a defined property id; nullopt when the id is not defined.
std::optional<property_type> type_of(std::uint8_t id) noexcept;
/// Whether the property may appear in this context (spec 2.2.2.2 table).
bool property_allowed(property_id id, property_context ctx) noexcept;
/// Whether the property may appear more than once (User Property; Subscription
/// Identifier in PUBLISH only) [MQTT-3.3.4-?].
bool property_repeatable(property_id id, property_context ctx) noexcept;
/// kebab-case spec name, e.g. "message-expiry-interval"; nullptr when undefined.
const char* property_name(property_id id) noexcept;
/// Inverse of property_name.
std::optional<property_id> property_from_name(std::string_view name) noexcept;

using string_pair = std::pair<std::string, std::string>;
using binary = std::vector<std::uint8_t>;
/// Integers of every width are held as uint32_t; the id fixes the wire width.
using property_value = std::variant<std::uint32_t, std::string, binary, string_pair>;

struct property {
    property_id id;
    property_value value;
    friend bool operator==(const property&, const property&) = default;
};

/// A property block: (id, value) pairs in wire order, with typed accessors.
/// Setters replace an existing single-valued property in place.
class properties {
public:
    std::vector<property> items;

    bool empty() const noexcept { return items.empty(); }
    std::size_t size() const noexcept { return items.size(); }
    bool has(property_id id) const noexcept;

    std::optional<std::uint32_t> get_int(property_id id) const noexcept;
    const std::string* get_string(property_id id) const noexcept;
    const binary* get_binary(property_id id) const noexcept;
    /// All User Property pairs, in order, duplicates kept.
    std::vector<string_pair> user_properties() const;
    /// All values of a repeatable integer property (Subscription Identifier).
    std::vector<std::uint32_t> get_all_ints(property_id id) const;

    void set_int(property_id id, std::uint32_t v);
    void set_string(property_id id, std::string v);
    void set_binary(property_id id, binary v);
    void add_int(property_id id, std::uint32_t v);  // appends even if present
    void add_user_property(std::string key, std::string value);
    void remove(property_id id);

    friend bool operator==(const properties&, const properties&) = default;
};

}  // namespace mqtt
