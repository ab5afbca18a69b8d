// SPDX-License-Identifier: MIT
// The random round-trip and split tests are only as strong as their inputs:
// these checks pin down that the generator reaches every packet type, every
// property, multibyte strings, every varint width and every short ack form,
// and that the property table it relies on matches the MQTT 5.0 spec.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/properties.hpp>

#include "codec_test_util.hpp"
#include "packet_gen_util.hpp"

namespace {

using mqtt::property_context;
using mqtt::property_id;
using ctx = property_context;

bool has_multibyte(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string joined(const std::set<std::size_t>& s) {
    std::string out;
    for (auto v : s) out += (out.empty() ? "" : " ") + std::to_string(v);
    return out;
}

void note_props(const mqtt::properties& ps, std::set<property_id>& seen) {
    for (const auto& p : ps.items) seen.insert(p.id);
}

// Spec 2.2.2.2, written out independently of the codec's table.
const std::map<property_id, std::set<property_context>> spec_table = {
    {property_id::payload_format_indicator, {ctx::publish, ctx::will}},
    {property_id::message_expiry_interval, {ctx::publish, ctx::will}},
    {property_id::content_type, {ctx::publish, ctx::will}},
    {property_id::response_topic, {ctx::publish, ctx::will}},
    {property_id::correlation_data, {ctx::publish, ctx::will}},
    {property_id::subscription_identifier, {ctx::publish, ctx::subscribe}},
    {property_id::session_expiry_interval, {ctx::connect, ctx::connack, ctx::disconnect}},
    {property_id::assigned_client_identifier, {ctx::connack}},
    {property_id::server_keep_alive, {ctx::connack}},
    {property_id::authentication_method, {ctx::connect, ctx::connack, ctx::auth}},
    {property_id::authentication_data, {ctx::connect, ctx::connack, ctx::auth}},
    {property_id::request_problem_information, {ctx::connect}},
    {property_id::will_delay_interval, {ctx::will}},
    {property_id::request_response_information, {ctx::connect}},
    {property_id::response_information, {ctx::connack}},
    {property_id::server_reference, {ctx::connack, ctx::disconnect}},
    {property_id::reason_string,
     {ctx::connack, ctx::puback, ctx::pubrec, ctx::pubrel, ctx::pubcomp, ctx::suback, ctx::unsuback,
      ctx::disconnect, ctx::auth}},
    {property_id::receive_maximum, {ctx::connect, ctx::connack}},
    {property_id::topic_alias_maximum, {ctx::connect, ctx::connack}},
    {property_id::topic_alias, {ctx::publish}},
    {property_id::maximum_qos, {ctx::connack}},
    {property_id::retain_available, {ctx::connack}},
    {property_id::user_property,
     {ctx::connect, ctx::connack, ctx::publish, ctx::will, ctx::puback, ctx::pubrec, ctx::pubrel,
      ctx::pubcomp, ctx::subscribe, ctx::suback, ctx::unsubscribe, ctx::unsuback, ctx::disconnect,
      ctx::auth}},
    {property_id::maximum_packet_size, {ctx::connect, ctx::connack}},
    {property_id::wildcard_subscription_available, {ctx::connack}},
    {property_id::subscription_identifier_available, {ctx::connack}},
    {property_id::shared_subscription_available, {ctx::connack}},
};

}  // namespace

TEST_CASE("MQTT-2.2.2.2 property_allowed matches the spec property table") {
    for (const auto& [id, allowed] : spec_table) {
        for (int c = 0; c <= static_cast<int>(ctx::auth); ++c) {
            const auto where = static_cast<property_context>(c);
            CAPTURE(mqtt::property_name(id));
            CAPTURE(c);
            CHECK(mqtt::property_allowed(id, where) == (allowed.count(where) == 1));
        }
    }
    // Only User Property, and Subscription Identifier in PUBLISH, may repeat [MQTT-3.3.4].
    CHECK(mqtt::property_repeatable(property_id::user_property, ctx::connect));
    CHECK(mqtt::property_repeatable(property_id::subscription_identifier, ctx::publish));
    CHECK_FALSE(mqtt::property_repeatable(property_id::subscription_identifier, ctx::subscribe));
    CHECK_FALSE(mqtt::property_repeatable(property_id::reason_string, ctx::puback));
}

TEST_CASE("MQTT-2.1.2 random packet generator reaches every type property and length class") {
    mq_test::packet_generator gen(0x6d71'0005, mqtt::protocol_version::v5);  // the round-trip seed
    std::set<mqtt::packet_type> types;
    std::set<property_id> ids;
    std::set<std::size_t> ack_sizes;  // remaining length of PUBACK..PUBCOMP without properties
    std::set<std::size_t> header_sizes;
    std::set<std::size_t> sub_id_widths;
    bool multibyte_topic = false, four_byte_char = false, prop_order_varies = false, nl_rap_rh = false;
    for (int i = 0; i < 2000; ++i) {
        const auto p = gen.next();
        types.insert(mqtt::type_of(p));
        std::error_code ec;
        const auto wire = mq_test::encode_bytes(p, mqtt::protocol_version::v5, ec);
        REQUIRE(!ec);
        std::size_t rl_bytes = 1;
        while (wire[rl_bytes] & 0x80) ++rl_bytes;
        header_sizes.insert(rl_bytes);
        std::visit(
            [&](const auto& x) {
                using t = std::decay_t<decltype(x)>;
                if constexpr (!std::is_same_v<t, mqtt::pingreq> && !std::is_same_v<t, mqtt::pingresp>) {
                    note_props(x.props, ids);
                    if (x.props.size() >= 2 && x.props.items.front().id > x.props.items.back().id)
                        prop_order_varies = true;
                }
                if constexpr (std::is_same_v<t, mqtt::connect>) {
                    if (x.will_msg) note_props(x.will_msg->props, ids);
                } else if constexpr (std::is_same_v<t, mqtt::publish>) {
                    multibyte_topic = multibyte_topic || has_multibyte(x.topic);
                    four_byte_char = four_byte_char || x.topic.find("\xf0") != std::string::npos;
                    for (auto v : x.props.get_all_ints(property_id::subscription_identifier))
                        sub_id_widths.insert(v < 128 ? 1 : v < 16384 ? 2 : v < 2'097'152 ? 3 : 4);
                } else if constexpr (std::is_same_v<t, mqtt::puback> || std::is_same_v<t, mqtt::pubrec> ||
                                     std::is_same_v<t, mqtt::pubrel> || std::is_same_v<t, mqtt::pubcomp>) {
                    if (x.props.empty()) ack_sizes.insert(wire.size() - 2);
                } else if constexpr (std::is_same_v<t, mqtt::subscribe>) {
                    for (const auto& e : x.entries)
                        nl_rap_rh =
                            nl_rap_rh || (e.no_local && e.retain_as_published && e.retain_handling == 2);
                }
            },
            p);
    }
    CHECK(types.size() == 15);
    CHECK(ids.size() == spec_table.size());
    CHECK(joined(ack_sizes) == "2 3");
    CHECK(joined(header_sizes) == "1 2 3");
    CHECK(joined(sub_id_widths) == "1 2 3 4");
    CHECK(multibyte_topic);
    CHECK(four_byte_char);
    CHECK(prop_order_varies);
    CHECK(nl_rap_rh);
}
