// SPDX-License-Identifier: MIT
#include <mqtt/codec/properties.hpp>

#include <algorithm>
#include <array>

namespace mqtt {
namespace {

using ctx = property_context;

constexpr std::uint32_t bit(ctx c) { return 1u << static_cast<unsigned>(c); }

struct property_info {
    std::uint8_t id;
    property_type type;
    std::uint32_t allowed;  // bit per property_context
    const char* name;
};

constexpr std::uint32_t all_packets = bit(ctx::connect) | bit(ctx::connack) | bit(ctx::publish) |
    bit(ctx::will) | bit(ctx::puback) | bit(ctx::pubrec) | bit(ctx::pubrel) | bit(ctx::pubcomp) |
    bit(ctx::subscribe) | bit(ctx::suback) | bit(ctx::unsubscribe) | bit(ctx::unsuback) |
    bit(ctx::disconnect) | bit(ctx::auth);
constexpr std::uint32_t acks = bit(ctx::connack) | bit(ctx::puback) | bit(ctx::pubrec) |
    bit(ctx::pubrel) | bit(ctx::pubcomp) | bit(ctx::suback) | bit(ctx::unsuback) |
    bit(ctx::disconnect) | bit(ctx::auth);

// MQTT 5.0 section 2.2.2.2, table 2-4: identifier, type and where it may appear.
constexpr std::array<property_info, 27> table{{
    {0x01, property_type::byte, bit(ctx::publish) | bit(ctx::will), "payload-format-indicator"},
    {0x02, property_type::four_byte, bit(ctx::publish) | bit(ctx::will), "message-expiry-interval"},
    {0x03, property_type::utf8, bit(ctx::publish) | bit(ctx::will), "content-type"},
    {0x08, property_type::utf8, bit(ctx::publish) | bit(ctx::will), "response-topic"},
    {0x09, property_type::binary, bit(ctx::publish) | bit(ctx::will), "correlation-data"},
    {0x0B, property_type::varint, bit(ctx::publish) | bit(ctx::subscribe), "subscription-identifier"},
    {0x11, property_type::four_byte, bit(ctx::connect) | bit(ctx::connack) | bit(ctx::disconnect),
     "session-expiry-interval"},
    {0x12, property_type::utf8, bit(ctx::connack), "assigned-client-identifier"},
    {0x13, property_type::two_byte, bit(ctx::connack), "server-keep-alive"},
    {0x15, property_type::utf8, bit(ctx::connect) | bit(ctx::connack) | bit(ctx::auth), "authentication-method"},
    {0x16, property_type::binary, bit(ctx::connect) | bit(ctx::connack) | bit(ctx::auth), "authentication-data"},
    {0x17, property_type::byte, bit(ctx::connect), "request-problem-information"},
    {0x18, property_type::four_byte, bit(ctx::will), "will-delay-interval"},
    {0x19, property_type::byte, bit(ctx::connect), "request-response-information"},
    {0x1A, property_type::utf8, bit(ctx::connack), "response-information"},
    {0x1C, property_type::utf8, bit(ctx::connack) | bit(ctx::disconnect), "server-reference"},
    {0x1F, property_type::utf8, acks, "reason-string"},
    {0x21, property_type::two_byte, bit(ctx::connect) | bit(ctx::connack), "receive-maximum"},
    {0x22, property_type::two_byte, bit(ctx::connect) | bit(ctx::connack), "topic-alias-maximum"},
    {0x23, property_type::two_byte, bit(ctx::publish), "topic-alias"},
    {0x24, property_type::byte, bit(ctx::connack), "maximum-qos"},
    {0x25, property_type::byte, bit(ctx::connack), "retain-available"},
    {0x26, property_type::utf8_pair, all_packets, "user-property"},
    {0x27, property_type::four_byte, bit(ctx::connect) | bit(ctx::connack), "maximum-packet-size"},
    {0x28, property_type::byte, bit(ctx::connack), "wildcard-subscription-available"},
    {0x29, property_type::byte, bit(ctx::connack), "subscription-identifier-available"},
    {0x2A, property_type::byte, bit(ctx::connack), "shared-subscription-available"},
}};

const property_info* find(std::uint8_t id) noexcept {
    for (const auto& p : table)
        if (p.id == id) return &p;
    return nullptr;
}

}  // namespace

std::optional<property_type> type_of(std::uint8_t id) noexcept {
    if (const auto* p = find(id)) return p->type;
    return std::nullopt;
}

bool property_allowed(property_id id, property_context c) noexcept {
    const auto* p = find(static_cast<std::uint8_t>(id));
    return p != nullptr && (p->allowed & bit(c)) != 0;
}

bool property_repeatable(property_id id, property_context c) noexcept {
    // User Property may repeat anywhere; Subscription Identifier repeats only in
    // PUBLISH (one per matching subscription) [MQTT-3.3.4-3]. Everything else is a
    // Protocol Error when included twice.
    return id == property_id::user_property ||
           (id == property_id::subscription_identifier && c == property_context::publish);
}

const char* property_name(property_id id) noexcept {
    const auto* p = find(static_cast<std::uint8_t>(id));
    return p ? p->name : nullptr;
}

std::optional<property_id> property_from_name(std::string_view name) noexcept {
    for (const auto& p : table)
        if (name == p.name) return static_cast<property_id>(p.id);
    return std::nullopt;
}

bool properties::has(property_id id) const noexcept {
    return std::any_of(items.begin(), items.end(), [id](const property& p) { return p.id == id; });
}

std::optional<std::uint32_t> properties::get_int(property_id id) const noexcept {
    for (const auto& p : items)
        if (p.id == id)
            if (const auto* v = std::get_if<std::uint32_t>(&p.value)) return *v;
    return std::nullopt;
}

const std::string* properties::get_string(property_id id) const noexcept {
    for (const auto& p : items)
        if (p.id == id)
            if (const auto* v = std::get_if<std::string>(&p.value)) return v;
    return nullptr;
}

const binary* properties::get_binary(property_id id) const noexcept {
    for (const auto& p : items)
        if (p.id == id)
            if (const auto* v = std::get_if<binary>(&p.value)) return v;
    return nullptr;
}

std::vector<string_pair> properties::user_properties() const {
    std::vector<string_pair> out;
    for (const auto& p : items)
        if (p.id == property_id::user_property)
            if (const auto* v = std::get_if<string_pair>(&p.value)) out.push_back(*v);
    return out;
}

std::vector<std::uint32_t> properties::get_all_ints(property_id id) const {
    std::vector<std::uint32_t> out;
    for (const auto& p : items)
        if (p.id == id)
            if (const auto* v = std::get_if<std::uint32_t>(&p.value)) out.push_back(*v);
    return out;
}

namespace {
template <typename T>
void set_value(std::vector<property>& items, property_id id, T v) {
    for (auto& p : items) {
        if (p.id == id) {
            p.value = std::move(v);
            return;
        }
    }
    items.push_back(property{id, std::move(v)});
}
}  // namespace

void properties::set_int(property_id id, std::uint32_t v) { set_value(items, id, v); }
void properties::set_string(property_id id, std::string v) { set_value(items, id, std::move(v)); }
void properties::set_binary(property_id id, binary v) { set_value(items, id, std::move(v)); }
void properties::add_int(property_id id, std::uint32_t v) { items.push_back(property{id, v}); }
void properties::add_user_property(std::string key, std::string value) {
    items.push_back(property{property_id::user_property, string_pair{std::move(key), std::move(value)}});
}
void properties::remove(property_id id) {
    std::erase_if(items, [id](const property& p) { return p.id == id; });
}

}  // namespace mqtt
