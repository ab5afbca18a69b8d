// SPDX-License-Identifier: MIT
// Spec-named rejection cases for a representative subset of the bad-input rules
// (tests/data/bad_input/codec.txt covers them all). Each pairs the rejected input
// with a nearby accepted one, so the rule (not some other defect) is what fails.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/packets.hpp>
#include <mqtt/codec/properties.hpp>
#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/types.hpp>

#include "bad_input_loader.hpp"

namespace {

namespace bi = mq_test::bad_input;
using mqtt::protocol_version;

struct decoded {
    std::error_code ec;
    mqtt::packet pkt;
};

decoded decode_bytes(const std::vector<std::uint8_t>& in, protocol_version v, mqtt::limits lim = {}) {
    decoded d;
    const auto frame = mqtt::next_frame(in, lim, d.ec);
    if (!frame) {
        if (!d.ec) d.ec = std::make_error_code(std::errc::resource_unavailable_try_again);  // need more
        return d;
    }
    REQUIRE(frame->total == in.size());
    d.pkt = mqtt::decode_frame(*frame, v, lim, d.ec);
    return d;
}

decoded decode_hex(std::string_view hex, protocol_version v, mqtt::limits lim = {}) {
    return decode_bytes(bi::from_hex(hex), v, lim);
}

std::vector<std::uint8_t> encoded(const mqtt::packet& p, protocol_version v) {
    std::vector<std::uint8_t> out;
    const std::error_code ec = mqtt::encode(p, v, out);
    REQUIRE_MESSAGE(!ec, "encode failed: ", ec.message());
    return out;
}

void expect_error(const decoded& d, const char* name, mqtt::reason r) {
    CHECK(bi::error_name(d.ec) == name);
    CHECK(bi::reason_hex(mqtt::reason_of(d.ec)) == bi::reason_hex(r));
}

void expect_ok(const decoded& d) { CHECK(bi::error_name(d.ec) == "ok"); }

// Offset of CONNECT's Connect Flags byte in an encoded CONNECT: after the fixed
// header, the protocol name (2 + 4) and the level.
std::size_t connect_flags_offset(const std::vector<std::uint8_t>& in) {
    std::error_code ec;
    const auto f = mqtt::next_frame(in, {}, ec);
    REQUIRE(f);
    return f->total - f->body.size() + 7;
}

mqtt::connect make_connect(protocol_version v) {
    mqtt::connect c;
    c.version = v;
    c.client_id = "dev1";
    return c;
}

mqtt::publish make_publish(std::string topic) {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.payload = {'h', 'i'};
    return p;
}

constexpr protocol_version both[] = {protocol_version::v311, protocol_version::v5};

}  // namespace

TEST_CASE("MQTT-2.1.3-1 reserved fixed header flags are malformed for every packet type") {
    for (const auto v : both) {
        std::vector<mqtt::packet> packets;
        packets.emplace_back(make_connect(v));
        packets.emplace_back(mqtt::connack{});
        mqtt::puback pa;
        pa.packet_id = 7;
        packets.emplace_back(pa);
        mqtt::pubrec pc;
        pc.packet_id = 7;
        packets.emplace_back(pc);
        mqtt::pubrel pl;
        pl.packet_id = 7;
        packets.emplace_back(pl);
        mqtt::pubcomp pp;
        pp.packet_id = 7;
        packets.emplace_back(pp);
        mqtt::subscribe sub;
        sub.packet_id = 1;
        sub.entries.emplace_back();
        sub.entries[0].filter = "a/b";
        sub.entries[0].max_qos = mqtt::qos::at_least_once;
        packets.emplace_back(sub);
        mqtt::suback sa;
        sa.packet_id = 1;
        sa.reason_codes = {mqtt::reason::granted_qos_1};
        packets.emplace_back(sa);
        mqtt::unsubscribe unsub;
        unsub.packet_id = 1;
        unsub.filters = {"a/b"};
        packets.emplace_back(unsub);
        mqtt::unsuback ua;
        ua.packet_id = 1;
        if (v == protocol_version::v5) ua.reason_codes = {mqtt::reason::success};
        packets.emplace_back(ua);
        packets.emplace_back(mqtt::pingreq{});
        packets.emplace_back(mqtt::pingresp{});
        packets.emplace_back(mqtt::disconnect{});
        if (v == protocol_version::v5) packets.emplace_back(mqtt::auth{});

        for (const auto& p : packets) {
            auto bytes = encoded(p, v);
            INFO(mqtt::to_string(mqtt::type_of(p)), v == protocol_version::v5 ? " v5" : " v311");
            const decoded good = decode_bytes(bytes, v);
            expect_ok(good);
            CHECK(good.pkt.index() == p.index());
            const std::uint8_t right = bytes[0] & 0x0f;
            for (std::uint8_t flags = 0; flags < 16; ++flags) {
                if (flags == right) continue;
                INFO("flags ", int{flags});
                bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0xf0) | flags);
                expect_error(decode_bytes(bytes, v), "bad_fixed_header_flags", mqtt::reason::malformed_packet);
            }
        }
    }
}

