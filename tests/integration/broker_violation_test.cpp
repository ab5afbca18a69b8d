// SPDX-License-Identifier: MIT
// Broker answers to protocol violations (hardening.md §2 rows A, C, D).
#include <doctest/doctest.h>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::reason;

namespace {

// v5: the DISCONNECT reason then the close; v3.1.1: just the close.
void expect_violation(broker_fixture& b, const char* hex, reason want, const std::string& id) {
    {
        auto c = b.client(id + "-5");
        REQUIRE(b.ok);
        c->send_hex(hex);
        auto d = as<mqtt::disconnect>(c->receive());
        REQUIRE(d);
        CHECK(d->reason_code == want);
        CHECK(c->wait_closed());
    }
    {
        auto c = b.client(id + "-3", protocol_version::v311);
        REQUIRE(b.ok);
        c->send_hex(hex);
        CHECK_FALSE(c->receive_frame());
        CHECK(c->peer_closed());
    }
}

}  // namespace

TEST_CASE("MQTT-3.3.1-4 C05 PUBLISH with QoS 3 is malformed 0x81") {
    broker_fixture b;
    expect_violation(b, "36 05 00 01 61 00 01", reason::malformed_packet, "c05");
}

TEST_CASE("MQTT-3.3.2-2 C01 PUBLISH topic with a wildcard is 0x90") {
    broker_fixture b;
    // v5 needs the property length byte; v3.1.1 reads it as payload.
    expect_violation(b, "30 05 00 02 61 2b 00", reason::topic_name_invalid, "c01");
}

TEST_CASE("MQTT-3.3.1-2 C07 QoS 0 with DUP is malformed 0x81") {
    broker_fixture b;
    expect_violation(b, "38 04 00 01 61 00", reason::malformed_packet, "c07");
}

TEST_CASE("MQTT-2.2.1-3 C06 QoS 1 with packet id 0 is malformed 0x81") {
    broker_fixture b;
    expect_violation(b, "32 06 00 01 61 00 00 00", reason::malformed_packet, "c06");
}

TEST_CASE("MQTT-1.5.5-1 A05 non-minimal remaining length is malformed 0x81") {
    broker_fixture b;
    expect_violation(b, "c0 80 00", reason::malformed_packet, "a05");
}

TEST_CASE("MQTT-2.1.3-1 A08 bad fixed-header flags are malformed 0x81") {
    broker_fixture b;
    expect_violation(b, "c1 00", reason::malformed_packet, "a08");
}

TEST_CASE("MQTT-3.8.3-2 D01 SUBSCRIBE without filters is a protocol error 0x82") {
    broker_fixture b;
    expect_violation(b, "82 03 00 01 00", reason::protocol_error, "d01");
}

TEST_CASE("MQTT-3.2.2-15 C11 a packet over the maximum packet size is 0x95 before the body") {
    broker_fixture b([](mqtt::net::broker_limits& l) { l.max_packet_size = 64; });
    // Declares 100 bytes; only the header is sent.
    expect_violation(b, "30 64 00 01 61", reason::packet_too_large, "c11");
}

TEST_CASE("A12 truncated packet then FIN: nothing delivered, Will published") {
    broker_fixture b;
    auto sub = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("#", mqtt::qos::at_most_once));
    {
        raw_client c(b.port());
        mqtt::connect conn;
        conn.client_id = "trunc";
        conn.will_msg = mqtt::will{"will/trunc", {'w'}, mqtt::qos::at_most_once, false, {}};
        REQUIRE(c.connect(conn));
        c.send_hex("30 10 00 01 61 00 68");  // 16 declared, 5 sent
        c.close();
    }
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(m->topic == "will/trunc");
    CHECK(sub->silent_for(100ms));
}

TEST_CASE("A10 A11 packets split byte by byte and many packets in one write are all handled") {
    broker_fixture b;
    auto sub = b.client("s", protocol_version::v311);
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("t", mqtt::qos::at_most_once));
    raw_client c(b.port(), protocol_version::v311);
    const auto connect_bytes = from_hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63");
    for (auto byte : connect_bytes) c.send_bytes(std::span<const std::uint8_t>(&byte, 1));
    auto ack = c.receive_frame();
    REQUIRE(ack);
    CHECK(to_hex(*ack) == "20 02 00 00");
    std::vector<std::uint8_t> many;
    for (int i = 0; i < 1000; ++i) {
        const auto one = from_hex("30 04 00 01 74");
        many.insert(many.end(), one.begin(), one.end());
        many.push_back(static_cast<std::uint8_t>('0' + i % 10));
    }
    c.send_bytes(many);
    for (int i = 0; i < 1000; ++i) {
        auto m = as<mqtt::publish>(sub->receive());
        REQUIRE(m);
        REQUIRE(m->payload.size() == 1);
        CHECK(m->payload[0] == static_cast<std::uint8_t>('0' + i % 10));
    }
}
