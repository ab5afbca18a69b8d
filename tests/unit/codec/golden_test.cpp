// SPDX-License-Identifier: MIT
// Golden vectors: tests/data/golden/<name>.hex is hand-assembled from the MQTT
// 3.1.1 and 5.0 specifications. Each file must decode to the packet written out
// here field by field, and that packet must encode back to the same bytes.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

#include "codec_test_util.hpp"
#include "golden_loader.hpp"

namespace {

using mqtt::property_id;
using mqtt::protocol_version;
using mqtt::reason;
using bytes_t = std::vector<std::uint8_t>;

struct golden_case {
    std::string name;
    protocol_version version;
    mqtt::packet expected;
};

bytes_t b(std::string_view s) { return bytes_t(s.begin(), s.end()); }
mqtt::property u(property_id id, std::uint32_t v) { return {id, v}; }
mqtt::property str(property_id id, std::string v) { return {id, std::move(v)}; }
mqtt::property bin(property_id id, bytes_t v) { return {id, std::move(v)}; }
mqtt::property user(std::string k, std::string v) {
    return {property_id::user_property, mqtt::string_pair{std::move(k), std::move(v)}};
}
mqtt::properties props(std::vector<mqtt::property> items) { return mqtt::properties{std::move(items)}; }

mqtt::connect connect_v5_full() {
    mqtt::connect c;
    c.version = protocol_version::v5;
    c.client_id = "sensor-42";
    c.clean_start = true;
    c.keep_alive = 30;
    c.props = props({u(property_id::session_expiry_interval, 3600), u(property_id::receive_maximum, 20),
                     u(property_id::maximum_packet_size, 1'048'576), u(property_id::topic_alias_maximum, 10),
                     u(property_id::request_response_information, 1),
                     u(property_id::request_problem_information, 0), user("region", "z\xc3\xbcrich"),
                     str(property_id::authentication_method, "SCRAM-SHA-1"),
                     bin(property_id::authentication_data, {1, 2, 3, 4})});
    mqtt::will w;
    w.topic = "status/sensor-42";
    w.payload = b("offline");
    w.level = mqtt::qos::at_least_once;
    w.retain = true;
    w.props =
        props({u(property_id::will_delay_interval, 5), u(property_id::payload_format_indicator, 1),
               u(property_id::message_expiry_interval, 120), str(property_id::content_type, "text/plain"),
               str(property_id::response_topic, "status/reply"),
               bin(property_id::correlation_data, {0x0a, 0x0b}), user("k", "v")});
    c.will_msg = w;
    c.username = "alice";
    c.password = bytes_t{0x70, 0x61, 0x73, 0x73, 0xff, 0x00};
    return c;
}

// Password without user name is legal in 5.0 [MQTT-3.1.2-19]; empty client id.
mqtt::connect connect_v5_password_only() {
    mqtt::connect c;
    c.version = protocol_version::v5;
    c.client_id = "";
    c.clean_start = false;
    c.keep_alive = 0;
    mqtt::will w;
    w.topic = "w";
    w.level = mqtt::qos::exactly_once;
    c.will_msg = w;
    c.password = bytes_t{0x00};
    return c;
}

bytes_t counting(std::size_t n) {
    bytes_t out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i);
    return out;
}

mqtt::connect connect_minimal(protocol_version v) {
    mqtt::connect c;
    c.version = v;
    c.client_id = "mq-client";
    c.clean_start = true;
    c.keep_alive = 60;
    return c;
}

mqtt::connect connect_v311_full() {
    mqtt::connect c;
    c.version = protocol_version::v311;
    c.client_id = "dev-1";
    c.clean_start = false;
    c.keep_alive = 600;
    mqtt::will w;
    w.topic = "dev/1/status";
    w.payload = b("gone");
    w.level = mqtt::qos::exactly_once;
    c.will_msg = w;
    c.username = "bob";
    c.password = b("hunter2");
    return c;
}