TEST_CASE("MQTT-3.3.1-4 PUBLISH with QoS 3 is malformed") {
    for (const auto v : both) {
        expect_error(decode_hex("36 06 00 01 61 00 01 00", v), "invalid_qos", mqtt::reason::malformed_packet);
        const decoded qos1 = decode_hex("32 06 00 01 61 00 01 00", v);
        expect_ok(qos1);
        CHECK(std::get<mqtt::publish>(qos1.pkt).level == mqtt::qos::at_least_once);
    }
}

TEST_CASE("MQTT-3.3.1-2 PUBLISH with DUP on QoS 0 is malformed") {
    for (const auto v : both) {
        expect_error(decode_hex("38 04 00 01 61 00", v), "dup_on_qos0", mqtt::reason::malformed_packet);
        const decoded dup_qos1 = decode_hex("3a 06 00 01 61 00 01 00", v);
        expect_ok(dup_qos1);
        CHECK(std::get<mqtt::publish>(dup_qos1.pkt).dup);
    }
}

TEST_CASE("MQTT-2.2.1-3 packet identifier 0 is malformed in PUBLISH SUBSCRIBE and UNSUBSCRIBE") {
    for (const auto v : both) {
        expect_error(decode_hex("32 06 00 01 61 00 00 00", v), "zero_packet_id", mqtt::reason::malformed_packet);
        expect_error(decode_hex("34 06 00 01 61 00 00 00", v), "zero_packet_id", mqtt::reason::malformed_packet);
    }
    const auto v311 = protocol_version::v311;
    expect_error(decode_hex("82 06 00 00 00 01 61 00", v311), "zero_packet_id", mqtt::reason::malformed_packet);
    expect_error(decode_hex("a2 05 00 00 00 01 61", v311), "zero_packet_id", mqtt::reason::malformed_packet);
    const auto v5 = protocol_version::v5;
    expect_error(decode_hex("82 07 00 00 00 00 01 61 00", v5), "zero_packet_id", mqtt::reason::malformed_packet);
    expect_error(decode_hex("a2 06 00 00 00 00 01 61", v5), "zero_packet_id", mqtt::reason::malformed_packet);
    // QoS 0 carries no packet identifier at all [MQTT-2.2.1-2].
    const decoded qos0 = decode_hex("30 03 00 01 61", v311);
    expect_ok(qos0);
    CHECK(std::get<mqtt::publish>(qos0.pkt).packet_id == 0);
}

TEST_CASE("MQTT-1.5.5-1 non-minimal Variable Byte Integers are malformed") {
    for (const auto v : both) {
        expect_error(decode_hex("c0 80 00", v), "varint_not_minimal", mqtt::reason::malformed_packet);
        expect_error(decode_hex("30 83 00 00 01 61", v), "varint_not_minimal", mqtt::reason::malformed_packet);
        expect_ok(decode_hex("c0 00", v));
    }
    // Property Length and Subscription Identifier are Variable Byte Integers too.
    const auto v5 = protocol_version::v5;
    expect_error(decode_hex("40 05 00 01 00 80 00", v5), "varint_not_minimal", mqtt::reason::malformed_packet);
    expect_error(decode_hex("82 0a 00 01 03 0b 80 00 00 01 61 00", v5), "varint_not_minimal",
                 mqtt::reason::malformed_packet);
    expect_ok(decode_hex("82 09 00 01 02 0b 01 00 01 61 00", v5));
}

