// SPDX-License-Identifier: MIT
// Broker CONNECT handling, keepalive, Will and takeover, asserted on the wire.
#include <doctest/doctest.h>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::reason;

namespace {

std::optional<reason> disconnect_reason(raw_client& c) {
    auto d = as<mqtt::disconnect>(c.receive());
    if (!d) return std::nullopt;
    return d->reason_code;
}

}  // namespace

TEST_CASE("MQTT-3.2.0-1 v3.1.1 CONNECT is answered with CONNACK 20 02 00 00") {
    broker_fixture b;
    raw_client c(b.port(), protocol_version::v311);
    c.send_hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
    auto f = c.receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "20 02 00 00");
}

TEST_CASE("MQTT-3.2.0-1 v5 CONNECT is answered with CONNACK advertising the broker limits") {
    broker_fixture b;
    raw_client c(b.port());
    c.send_hex("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 61");
    auto f = c.receive_frame();
    REQUIRE(f);
    // Receive Maximum 100, Maximum Packet Size 1 MiB, Topic Alias Maximum 10.
    CHECK(to_hex(*f) == "20 0e 00 00 0b 21 00 64 27 00 10 00 00 22 00 0a");
}

TEST_CASE("MQTT-3.1.3-6 B10 v5 empty client id gets an assigned client identifier") {
    broker_fixture b;
    raw_client c(b.port());
    auto ack = c.connect("");
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::success);
    const std::string* id = ack->props.get_string(mqtt::property_id::assigned_client_identifier);
    REQUIRE(id);
    CHECK(id->size() == 18);
    CHECK(id->rfind("mq", 0) == 0);
}

TEST_CASE("MQTT-3.1.3-8 B10 v3.1.1 empty client id with clean session 0 gets CONNACK 0x02") {
    broker_fixture b;
    raw_client c(b.port(), protocol_version::v311);
    c.send_hex("10 0c 00 04 4d 51 54 54 04 00 00 3c 00 00");
    auto f = c.receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "20 02 00 02");
    CHECK(c.wait_closed());
}

TEST_CASE("MQTT-3.1.3-7 B10 v3.1.1 empty client id with clean session 1 is accepted") {
    broker_fixture b;
    raw_client c(b.port(), protocol_version::v311);
    c.send_hex("10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00");
    auto f = c.receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "20 02 00 00");
}

TEST_CASE("B11 client id with a wildcard is refused 0x85 on v5 and 0x02 on v3.1.1") {
    broker_fixture b;
    raw_client c5(b.port());
    auto ack = c5.connect("dev+1");
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::client_identifier_not_valid);
    CHECK(c5.wait_closed());
    raw_client c3(b.port(), protocol_version::v311);
    c3.send_hex("10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 64 65 23");  // "de#"
    auto f = c3.receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "20 02 00 02");
}

TEST_CASE("MQTT-3.1.2-2 B02 unsupported protocol level gets 0x84 or the 3.1.1 code 0x01") {
    broker_fixture b;
    {
        raw_client c(b.port());
        c.send_hex("10 0e 00 04 4d 51 54 54 06 02 00 3c 00 00 01 61");  // level 6
        auto f = c.receive_frame();
        REQUIRE(f);
        CHECK(to_hex(*f).rfind("20 ", 0) == 0);
        CHECK((*f)[3] == 0x84);
        CHECK(c.wait_closed());
    }
    {
        raw_client c(b.port());
        c.send_hex("10 0f 00 06 4d 51 49 73 64 70 03 02 00 3c 00 01 61");  // MQIsdp level 3
        auto f = c.receive_frame();
        if (f) CHECK(to_hex(*f) == "20 02 00 01");
        CHECK(c.wait_closed());
    }
}

TEST_CASE("MQTT-3.1.0-1 A01 a first packet other than CONNECT closes without CONNACK") {
    broker_fixture b;
    raw_client c(b.port());
    c.send_hex("30 05 00 01 61 68 69");
    CHECK_FALSE(c.receive_frame());
    CHECK(c.peer_closed());
}

TEST_CASE("A03 CONNECT declaring 268435455 bytes is closed on the fixed header") {
    broker_fixture b;
    raw_client c(b.port());
    c.send_hex("10 ff ff ff 7f 00 04 4d 51 54 54");
    CHECK(c.wait_closed());
}

TEST_CASE("MQTT-3.1.0-2 B01 a second CONNECT is a protocol error 0x82") {
    broker_fixture b;
    auto c = b.client("b01");
    REQUIRE(b.ok);
    c->send_hex("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 61");
    CHECK(disconnect_reason(*c) == reason::protocol_error);
    CHECK(c->wait_closed());

    auto c3 = b.client("b01-311", protocol_version::v311);
    REQUIRE(b.ok);
    c3->send_hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
    CHECK_FALSE(c3->receive_frame());
    CHECK(c3->peer_closed());
}

TEST_CASE("A13 CONNACK SUBACK UNSUBACK or PINGRESP sent by a client is a protocol error 0x82") {
    broker_fixture b;
    for (const char* hex : {"20 02 00 00", "90 03 00 01 00", "b0 02 00 01", "d0 00"}) {
        CAPTURE(std::string(hex));
        auto c = b.client("a13");
        REQUIRE(b.ok);
        c->send_hex(hex);
        CHECK(disconnect_reason(*c) == reason::protocol_error);
        CHECK(c->wait_closed());
    }
}

