// SPDX-License-Identifier: MIT
#include "packet_gen_util.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace mq_test {
namespace {

using mqtt::property_context;
using mqtt::property_id;

// 1-, 2-, 3- and 4-byte UTF-8 characters; none is a control character or U+0000.
constexpr std::array<std::string_view, 20> alphabet = {
    "a",
    "b",
    "z",
    "K",
    "0",
    "7",
    "-",
    "_",
    " ",
    ".",
    "~",
    "$",
    "\xc3\xa9",          // é
    "\xc3\x9f",          // ß
    "\xd0\x96",          // Ж
    "\xe2\x82\xac",      // €
    "\xe4\xb8\xad",      // 中
    "\xef\xbb\xbf",      // U+FEFF, allowed [MQTT-1.5.4-3]
    "\xf0\x9f\x98\x80",  // 😀
    "\xf0\x90\x8d\x88",  // 𐍈
};

constexpr std::array<property_id, 27> all_ids = {
    property_id::payload_format_indicator,
    property_id::message_expiry_interval,
    property_id::content_type,
    property_id::response_topic,
    property_id::correlation_data,
    property_id::subscription_identifier,
    property_id::session_expiry_interval,
    property_id::assigned_client_identifier,
    property_id::server_keep_alive,
    property_id::authentication_method,
    property_id::authentication_data,
    property_id::request_problem_information,
    property_id::will_delay_interval,
    property_id::request_response_information,
    property_id::response_information,
    property_id::server_reference,
    property_id::reason_string,
    property_id::receive_maximum,
    property_id::topic_alias_maximum,
    property_id::topic_alias,
    property_id::maximum_qos,
    property_id::retain_available,
    property_id::user_property,
    property_id::maximum_packet_size,
    property_id::wildcard_subscription_available,
    property_id::subscription_identifier_available,
    property_id::shared_subscription_available,
};

// Reason codes each packet may carry (MQTT 5.0 sections 3.2.2.2, 3.4.2.1 ... 3.15.2.1).
const std::vector<std::uint8_t> connack_codes = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                                 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                                 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
const std::vector<std::uint8_t> puback_codes = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
const std::vector<std::uint8_t> pubrel_codes = {0x00, 0x92};
const std::vector<std::uint8_t> suback_codes = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                                0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
const std::vector<std::uint8_t> unsuback_codes = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
const std::vector<std::uint8_t> disconnect_codes = {
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
const std::vector<std::uint8_t> auth_codes = {0x00, 0x18, 0x19};

}  // namespace

std::uint32_t packet_generator::range(std::uint32_t lo, std::uint32_t hi) {
    const std::uint64_t span = std::uint64_t{hi} - lo + 1;
    return lo + static_cast<std::uint32_t>(rng_() % span);
}

bool packet_generator::chance(std::uint32_t one_in) { return range(1, one_in) == 1; }

std::string packet_generator::text(std::size_t max_chars) {
    std::string out;
    const auto n = range(0, static_cast<std::uint32_t>(max_chars));
    for (std::uint32_t i = 0; i < n; ++i)
        out += alphabet[range(0, static_cast<std::uint32_t>(alphabet.size() - 1))];
    return out;
}

std::string packet_generator::topic_name() {
    // Levels may be empty ("a//b", "/a") [MQTT-4.7.1]; the whole name may not [MQTT-4.7.3-1].
    std::string out;
    const auto levels = range(1, 4);
    for (std::uint32_t i = 0; i < levels; ++i) {
        if (i != 0) out += '/';
        out += text(i == 0 ? 6 : 4);
    }
    if (out.empty()) out = "t";
    return out;
}

std::string packet_generator::topic_filter() {
    std::string out;
    const auto levels = range(1, 4);
    for (std::uint32_t i = 0; i < levels; ++i) {
        if (i != 0) out += '/';
        if (i + 1 == levels && chance(4))
            out += '#';
        else if (chance(4))
            out += '+';
        else
            out += text(4);
    }
    if (out.empty()) out = "f";
    if (chance(8)) out = "$share/" + std::string(chance(2) ? "g" : "grp-\xc3\xa9") + "/" + out;
    return out;
}

std::vector<std::uint8_t> packet_generator::bytes(std::size_t max_len) {
    std::vector<std::uint8_t> out(range(0, static_cast<std::uint32_t>(max_len)));
    for (auto& b : out) b = static_cast<std::uint8_t>(range(0, 255));
    return out;
}

std::vector<std::uint8_t> packet_generator::payload() {
    // Now and then a payload large enough for a 2- or 3-byte remaining length.
    if (chance(10)) return bytes(chance(2) ? range(130, 16'383) : range(16'384, 70'000));
    return bytes(40);
}

mqtt::reason packet_generator::pick(const std::vector<std::uint8_t>& codes) {
    return static_cast<mqtt::reason>(codes[range(0, static_cast<std::uint32_t>(codes.size() - 1))]);
}

mqtt::qos packet_generator::any_qos() { return static_cast<mqtt::qos>(range(0, 2)); }

std::uint16_t packet_generator::packet_id() {
    return static_cast<std::uint16_t>(chance(10) ? (chance(2) ? 1 : 65535) : range(1, 65535));
}

mqtt::property_value packet_generator::value_for(property_id id) {
    switch (id) {
        case property_id::payload_format_indicator:
        case property_id::request_problem_information:
        case property_id::request_response_information:
        case property_id::maximum_qos:
        case property_id::retain_available:
        case property_id::wildcard_subscription_available:
        case property_id::subscription_identifier_available:
        case property_id::shared_subscription_available:
            return range(0, 1);
        case property_id::message_expiry_interval:
        case property_id::session_expiry_interval:
        case property_id::will_delay_interval:
            return chance(4) ? 0xFFFF'FFFFu : range(0, 0xFFFF'FFFFu);
        case property_id::maximum_packet_size:
            return range(1, 0xFFFF'FFFFu);
        case property_id::server_keep_alive:
        case property_id::topic_alias_maximum:
            return range(0, 65535);
        case property_id::receive_maximum:
        case property_id::topic_alias:
            return range(1, 65535);
        case property_id::subscription_identifier: {
            // Spread over 1- to 4-byte varints.
            static constexpr std::array<std::uint32_t, 4> tops = {127, 16'383, 2'097'151, 268'435'455};
            return range(1, tops[range(0, 3)]);
        }
        case property_id::response_topic:
            return topic_name();
        case property_id::correlation_data:
        case property_id::authentication_data:
            return bytes(12);
        case property_id::user_property:
            return mqtt::string_pair{text(5), text(5)};
        default:  // the remaining UTF-8 string properties
            return text(8);
    }
}

mqtt::properties packet_generator::props(property_context ctx) {
    mqtt::properties out;
    if (version_ == mqtt::protocol_version::v311 && chance(3)) return out;
    if (chance(3)) return out;
    for (auto id : all_ids) {
        if (!mqtt::property_allowed(id, ctx)) continue;
        std::uint32_t count = 0;
        if (id == property_id::user_property)
            count = chance(2) ? range(1, 3) : 0;
        else if (mqtt::property_repeatable(id, ctx))
            count = chance(2) ? range(1, 3) : 0;
        else
            count = chance(3) ? 1 : 0;
        for (std::uint32_t i = 0; i < count; ++i) out.items.push_back({id, value_for(id)});
    }
    // Authentication Data needs an Authentication Method [MQTT-4.12].
    if (out.has(property_id::authentication_data) && !out.has(property_id::authentication_method))
        out.items.push_back({property_id::authentication_method, text(8)});
    // Wire order is free; the decoder must keep whatever order it received.
    std::shuffle(out.items.begin(), out.items.end(), rng_);
    return out;
}

mqtt::connect packet_generator::make_connect() {
    mqtt::connect c;
    c.version = version_;
    c.client_id = text(10);
    c.clean_start = chance(2);
    // 3.1.1: an empty client id requires a clean session [MQTT-3.1.3-7].
    if (version_ == mqtt::protocol_version::v311 && c.client_id.empty()) c.clean_start = true;
    c.keep_alive = static_cast<std::uint16_t>(chance(5) ? 0 : range(0, 65535));
    if (chance(2)) c.username = text(8);
    // 3.1.1 cannot carry a password without a user name [MQTT-3.1.2-22].
    if (chance(2) && (c.username || version_ == mqtt::protocol_version::v5)) c.password = bytes(10);
    if (chance(2)) {
        mqtt::will w;
        w.topic = topic_name();
        w.level = any_qos();
        w.retain = chance(2);
        w.props = props(property_context::will);
        w.payload = bytes(30);
        if (w.props.get_int(property_id::payload_format_indicator) == 1u) {
            const auto s = text(10);
            w.payload.assign(s.begin(), s.end());
        }
        c.will_msg = std::move(w);
    }
    c.props = props(property_context::connect);
    return c;
}

mqtt::publish packet_generator::make_publish() {
    mqtt::publish p;
    p.topic = topic_name();
    p.level = any_qos();
    p.retain = chance(2);
    if (p.level != mqtt::qos::at_most_once) {
        p.packet_id = packet_id();
        p.dup = chance(3);  // DUP only with QoS > 0 [MQTT-3.3.1-2]
    }
    p.props = props(property_context::publish);
    p.payload = payload();
    if (p.props.get_int(property_id::payload_format_indicator) == 1u) {
        const auto s = text(20);
        p.payload.assign(s.begin(), s.end());
    }
    return p;
}

mqtt::subscribe packet_generator::make_subscribe() {
    mqtt::subscribe s;
    s.packet_id = packet_id();
    const auto n = range(1, 4);  // at least one entry [MQTT-3.8.3-2]
    for (std::uint32_t i = 0; i < n; ++i) {
        mqtt::subscription e;
        e.filter = topic_filter();
        e.max_qos = any_qos();
        // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
        e.no_local = e.filter.rfind("$share/", 0) != 0 && chance(2);
        e.retain_as_published = chance(2);
        e.retain_handling = static_cast<std::uint8_t>(range(0, 2));
        s.entries.push_back(std::move(e));
    }
    s.props = props(property_context::subscribe);
    return s;
}

mqtt::packet packet_generator::next() {
    const auto last = version_ == mqtt::protocol_version::v5 ? 15u : 14u;
    return make(static_cast<mqtt::packet_type>(range(1, last)));
}

mqtt::packet packet_generator::make(mqtt::packet_type t) {
    using mqtt::packet_type;
    switch (t) {
        case packet_type::connect:
            return make_connect();
        case packet_type::connack: {
            mqtt::connack c;
            c.reason_code = pick(connack_codes);
            // Session Present is 0 with a failure code [MQTT-3.2.2-6].
            c.session_present = !mqtt::is_failure(c.reason_code) && chance(2);
            c.props = props(property_context::connack);
            return c;
        }
        case packet_type::publish:
            return make_publish();
        case packet_type::puback:
            return mqtt::puback{packet_id(), pick(puback_codes), props(property_context::puback)};
        case packet_type::pubrec:
            return mqtt::pubrec{packet_id(), pick(puback_codes), props(property_context::pubrec)};
        case packet_type::pubrel:
            return mqtt::pubrel{packet_id(), pick(pubrel_codes), props(property_context::pubrel)};
        case packet_type::pubcomp:
            return mqtt::pubcomp{packet_id(), pick(pubrel_codes), props(property_context::pubcomp)};
        case packet_type::subscribe:
            return make_subscribe();
        case packet_type::suback: {
            mqtt::suback s;
            s.packet_id = packet_id();
            const auto n = range(1, 5);
            for (std::uint32_t i = 0; i < n; ++i) s.reason_codes.push_back(pick(suback_codes));
            s.props = props(property_context::suback);
            return s;
        }
        case packet_type::unsubscribe: {
            mqtt::unsubscribe u;
            u.packet_id = packet_id();
            const auto n = range(1, 4);
            for (std::uint32_t i = 0; i < n; ++i) u.filters.push_back(topic_filter());
            u.props = props(property_context::unsubscribe);
            return u;
        }
        case packet_type::unsuback: {
            mqtt::unsuback u;
            u.packet_id = packet_id();
            const auto n = range(1, 5);
            for (std::uint32_t i = 0; i < n; ++i) u.reason_codes.push_back(pick(unsuback_codes));
            u.props = props(property_context::unsuback);
            return u;
        }
        case packet_type::pingreq:
            return mqtt::pingreq{};
        case packet_type::pingresp:
            return mqtt::pingresp{};
        case packet_type::disconnect:
            return mqtt::disconnect{pick(disconnect_codes), props(property_context::disconnect)};
        case packet_type::auth: {
            // Every AUTH but the zero-length form carries a Method (3.15.2.2.2).
            mqtt::auth a{pick(auth_codes), props(property_context::auth)};
            if ((a.reason_code != mqtt::reason::success || !a.props.empty()) &&
                !a.props.has(property_id::authentication_method))
                a.props.items.push_back({property_id::authentication_method, text(8)});
            return a;
        }
        case packet_type::reserved:
            break;
    }
    return mqtt::pingreq{};
}

}  // namespace mq_test