TEST_CASE("MQTT-1.5.4-1 ill-formed UTF-8 in a topic name is malformed") {
    const std::vector<std::string> bad = {"a\xed\xa0\x80", "\xc0\xaf", "\xff", "x\xf4\x90\x80\x80",
                                          "a\xe2\x82", "\x80"};
    for (const auto v : both) {
        for (const auto& topic : bad) {
            INFO(bi::to_hex({reinterpret_cast<const std::uint8_t*>(topic.data()), topic.size()}));
            expect_error(decode_bytes(encoded(make_publish(topic), v), v), "invalid_utf8",
                         mqtt::reason::malformed_packet);
        }
        // Well-formed multi-byte characters up to U+10FFFF are fine.
        const decoded ok = decode_bytes(encoded(make_publish("caf\xc3\xa9/\xf4\x8f\xbf\xbf"), v), v);
        expect_ok(ok);
    }
}

TEST_CASE("MQTT-1.5.4-3 a BOM in a topic name is kept byte-exact") {
    const std::string topic = "\xef\xbb\xbf" "a/b";
    for (const auto v : both) {
        const decoded d = decode_bytes(encoded(make_publish(topic), v), v);
        expect_ok(d);
        CHECK(std::get<mqtt::publish>(d.pkt).topic == topic);
    }
}

TEST_CASE("MQTT-1.5.4-2 U+0000 in client id user name and Will topic is malformed") {
    const std::string nul("d\0v", 3);
    for (const auto v : both) {
        auto c = make_connect(v);
        c.client_id = nul;
        expect_error(decode_bytes(encoded(c, v), v), "null_character", mqtt::reason::malformed_packet);
        c = make_connect(v);
        c.username = nul;
        expect_error(decode_bytes(encoded(c, v), v), "null_character", mqtt::reason::malformed_packet);
        c = make_connect(v);
        c.will_msg = mqtt::will{};
        c.will_msg->topic = nul;
        expect_error(decode_bytes(encoded(c, v), v), "null_character", mqtt::reason::malformed_packet);
        c.will_msg->topic = "dv";
        expect_ok(decode_bytes(encoded(c, v), v));
    }
}

TEST_CASE("MQTT-3.3.2-2 a wildcard in a topic name is Topic Name invalid") {
    for (const auto v : both) {
        for (const char* topic : {"a/+", "#", "a/#", "a+b"}) {
            INFO(topic);
            expect_error(decode_bytes(encoded(make_publish(topic), v), v), "topic_name_has_wildcard",
                         mqtt::reason::topic_name_invalid);
        }
        expect_ok(decode_bytes(encoded(make_publish("a/b"), v), v));
    }
}

TEST_CASE("MQTT-3.1.2-3 CONNECT reserved flag is malformed") {
    for (const auto v : both) {
        auto bytes = encoded(make_connect(v), v);
        expect_ok(decode_bytes(bytes, v));
        bytes[connect_flags_offset(bytes)] |= 0x01;
        expect_error(decode_bytes(bytes, v), "connect_reserved_flag", mqtt::reason::malformed_packet);
    }
}

TEST_CASE("MQTT-3.1.2-11 MQTT-3.1.2-13 Will QoS and Will Retain without the Will flag are malformed") {
    for (const auto v : both) {
        for (const std::uint8_t bits : {std::uint8_t{0x08}, std::uint8_t{0x10}, std::uint8_t{0x20}}) {
            INFO("flag bits ", int{bits});
            auto bytes = encoded(make_connect(v), v);
            bytes[connect_flags_offset(bytes)] |= bits;
            expect_error(decode_bytes(bytes, v), "bad_will_flags", mqtt::reason::malformed_packet);
        }
        // With the Will flag the same bits are a QoS 2, retained Will.
        auto c = make_connect(v);
        c.will_msg = mqtt::will{};
        c.will_msg->topic = "dev/1/state";
        c.will_msg->payload = {'o', 'f', 'f'};
        c.will_msg->level = mqtt::qos::exactly_once;
        c.will_msg->retain = true;
        const decoded d = decode_bytes(encoded(c, v), v);
        expect_ok(d);
        CHECK(std::get<mqtt::connect>(d.pkt).will_msg == c.will_msg);
    }
}

TEST_CASE("MQTT-3.1.2-22 password without user name is malformed in 3.1.1 and allowed in 5.0") {
    expect_error(decode_hex("10 11 00 04 4d 51 54 54 04 42 00 3c 00 01 63 00 02 70 77", protocol_version::v311),
                 "password_without_username", mqtt::reason::malformed_packet);
    const decoded v5 = decode_hex("10 12 00 04 4d 51 54 54 05 42 00 3c 00 00 01 63 00 02 70 77", protocol_version::v5);
    expect_ok(v5);
    const auto& c = std::get<mqtt::connect>(v5.pkt);
    CHECK_FALSE(c.username.has_value());
    CHECK(c.password == std::vector<std::uint8_t>{'p', 'w'});
}