mqtt::connack connack_v5_props() {
    mqtt::connack c;
    c.session_present = true;
    c.props = props({u(property_id::session_expiry_interval, 7200), u(property_id::receive_maximum, 100),
                     u(property_id::maximum_qos, 1), u(property_id::retain_available, 0),
                     u(property_id::maximum_packet_size, 65536),
                     str(property_id::assigned_client_identifier, "auto-7f3a"),
                     u(property_id::topic_alias_maximum, 16), str(property_id::reason_string, "welcome"),
                     user("node", "b1"), u(property_id::wildcard_subscription_available, 1),
                     u(property_id::subscription_identifier_available, 0),
                     u(property_id::shared_subscription_available, 1), u(property_id::server_keep_alive, 120),
                     str(property_id::response_information, "resp/auto-7f3a"),
                     str(property_id::server_reference, "other.example:1883"),
                     str(property_id::authentication_method, "SCRAM-SHA-1"),
                     bin(property_id::authentication_data, {0x00, 0xff})});
    return c;
}

mqtt::publish pub(std::string topic, mqtt::qos q, bool retain, bool dup, std::uint16_t id, bytes_t payload,
                  mqtt::properties ps = {}) {
    return mqtt::publish{std::move(topic), std::move(payload), q, retain, dup, id, std::move(ps)};
}

const std::string grosse =
    "cmd/gr\xc3\xb6\xc3\x9f"
    "e";

mqtt::publish publish_v5_full() {
    return pub(
        grosse, mqtt::qos::exactly_once, true, true, 0x1234, b("{\"on\":true}"),
        props({u(property_id::payload_format_indicator, 1), u(property_id::message_expiry_interval, 300),
               u(property_id::topic_alias, 7), str(property_id::response_topic, "cmd/reply"),
               bin(property_id::correlation_data, {0xde, 0xad, 0xbe, 0xef}), user("a", "1"), user("a", "2"),
               u(property_id::subscription_identifier, 1),
               u(property_id::subscription_identifier, 268'435'455),
               str(property_id::content_type, "application/json")}));
}

mqtt::subscription sub(std::string filter, mqtt::qos q, bool nl = false, bool rap = false,
                       std::uint8_t rh = 0) {
    return mqtt::subscription{std::move(filter), q, nl, rap, rh};
}