TEST_CASE("MQTT-3.12.4-1 PINGREQ is answered with PINGRESP") {
    broker_fixture b;
    auto c = b.client("ping", protocol_version::v311);
    REQUIRE(b.ok);
    c->send_hex("c0 00");
    auto f = c->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "d0 00");
}

TEST_CASE("MQTT-3.1.2-22 silence beyond 1.5x keepalive closes and publishes the Will") {
    broker_fixture b;
    auto sub = b.client("watcher");
    REQUIRE(b.ok);
    auto sa = sub->subscribe("will/ka", mqtt::qos::at_most_once);
    REQUIRE(sa);
    raw_client c(b.port());
    mqtt::connect conn;
    conn.client_id = "sleepy";
    conn.keep_alive = 1;
    conn.will_msg = mqtt::will{"will/ka", {'g', 'o', 'n', 'e'}, mqtt::qos::at_most_once, false, {}};
    auto ack = c.connect(conn);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == reason::success);
    const auto t0 = std::chrono::steady_clock::now();
    auto d = as<mqtt::disconnect>(c.receive(4000ms));
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE(d);
    CHECK(d->reason_code == reason::keep_alive_timeout);
    CHECK(elapsed >= 1400ms);
    CHECK(c.wait_closed());
    auto w = as<mqtt::publish>(sub->receive());
    REQUIRE(w);
    CHECK(w->topic == "will/ka");
    CHECK(payload_of(*w) == "gone");
}

namespace {

std::unique_ptr<raw_client> client_with_will(broker_fixture& b, const std::string& id, protocol_version v) {
    auto c = std::make_unique<raw_client>(b.port(), v);
    mqtt::connect conn;
    conn.client_id = id;
    conn.will_msg = mqtt::will{"will/" + id, {'x'}, mqtt::qos::at_least_once, false, {}};
    auto ack = c->connect(conn);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == reason::success);
    return c;
}

}  // namespace

TEST_CASE("MQTT-3.1.2-8 the Will is published when the connection drops without DISCONNECT") {
    broker_fixture b;
    auto sub = b.client("w-sub", protocol_version::v311);
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_least_once));
    for (auto v : {protocol_version::v311, protocol_version::v5}) {
        auto c = client_with_will(b, v == protocol_version::v5 ? "w5" : "w3", v);
        c->close();
        auto w = as<mqtt::publish>(sub->receive());
        REQUIRE(w);
        CHECK(w->topic == (v == protocol_version::v5 ? "will/w5" : "will/w3"));
        CHECK(w->level == mqtt::qos::at_least_once);
        sub->send(mqtt::puback{w->packet_id, reason::success, {}});
    }
}

TEST_CASE("MQTT-3.14.4-3 no Will after a normal DISCONNECT; DISCONNECT 0x04 publishes it") {
    broker_fixture b;
    auto sub = b.client("w-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    {
        auto c = client_with_will(b, "normal", protocol_version::v311);
        c->send_hex("e0 00");
        CHECK(c->wait_closed());
        CHECK(sub->silent_for(300ms));
    }
    {
        auto c = client_with_will(b, "with-will", protocol_version::v5);
        c->send_hex("e0 01 04");
        CHECK(c->wait_closed());
        auto w = as<mqtt::publish>(sub->receive());
        REQUIRE(w);
        CHECK(w->topic == "will/with-will");
    }
}

TEST_CASE("MQTT-3.1.4-3 B20 session takeover sends DISCONNECT 0x8E to the old v5 connection") {
    broker_fixture b;
    auto old5 = b.client("same");
    REQUIRE(b.ok);
    auto new5 = b.client("same");
    REQUIRE(b.ok);
    CHECK(disconnect_reason(*old5) == reason::session_taken_over);
    CHECK(old5->wait_closed());
    // The new connection works.
    new5->send_hex("c0 00");
    auto f = new5->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "d0 00");

    auto old3 = b.client("same3", protocol_version::v311);
    REQUIRE(b.ok);
    auto new3 = b.client("same3", protocol_version::v311);
    REQUIRE(b.ok);
    CHECK_FALSE(old3->receive_frame());
    CHECK(old3->peer_closed());
}

TEST_CASE("B max-connections refuses the connection beyond the limit with 0x89") {
    broker_fixture b([](mqtt::net::broker_limits& l) { l.max_connections = 1; });
    auto first = b.client("one");
    REQUIRE(b.ok);
    raw_client second(b.port());
    auto ack = second.connect("two");
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::server_busy);
    CHECK(second.wait_closed());
}

TEST_CASE("stop sends DISCONNECT 0x8B to v5 clients") {
    auto b = std::make_unique<broker_fixture>();
    auto c = b->client("bye");
    REQUIRE(b->ok);
    b->server().stop(std::chrono::milliseconds(500));
    auto d = as<mqtt::disconnect>(c->receive());
    REQUIRE(d);
    CHECK(d->reason_code == reason::server_shutting_down);
    CHECK(c->wait_closed());
}