TEST_CASE("MQTT-3.1.2-2 unsupported protocol level is 0x84 and peek_connect_level reads it") {
    const auto in = bi::from_hex("10 0d 00 04 4d 51 54 54 06 02 00 3c 00 01 63");
    std::error_code ec;
    const auto f = mqtt::next_frame(in, {}, ec);
    REQUIRE(f);
    CHECK(mqtt::peek_connect_level(*f) == std::optional<std::uint8_t>{6});
    for (const auto v : both)
        expect_error(decode_bytes(in, v), "unsupported_protocol_version", mqtt::reason::unsupported_protocol_version);
}

TEST_CASE("MQTT-3.8.3-2 MQTT-3.10.3-2 SUBSCRIBE and UNSUBSCRIBE without filters are protocol errors") {
    const auto v311 = protocol_version::v311;
    const auto v5 = protocol_version::v5;
    expect_error(decode_hex("82 02 00 01", v311), "empty_subscription_list", mqtt::reason::protocol_error);
    expect_error(decode_hex("82 03 00 01 00", v5), "empty_subscription_list", mqtt::reason::protocol_error);
    expect_error(decode_hex("a2 02 00 01", v311), "empty_subscription_list", mqtt::reason::protocol_error);
    expect_error(decode_hex("a2 03 00 01 00", v5), "empty_subscription_list", mqtt::reason::protocol_error);
    expect_ok(decode_hex("a2 05 00 01 00 01 61", v311));
}

TEST_CASE("MQTT-3.8.3-4 No Local on a shared subscription is a protocol error") {
    const auto v5 = protocol_version::v5;
    mqtt::subscribe s;
    s.packet_id = 3;
    s.entries.emplace_back();
    s.entries[0].filter = "$share/g/a/b";
    s.entries[0].max_qos = mqtt::qos::at_least_once;
    s.entries[0].no_local = true;
    expect_error(decode_bytes(encoded(s, v5), v5), "no_local_on_shared", mqtt::reason::protocol_error);
    s.entries[0].no_local = false;
    expect_ok(decode_bytes(encoded(s, v5), v5));
    s.entries[0].filter = "a/b";
    s.entries[0].no_local = true;
    const decoded d = decode_bytes(encoded(s, v5), v5);
    expect_ok(d);
    CHECK(std::get<mqtt::subscribe>(d.pkt).entries.at(0).no_local);
}

TEST_CASE("MQTT-3.8.3-5 reserved subscription option bits are malformed") {
    const auto v5 = protocol_version::v5;
    for (const char* hex : {"82 07 00 01 00 00 01 61 40", "82 07 00 01 00 00 01 61 80"})
        expect_error(decode_hex(hex, v5), "bad_subscription_options", mqtt::reason::malformed_packet);
    // 3.1.1 reserves bits 2-7 (3.1.1 MQTT-3-8.3-4).
    expect_error(decode_hex("82 06 00 01 00 01 61 04", protocol_version::v311), "bad_subscription_options",
                 mqtt::reason::malformed_packet);
    // Every defined v5 option at once: RH 2, Retain As Published, No Local, QoS 1.
    const decoded ok = decode_hex("82 07 00 01 00 00 01 61 2d", v5);
    expect_ok(ok);
    const auto& e = std::get<mqtt::subscribe>(ok.pkt).entries.at(0);
    CHECK(e.retain_handling == 2);
    CHECK(e.retain_as_published);
}

TEST_CASE("MQTT-3.3.4-6 Subscription Identifier in a client PUBLISH is a protocol error") {
    const auto v5 = protocol_version::v5;
    auto p = make_publish("a/b");
    p.props.add_int(mqtt::property_id::subscription_identifier, 7);
    const auto bytes = encoded(p, v5);
    mqtt::limits server_side;
    server_side.from_client = true;
    expect_error(decode_bytes(bytes, v5, server_side), "subscription_id_from_client", mqtt::reason::protocol_error);
    const decoded at_client = decode_bytes(bytes, v5);
    expect_ok(at_client);
    CHECK(std::get<mqtt::publish>(at_client.pkt).props.get_all_ints(mqtt::property_id::subscription_identifier) ==
          std::vector<std::uint32_t>{7});
}