std::vector<golden_case> v5_cases() {
    const auto v5 = protocol_version::v5;
    using mqtt::qos;
    return {
        {"connect_v5", v5, connect_minimal(v5)},
        {"connect_v5_full", v5, connect_v5_full()},
        {"connect_v5_password_only", v5, connect_v5_password_only()},
        {"connack_v5", v5, mqtt::connack{}},
        {"connack_v5_props", v5, connack_v5_props()},
        {"connack_v5_refused", v5,
         mqtt::connack{false, reason::not_authorized, props({str(property_id::reason_string, "no access")})}},
        {"publish_v5", v5, pub("a/b", qos::at_most_once, false, false, 0, b("hi"))},
        {"publish_v5_qos1_retain", v5,
         pub("sensors/temp", qos::at_least_once, true, false, 10, b("21.5"),
             props({u(property_id::message_expiry_interval, 60)}))},
        {"publish_v5_qos2_dup_props", v5, publish_v5_full()},
        {"publish_v5_alias_only", v5,
         pub("", qos::at_least_once, false, false, 65535, {}, props({u(property_id::topic_alias, 5)}))},
        {"publish_v5_long", v5, pub("x", qos::at_most_once, false, false, 0, counting(130))},
        {"puback_v5", v5, mqtt::puback{1, reason::success, {}}},
        {"puback_v5_reason", v5, mqtt::puback{2, reason::no_matching_subscribers, {}}},
        {"puback_v5_props", v5,
         mqtt::puback{3, reason::quota_exceeded,
                      props({str(property_id::reason_string, "quota"), user("x", "y")})}},
        {"pubrec_v5", v5, mqtt::pubrec{5, reason::success, {}}},
        {"pubrec_v5_reason", v5, mqtt::pubrec{6, reason::unspecified_error, {}}},
        {"pubrec_v5_props", v5, mqtt::pubrec{7, reason::success, props({user("trace", "abc")})}},
        {"pubrel_v5", v5, mqtt::pubrel{5, reason::success, {}}},
        {"pubrel_v5_reason", v5, mqtt::pubrel{8, reason::packet_identifier_not_found, {}}},
        {"pubcomp_v5", v5, mqtt::pubcomp{5, reason::success, {}}},
        {"pubcomp_v5_props", v5,
         mqtt::pubcomp{9, reason::packet_identifier_not_found,
                       props({str(property_id::reason_string, "unknown id")})}},
        {"subscribe_v5", v5, mqtt::subscribe{1, {sub("home/#", qos::at_least_once)}, {}}},
        {"subscribe_v5_options", v5,
         mqtt::subscribe{
             2,
             {sub("home/+/temp", qos::at_least_once, true, true, 1),
              sub("$share/g1/jobs/#", qos::exactly_once, false, false, 2), sub("alerts", qos::at_most_once)},
             props({u(property_id::subscription_identifier, 42), user("client", "mq")})}},
        {"suback_v5", v5,
         mqtt::suback{
             2,
             {reason::granted_qos_0, reason::granted_qos_1, reason::granted_qos_2, reason::unspecified_error,
              reason::not_authorized, reason::wildcard_subscriptions_not_supported},
             props({str(property_id::reason_string, "partial")})}},
        {"unsubscribe_v5", v5, mqtt::unsubscribe{3, {"home/+/temp", "alerts"}, props({user("k", "v")})}},
        {"unsuback_v5", v5,
         mqtt::unsuback{3, {reason::success, reason::no_subscription_existed, reason::not_authorized}, {}}},
        {"pingreq_v5", v5, mqtt::pingreq{}},
        {"pingresp_v5", v5, mqtt::pingresp{}},
        {"disconnect_v5", v5, mqtt::disconnect{}},
        {"disconnect_v5_reason_only", v5, mqtt::disconnect{reason::server_shutting_down, {}}},
        {"disconnect_v5_reason", v5,
         mqtt::disconnect{reason::disconnect_with_will_message,
                          props({u(property_id::session_expiry_interval, 7200),
                                 str(property_id::reason_string, "going offline")})}},
        {"auth_v5", v5,
         mqtt::auth{reason::continue_authentication,
                    props({str(property_id::authentication_method, "SCRAM-SHA-1"),
                           bin(property_id::authentication_data, b("client-final"))})}},
        {"auth_v5_short", v5, mqtt::auth{}},
    };
}

std::vector<golden_case> v311_cases() {
    const auto v3 = protocol_version::v311;
    using mqtt::qos;
    return {
        {"connect_v311", v3, connect_minimal(v3)},
        {"connect_v311_full", v3, connect_v311_full()},
        {"connack_v311", v3, mqtt::connack{true, reason::success, {}}},
        {"connack_v311_refused", v3, mqtt::connack{false, reason::not_authorized, {}}},
        {"publish_v311", v3, pub("a/b", qos::at_most_once, false, false, 0, b("hi"))},
        {"publish_v311_qos1_retain", v3, pub("sensors/temp", qos::at_least_once, true, false, 10, b("21.5"))},
        {"publish_v311_qos2_dup", v3,
         pub(grosse, qos::exactly_once, false, true, 0x1234, b("{\"on\":true}"))},
        {"puback_v311", v3, mqtt::puback{1, reason::success, {}}},
        {"pubrec_v311", v3, mqtt::pubrec{5, reason::success, {}}},
        {"pubrel_v311", v3, mqtt::pubrel{5, reason::success, {}}},
        {"pubcomp_v311", v3, mqtt::pubcomp{5, reason::success, {}}},
        {"subscribe_v311", v3,
         mqtt::subscribe{1,
                         {sub("home/+/temp", qos::at_most_once), sub("alerts/#", qos::at_least_once),
                          sub("gr\xc3\xb6\xc3\x9f"
                              "e/+",
                              qos::exactly_once)},
                         {}}},
        {"suback_v311", v3,
         mqtt::suback{
             1,
             {reason::granted_qos_0, reason::granted_qos_1, reason::granted_qos_2, reason::unspecified_error},
             {}}},
        {"unsubscribe_v311", v3, mqtt::unsubscribe{3, {"home/+/temp", "alerts/#"}, {}}},
        {"unsuback_v311", v3, mqtt::unsuback{3, {}, {}}},
        {"pingreq_v311", v3, mqtt::pingreq{}},
        {"pingresp_v311", v3, mqtt::pingresp{}},
        {"disconnect_v311", v3, mqtt::disconnect{}},
    };
}

