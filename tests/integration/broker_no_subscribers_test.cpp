// SPDX-License-Identifier: MIT
// PUBACK/PUBREC 0x10 No matching subscribers (MQTT 5 sec-3.4.2.1, sec-3.5.2.1):
// "If the Server knows that there are no matching subscribers, it MAY use this
// Reason Code instead of 0x00 (Success)". mq broker does, for v5 publishers;
// 3.1.1 acks carry no reason code.
#include <doctest/doctest.h>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;

namespace {

// The reason code of the next packet, which must be a PUBACK.
std::optional<reason> puback_code(raw_client& c) {
    const auto a = as<mqtt::puback>(c.receive());
    if (!a) return std::nullopt;
    return a->reason_code;
}

}  // namespace

TEST_CASE("sec-3.4.2.1 v5 QoS 1 without a matching subscription: PUBACK 0x10; with one: short PUBACK 0x00") {
    broker_fixture b;
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send_hex("32 07 00 01 74 00 05 00 78");  // t, id 5, no props, "x"
    auto f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "40 03 00 05 10");

    auto sub = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("t", qos::at_least_once));
    pub->send_hex("32 07 00 01 74 00 06 00 78");
    f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "40 02 00 06");  // Success, shortest form (sec-3.4.2.1)
    REQUIRE(as<mqtt::publish>(sub->receive()));
}

TEST_CASE("sec-3.5.2.1 v5 QoS 2 without a matching subscription: PUBREC 0x10, then PUBREL/PUBCOMP as usual") {
    broker_fixture b;
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send_hex("34 07 00 01 74 00 09 00 78");
    auto f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "50 03 00 09 10");
    // 0x10 is below 0x80: the flow goes on [MQTT-4.3.3-?], the id is held until PUBREL.
    pub->send_hex("62 02 00 09");
    f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "70 02 00 09");
}

TEST_CASE("sec-3.4.2.1 a subscription the publisher's message cannot reach still leaves 0x10 for others") {
    broker_fixture b;
    auto sub = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("a/+", qos::at_least_once));
    REQUIRE(sub->subscribe("$share/g/b", qos::at_least_once, 2));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    // Matched by a wildcard, by a shared subscription, and by nothing.
    pub->send(make_publish("a/x", "1", qos::at_least_once, 1));
    CHECK(puback_code(*pub) == reason::success);
    pub->send(make_publish("b", "2", qos::at_least_once, 2));
    CHECK(puback_code(*pub) == reason::success);
    pub->send(make_publish("c", "3", qos::at_least_once, 3));
    CHECK(puback_code(*pub) == reason::no_matching_subscribers);
    // No Local: the only subscriber is the publisher itself, which does not get it.
    auto self = b.client("self");
    REQUIRE(b.ok);
    REQUIRE(self->subscribe("n", qos::at_least_once, 1, 0, true));
    self->send(make_publish("n", "4", qos::at_least_once, 4));
    CHECK(puback_code(*self) == reason::no_matching_subscribers);
}

TEST_CASE("sec-3.4.2.1 a retained message nobody subscribes to is stored and acknowledged 0x10") {
    broker_fixture b;
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("r", "kept", qos::at_least_once, 1, true));
    CHECK(puback_code(*pub) == reason::no_matching_subscribers);
    auto sub = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("r", qos::at_least_once));
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "kept");
    CHECK(m->retain);
}

TEST_CASE("v311-3.4.2 3.1.1 has no reason code: PUBACK and PUBREC without subscribers are plain") {
    broker_fixture b;
    auto pub = b.client("p", protocol_version::v311);
    REQUIRE(b.ok);
    pub->send_hex("32 06 00 01 74 00 05 78");
    auto f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "40 02 00 05");
    pub->send_hex("34 06 00 01 74 00 06 78");
    f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "50 02 00 06");
}