TEST_CASE("MQTT-3.3.2-8 Topic Alias 0 is Topic Alias invalid") {
    const auto v5 = protocol_version::v5;
    auto p = make_publish("a/b");
    p.props.set_int(mqtt::property_id::topic_alias, 0);
    expect_error(decode_bytes(encoded(p, v5), v5), "topic_alias_zero", mqtt::reason::topic_alias_invalid);
    // An empty topic is fine with a Topic Alias, a protocol error without one.
    p.topic.clear();
    p.props.set_int(mqtt::property_id::topic_alias, 1);
    expect_ok(decode_bytes(encoded(p, v5), v5));
    p.props.remove(mqtt::property_id::topic_alias);
    expect_error(decode_bytes(encoded(p, v5), v5), "topic_name_empty", mqtt::reason::protocol_error);
}

TEST_CASE("MQTT-3.3.2-14 Response Topic with a wildcard is a protocol error") {
    const auto v5 = protocol_version::v5;
    auto p = make_publish("req");
    p.props.set_string(mqtt::property_id::response_topic, "reply/#");
    expect_error(decode_bytes(encoded(p, v5), v5), "response_topic_invalid", mqtt::reason::protocol_error);
    p.props.set_string(mqtt::property_id::response_topic, "reply/1");
    expect_ok(decode_bytes(encoded(p, v5), v5));
}

TEST_CASE("MQTT-3.2.2-1 CONNACK reserved acknowledge flags are malformed") {
    expect_error(decode_hex("20 02 02 00", protocol_version::v311), "connack_reserved_flags",
                 mqtt::reason::malformed_packet);
    expect_error(decode_hex("20 03 80 00 00", protocol_version::v5), "connack_reserved_flags",
                 mqtt::reason::malformed_packet);
    const decoded ok = decode_hex("20 02 01 00", protocol_version::v311);
    expect_ok(ok);
    CHECK(std::get<mqtt::connack>(ok.pkt).session_present);
}

TEST_CASE("MQTT-3.1.2-1 protocol name other than MQTT is malformed") {
    for (const auto v : both)
        expect_error(decode_hex("10 0d 00 04 4d 51 54 58 04 02 00 3c 00 01 63", v), "bad_protocol_name",
                     mqtt::reason::malformed_packet);
}

TEST_CASE("sec 3.1.2.11 duplicate single-valued CONNECT properties are protocol errors") {
    const auto v5 = protocol_version::v5;
    for (const auto id : {mqtt::property_id::session_expiry_interval, mqtt::property_id::receive_maximum,
                          mqtt::property_id::maximum_packet_size}) {
        INFO(mqtt::property_name(id));
        auto c = make_connect(v5);
        c.props.items.push_back(mqtt::property{id, std::uint32_t{10}});
        expect_ok(decode_bytes(encoded(c, v5), v5));
        c.props.items.push_back(mqtt::property{id, std::uint32_t{10}});
        expect_error(decode_bytes(encoded(c, v5), v5), "duplicate_property", mqtt::reason::protocol_error);
    }
    // User Property is the one that may repeat.
    auto c = make_connect(v5);
    c.props.add_user_property("k", "v");
    c.props.add_user_property("k", "v");
    expect_ok(decode_bytes(encoded(c, v5), v5));
}

TEST_CASE("limits max_string_length and max_user_properties accept the limit and reject one more") {
    const auto v5 = protocol_version::v5;
    mqtt::limits lim;
    lim.max_string_length = 4;
    expect_ok(decode_bytes(encoded(make_publish("abcd"), v5), v5, lim));
    expect_error(decode_bytes(encoded(make_publish("abcde"), v5), v5, lim), "string_too_long",
                 mqtt::reason::implementation_specific_error);

    lim = {};
    lim.max_user_properties = 2;
    auto c = make_connect(v5);
    c.props.add_user_property("a", "1");
    c.props.add_user_property("b", "2");
    c.will_msg = mqtt::will{};
    c.will_msg->topic = "w";
    c.will_msg->props.add_user_property("c", "3");
    c.will_msg->props.add_user_property("d", "4");
    expect_ok(decode_bytes(encoded(c, v5), v5, lim));  // the Will block is counted on its own
    c.will_msg->props.add_user_property("e", "5");
    expect_error(decode_bytes(encoded(c, v5), v5, lim), "too_many_user_properties",
                 mqtt::reason::implementation_specific_error);
}

TEST_CASE("AUTH does not exist in MQTT 3.1.1") {
    expect_error(decode_hex("f0 00", protocol_version::v311), "auth_on_v311", mqtt::reason::malformed_packet);
    expect_ok(decode_hex("f0 00", protocol_version::v5));
}