std::vector<golden_case> all_cases() {
    auto out = v5_cases();
    auto more = v311_cases();
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

void check_golden(const golden_case& c) {
    CAPTURE(c.name);
    std::string error;
    const auto wire = mq_test::load_golden(c.name, error);
    REQUIRE_MESSAGE(error.empty(), error);
    REQUIRE(!wire.empty());

    // Decode: one frame spanning the whole file.
    std::error_code ec;
    const mqtt::limits lim;
    const auto frame = mqtt::next_frame(wire, lim, ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    REQUIRE(frame.has_value());
    CHECK(frame->total == wire.size());
    CHECK(frame->first_byte == wire[0]);
    const auto decoded = mqtt::decode_frame(*frame, c.version, lim, ec);
    REQUIRE_MESSAGE(!ec, "decode failed: " << ec.message());
    INFO("expected: " << mq_test::describe(c.expected));
    INFO("decoded:  " << mq_test::describe(decoded));
    CHECK(decoded == c.expected);

    // Encode the hand-written packet: byte-exact, and encoded_size() agrees.
    const auto encoded = mq_test::encode_bytes(c.expected, c.version, ec);
    REQUIRE_MESSAGE(!ec, "encode failed: " << ec.message());
    INFO("golden:  " << mq_test::hex(wire));
    INFO("encoded: " << mq_test::hex(encoded));
    CHECK(encoded == wire);
    CHECK(mqtt::encoded_size(c.expected, c.version) == encoded.size());
}

void check_group(std::string_view prefix) {
    std::size_t n = 0;
    for (const auto& c : all_cases()) {
        // "connect_v5" selects connect_v5 and connect_v5_*, never connack.
        if (c.name == prefix || c.name.rfind(std::string(prefix) + "_", 0) == 0) {
            check_golden(c);
            ++n;
        }
    }
    CHECK(n > 0);
}

}  // namespace

TEST_CASE("MQTT-1.5 every golden file has an expected packet and vice versa") {
    std::set<std::string> files;
    for (const auto& n : mq_test::golden_names()) files.insert(n);
    std::set<std::string> cases;
    for (const auto& c : all_cases()) CHECK_MESSAGE(cases.insert(c.name).second, "duplicate case " << c.name);
    for (const auto& f : files) CHECK_MESSAGE(cases.count(f) == 1, "no expected packet for " << f << ".hex");
    for (const auto& c : cases) CHECK_MESSAGE(files.count(c) == 1, "missing golden file " << c << ".hex");
    // 15 packet types in 5.0, 14 in 3.1.1.
    std::set<mqtt::packet_type> v5_types, v311_types;
    for (const auto& c : v5_cases()) v5_types.insert(mqtt::type_of(c.expected));
    for (const auto& c : v311_cases()) v311_types.insert(mqtt::type_of(c.expected));
    CHECK(v5_types.size() == 15);
    CHECK(v311_types.size() == 14);
}

TEST_CASE("MQTT-3.1 CONNECT v5 golden bytes") { check_group("connect_v5"); }
TEST_CASE("MQTT-3.1 CONNECT v311 golden bytes") { check_group("connect_v311"); }
TEST_CASE("MQTT-3.2 CONNACK v5 golden bytes") { check_group("connack_v5"); }
TEST_CASE("MQTT-3.2 CONNACK v311 golden bytes") { check_group("connack_v311"); }
TEST_CASE("MQTT-3.3 PUBLISH v5 golden bytes") { check_group("publish_v5"); }
TEST_CASE("MQTT-3.3 PUBLISH v311 golden bytes") { check_group("publish_v311"); }
TEST_CASE("MQTT-3.4 PUBACK v5 golden bytes incl short forms") { check_group("puback_v5"); }
TEST_CASE("MQTT-3.4 PUBACK v311 golden bytes") { check_group("puback_v311"); }
TEST_CASE("MQTT-3.5 PUBREC v5 golden bytes incl short forms") { check_group("pubrec_v5"); }
TEST_CASE("MQTT-3.5 PUBREC v311 golden bytes") { check_group("pubrec_v311"); }
TEST_CASE("MQTT-3.6 PUBREL v5 golden bytes incl short forms") { check_group("pubrel_v5"); }
TEST_CASE("MQTT-3.6 PUBREL v311 golden bytes") { check_group("pubrel_v311"); }
TEST_CASE("MQTT-3.7 PUBCOMP v5 golden bytes incl short forms") { check_group("pubcomp_v5"); }
TEST_CASE("MQTT-3.7 PUBCOMP v311 golden bytes") { check_group("pubcomp_v311"); }
TEST_CASE("MQTT-3.8 SUBSCRIBE v5 golden bytes") { check_group("subscribe_v5"); }
TEST_CASE("MQTT-3.8 SUBSCRIBE v311 golden bytes") { check_group("subscribe_v311"); }
TEST_CASE("MQTT-3.9 SUBACK v5 golden bytes") { check_group("suback_v5"); }
TEST_CASE("MQTT-3.9 SUBACK v311 golden bytes") { check_group("suback_v311"); }
TEST_CASE("MQTT-3.10 UNSUBSCRIBE v5 golden bytes") { check_group("unsubscribe_v5"); }
TEST_CASE("MQTT-3.10 UNSUBSCRIBE v311 golden bytes") { check_group("unsubscribe_v311"); }
TEST_CASE("MQTT-3.11 UNSUBACK v5 golden bytes") { check_group("unsuback_v5"); }
TEST_CASE("MQTT-3.11 UNSUBACK v311 golden bytes") { check_group("unsuback_v311"); }
TEST_CASE("MQTT-3.12 PINGREQ golden bytes") {
    check_group("pingreq_v5");
    check_group("pingreq_v311");
}
TEST_CASE("MQTT-3.13 PINGRESP golden bytes") {
    check_group("pingresp_v5");
    check_group("pingresp_v311");
}
TEST_CASE("MQTT-3.14 DISCONNECT v5 golden bytes incl short forms") { check_group("disconnect_v5"); }
TEST_CASE("MQTT-3.14 DISCONNECT v311 golden bytes") { check_group("disconnect_v311"); }
TEST_CASE("MQTT-3.15 AUTH v5 golden bytes incl short form") { check_group("auth_v5"); }

TEST_CASE("MQTT-1.5 golden hex loader rejects malformed tokens") {
    std::string error;
    CHECK(mq_test::parse_hex("10 02 # x\n 0a ff\n", error) == bytes_t{0x10, 0x02, 0x0a, 0xff});
    CHECK(error.empty());
    CHECK(mq_test::parse_hex("10 2\n", error).empty());
    CHECK(error.find("line 1") != std::string::npos);
    CHECK(mq_test::parse_hex("10\n0g\n", error).empty());
    CHECK(error.find("line 2") != std::string::npos);
}

TEST_CASE("MQTT-3.1.2.2 peek_connect_level reads the level of the golden CONNECT packets") {
    for (const auto& c : all_cases()) {
        if (mqtt::type_of(c.expected) != mqtt::packet_type::connect) continue;
        CAPTURE(c.name);
        std::string error;
        const auto wire = mq_test::load_golden(c.name, error);
        REQUIRE(error.empty());
        std::error_code ec;
        const auto frame = mqtt::next_frame(wire, mqtt::limits{}, ec);
        REQUIRE(frame.has_value());
        const auto level = mqtt::peek_connect_level(*frame);
        REQUIRE(level.has_value());
        CHECK(*level == static_cast<std::uint8_t>(c.version));
    }
}
