// SPDX-License-Identifier: MIT
// Broker retained messages and persistent sessions.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;

TEST_CASE("MQTT-3.3.1-8 a retained message is sent to a new subscriber with RETAIN 1") {
    broker_fixture b;
    auto pub = b.client("p", protocol_version::v311);
    REQUIRE(b.ok);
    pub->send_hex("31 07 00 03 72 2f 31 6f 6e");  // retained QoS 0 "r/1" "on"
    pub->send_hex("c0 00");
    REQUIRE(pub->receive_frame());  // PINGRESP: the PUBLISH was processed
    auto sub = b.client("s", protocol_version::v311);
    REQUIRE(b.ok);
    auto sa = sub->subscribe("r/#", qos::at_least_once);
    REQUIRE(sa);
    auto f = sub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "31 07 00 03 72 2f 31 6f 6e");
}

TEST_CASE("MQTT-3.3.1-6 C18 a retained PUBLISH with an empty payload clears the entry") {
    broker_fixture b;
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("r/x", "v1", qos::at_least_once, 1, true));
    REQUIRE(as<mqtt::puback>(pub->receive()));
    pub->send(make_publish("r/x", "v2", qos::at_least_once, 2, true));  // replaces
    REQUIRE(as<mqtt::puback>(pub->receive()));
    {
        auto sub = b.client("s1");
        REQUIRE(b.ok);
        REQUIRE(sub->subscribe("r/x", qos::at_most_once));
        auto m = as<mqtt::publish>(sub->receive());
        REQUIRE(m);
        CHECK(payload_of(*m) == "v2");
        CHECK(m->retain);
        CHECK(sub->silent_for(100ms));
    }
    pub->send(make_publish("r/x", "", qos::at_least_once, 3, true));
    REQUIRE(as<mqtt::puback>(pub->receive()));
    auto sub = b.client("s2");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("r/x", qos::at_most_once));
    CHECK(sub->silent_for(200ms));
}

TEST_CASE("MQTT-3.3.1-10 MQTT-3.3.1-11 Retain Handling 1 sends only for a new subscription, 2 never") {
    broker_fixture b;
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("rh", "kept", qos::at_least_once, 1, true));
    REQUIRE(as<mqtt::puback>(pub->receive()));
    auto c = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(c->subscribe("rh", qos::at_most_once, 1, 2));
    CHECK(c->silent_for(150ms));
    REQUIRE(c->subscribe("other", qos::at_most_once, 2, 1));
    REQUIRE(c->subscribe("rh/#", qos::at_most_once, 3, 1));  // new: gets it
    auto m = as<mqtt::publish>(c->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "kept");
    REQUIRE(c->subscribe("rh/#", qos::at_most_once, 4, 1));  // existing: nothing
    CHECK(c->silent_for(150ms));
}

TEST_CASE("MQTT-3.3.1-12 Retain As Published keeps RETAIN on live delivery") {
    broker_fixture b;
    auto rap = b.client("rap");
    REQUIRE(b.ok);
    REQUIRE(rap->subscribe("live", qos::at_most_once, 1, 2, false, true));
    auto plain = b.client("plain");
    REQUIRE(b.ok);
    REQUIRE(plain->subscribe("live", qos::at_most_once, 1, 2));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("live", "x", qos::at_most_once, 0, true));
    auto a = as<mqtt::publish>(rap->receive());
    auto p = as<mqtt::publish>(plain->receive());
    REQUIRE(a);
    REQUIRE(p);
    CHECK(a->retain);
    CHECK_FALSE(p->retain);
}

namespace {

std::unique_ptr<raw_client> persistent(broker_fixture& b, const std::string& id, protocol_version v,
                                       bool& present) {
    auto c = std::make_unique<raw_client>(b.port(), v);
    mqtt::connect conn;
    conn.client_id = id;
    conn.clean_start = false;
    if (v == protocol_version::v5) conn.props.set_int(mqtt::property_id::session_expiry_interval, 60);
    auto ack = c->connect(conn);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == reason::success);
    present = ack->session_present;
    return c;
}

}  // namespace

TEST_CASE("MQTT-4.4.0-1 persistent session: queued while offline, unacked resent with DUP on resume") {
    for (auto v : {protocol_version::v311, protocol_version::v5}) {
        CAPTURE(static_cast<int>(v));
        broker_fixture b;
        bool present = true;
        auto sub = persistent(b, "keep", v, present);
        CHECK_FALSE(present);
        REQUIRE(sub->subscribe("q/#", qos::at_least_once));
        auto pub = b.client("p");
        REQUIRE(b.ok);
        pub->send(make_publish("q/1", "first", qos::at_least_once, 1));
        REQUIRE(as<mqtt::puback>(pub->receive()));
        auto m1 = as<mqtt::publish>(sub->receive());
        REQUIRE(m1);
        CHECK_FALSE(m1->dup);
        sub->close();  // no PUBACK, no DISCONNECT
        // The broker must see the close before q/2 comes: sent to the dying
        // connection, q/2 would be resent with DUP on resume (also correct).
        // With several workers the two connections are on different threads.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));

        pub->send(make_publish("q/2", "second", qos::at_least_once, 2));
        REQUIRE(as<mqtt::puback>(pub->receive()));
        pub->send(make_publish("q/3", "dropped qos0"));
        pub->send(make_publish("q/4", "third", qos::exactly_once, 3));
        REQUIRE(as<mqtt::pubrec>(pub->receive()));

        auto again = persistent(b, "keep", v, present);
        CHECK(present);  // [MQTT-3.2.2-2]
        auto r1 = as<mqtt::publish>(again->receive());
        REQUIRE(r1);
        CHECK(r1->dup);
        CHECK(r1->packet_id == m1->packet_id);
        CHECK(payload_of(*r1) == "first");
        auto r2 = as<mqtt::publish>(again->receive());
        REQUIRE(r2);
        CHECK(payload_of(*r2) == "second");
        CHECK_FALSE(r2->dup);
        auto r3 = as<mqtt::publish>(again->receive());
        REQUIRE(r3);
        CHECK(payload_of(*r3) == "third");
        CHECK(r3->level == qos::at_least_once);  // min(QoS 2, granted 1)
    }
}

TEST_CASE("MQTT-3.1.2-4 clean start discards the previous session") {
    broker_fixture b;
    bool present = false;
    {
        auto sub = persistent(b, "gone", protocol_version::v5, present);
        REQUIRE(sub->subscribe("g", qos::at_least_once));
        sub->send_hex("e0 00");
        CHECK(sub->wait_closed());
    }
    auto sub = b.client("gone");
    REQUIRE(b.ok);
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("g", "x"));
    CHECK(sub->silent_for(200ms));
}

TEST_CASE("MQTT-3.1.4-3 takeover with clean start 0 moves the session to the new connection") {
    broker_fixture b;
    bool present = false;
    auto first = persistent(b, "mover", protocol_version::v5, present);
    REQUIRE(first->subscribe("mv", qos::at_least_once));
    auto second = persistent(b, "mover", protocol_version::v5, present);
    CHECK(present);
    auto d = as<mqtt::disconnect>(first->receive());
    REQUIRE(d);
    CHECK(d->reason_code == reason::session_taken_over);
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("mv", "here"));
    auto m = as<mqtt::publish>(second->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "here");
}
