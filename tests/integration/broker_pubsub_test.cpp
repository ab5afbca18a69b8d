// SPDX-License-Identifier: MIT
// Broker publish/subscribe: QoS 0/1/2 both versions and across versions,
// flow control, topic aliases, subscription options.
#include <doctest/doctest.h>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;

TEST_CASE("MQTT-3.3.1-9 QoS 0 v5 to v5 is forwarded byte-exact with RETAIN 0") {
    broker_fixture b;
    auto sub = b.client("s");
    REQUIRE(b.ok);
    auto sa = sub->subscribe("a/+", qos::at_most_once);
    REQUIRE(sa);
    CHECK(sa->reason_codes == std::vector<reason>{reason::granted_qos_0});
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send_hex("30 07 00 03 61 2f 62 00 68");  // a/b, no props, payload "h"
    auto f = sub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "30 07 00 03 61 2f 62 00 68");
}

TEST_CASE("MQTT-4.3.2-2 QoS 1 v3.1.1: PUBACK to the publisher, PUBLISH with a packet id to the subscriber") {
    broker_fixture b;
    auto sub = b.client("s", protocol_version::v311);
    REQUIRE(b.ok);
    auto sa = sub->subscribe("t", qos::at_least_once);
    REQUIRE(sa);
    CHECK(sa->reason_codes == std::vector<reason>{reason::granted_qos_1});
    auto pub = b.client("p", protocol_version::v311);
    REQUIRE(b.ok);
    pub->send_hex("32 06 00 01 74 00 0a 78");  // QoS 1, id 10, "x"
    auto ack = pub->receive_frame();
    REQUIRE(ack);
    CHECK(to_hex(*ack) == "40 02 00 0a");
    auto f = sub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "32 06 00 01 74 00 01 78");  // broker's own id 1
    sub->send_hex("40 02 00 01");
    CHECK(sub->silent_for(200ms));
}

TEST_CASE("MQTT-4.3.3-10 C08 inbound QoS 2 is delivered on PUBLISH once; PUBREL gets PUBCOMP") {
    broker_fixture b;
    auto sub = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("q2", qos::exactly_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    for (int i = 0; i < 3; ++i) {
        pub->send(make_publish("q2", "once", qos::exactly_once, 7));
        auto rec = as<mqtt::pubrec>(pub->receive());
        REQUIRE(rec);
        CHECK(rec->packet_id == 7);
    }
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "once");
    CHECK(m->level == qos::exactly_once);
    CHECK(sub->silent_for(200ms));  // delivered once
    pub->send_hex("62 02 00 07");
    auto comp = pub->receive_frame();
    REQUIRE(comp);
    CHECK(to_hex(*comp) == "70 02 00 07");
    // Unknown id now: PUBCOMP 0x92 [MQTT-4.3.3-?] hardening C10.
    pub->send_hex("62 02 00 07");
    auto comp2 = as<mqtt::pubcomp>(pub->receive());
    REQUIRE(comp2);
    CHECK(comp2->reason_code == reason::packet_identifier_not_found);

    // Outbound QoS 2 flow to the subscriber.
    sub->send(mqtt::pubrec{m->packet_id, reason::success, {}});
    auto rel = as<mqtt::pubrel>(sub->receive());
    REQUIRE(rel);
    CHECK(rel->packet_id == m->packet_id);
    sub->send(mqtt::pubcomp{m->packet_id, reason::success, {}});
    CHECK(sub->silent_for(200ms));
}

TEST_CASE("MQTT-3.3.5-? cross version: v5 properties are dropped for a v3.1.1 subscriber") {
    broker_fixture b;
    auto sub3 = b.client("s3", protocol_version::v311);
    REQUIRE(b.ok);
    REQUIRE(sub3->subscribe("x", qos::at_least_once));
    auto sub5 = b.client("s5");
    REQUIRE(b.ok);
    REQUIRE(sub5->subscribe("x", qos::at_most_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    auto p = make_publish("x", "hi", qos::at_least_once, 3);
    p.props.add_user_property("k", "v");
    pub->send(p);
    REQUIRE(as<mqtt::puback>(pub->receive()));
    auto f3 = sub3->receive_frame();
    REQUIRE(f3);
    CHECK(to_hex(*f3) == "32 07 00 01 78 00 01 68 69");
    auto m5 = as<mqtt::publish>(sub5->receive());
    REQUIRE(m5);
    CHECK(m5->level == qos::at_most_once);  // min(publish, granted)
    CHECK(m5->props.user_properties() == std::vector<mqtt::string_pair>{{"k", "v"}});

    // And v3.1.1 -> v5.
    auto pub3 = b.client("p3", protocol_version::v311);
    REQUIRE(b.ok);
    pub3->send_hex("30 04 00 01 78 7a");
    auto m = as<mqtt::publish>(sub5->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "z");
}

TEST_CASE("MQTT-3.8.3-3 No Local: a v5 subscriber does not get its own messages") {
    broker_fixture b;
    auto c = b.client("self");
    REQUIRE(b.ok);
    REQUIRE(c->subscribe("n", qos::at_most_once, 1, 0, true));
    REQUIRE(c->subscribe("n2", qos::at_most_once, 2, 0, false));
    c->send(make_publish("n", "no"));
    c->send(make_publish("n2", "yes"));
    auto m = as<mqtt::publish>(c->receive());
    REQUIRE(m);
    CHECK(m->topic == "n2");
}

TEST_CASE("MQTT-3.3.4-3 the Subscription Identifier is sent with matching messages") {
    broker_fixture b;
    auto c = b.client("sid");
    REQUIRE(b.ok);
    REQUIRE(c->subscribe("s/#", qos::at_most_once, 1, 0, false, false, 42));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("s/1", "v"));
    auto m = as<mqtt::publish>(c->receive());
    REQUIRE(m);
    CHECK(m->props.get_all_ints(mqtt::property_id::subscription_identifier) ==
          std::vector<std::uint32_t>{42});
}

TEST_CASE("MQTT-3.3.2-12 inbound Topic Alias is resolved and not forwarded") {
    broker_fixture b;
    auto sub = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("alias/t", qos::at_most_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    auto first = make_publish("alias/t", "1");
    first.props.set_int(mqtt::property_id::topic_alias, 3);
    pub->send(first);
    auto second = make_publish("", "2");
    second.props.set_int(mqtt::property_id::topic_alias, 3);
    pub->send(second);
    for (const char* want : {"1", "2"}) {
        auto m = as<mqtt::publish>(sub->receive());
        REQUIRE(m);
        CHECK(m->topic == "alias/t");
        CHECK(payload_of(*m) == want);
        CHECK_FALSE(m->props.has(mqtt::property_id::topic_alias));
    }
}

TEST_CASE("MQTT-3.3.2-9 C12 Topic Alias above the maximum is 0x94; unknown alias 0x82") {
    broker_fixture b;
    {
        auto c = b.client("a");
        REQUIRE(b.ok);
        auto p = make_publish("t", "x");
        p.props.set_int(mqtt::property_id::topic_alias, 11);
        c->send(p);
        auto d = as<mqtt::disconnect>(c->receive());
        REQUIRE(d);
        CHECK(d->reason_code == reason::topic_alias_invalid);
    }
    {
        auto c = b.client("b");
        REQUIRE(b.ok);
        auto p = make_publish("", "x");
        p.props.set_int(mqtt::property_id::topic_alias, 2);
        c->send(p);
        auto d = as<mqtt::disconnect>(c->receive());
        REQUIRE(d);
        CHECK(d->reason_code == reason::protocol_error);
    }
}

TEST_CASE("MQTT-3.3.4-9 C09 more QoS 2 in flight than Receive Maximum is 0x93") {
    broker_fixture b([](mqtt::net::broker_limits& l) { l.receive_maximum = 2; });
    auto c = b.client("rm");
    REQUIRE(b.ok);
    for (std::uint16_t id = 1; id <= 3; ++id) c->send(make_publish("t", "x", qos::exactly_once, id));
    REQUIRE(as<mqtt::pubrec>(c->receive()));
    REQUIRE(as<mqtt::pubrec>(c->receive()));
    auto d = as<mqtt::disconnect>(c->receive());
    REQUIRE(d);
    CHECK(d->reason_code == reason::receive_maximum_exceeded);
}

TEST_CASE("MQTT-4.9.0-? outbound window: min(client Receive Maximum, max-inflight), rest queued") {
    broker_fixture b([](mqtt::net::broker_limits& l) { l.max_inflight = 2; });
    auto sub = b.client("slow", protocol_version::v311);
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("w", qos::at_least_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    for (std::uint16_t i = 1; i <= 4; ++i) {
        pub->send(make_publish("w", std::to_string(i), qos::at_least_once, i));
        REQUIRE(as<mqtt::puback>(pub->receive()));
    }
    auto m1 = as<mqtt::publish>(sub->receive());
    auto m2 = as<mqtt::publish>(sub->receive());
    REQUIRE(m1);
    REQUIRE(m2);
    CHECK(payload_of(*m1) == "1");
    CHECK(payload_of(*m2) == "2");
    CHECK(sub->silent_for(200ms));  // window full
    sub->send(mqtt::puback{m1->packet_id, reason::success, {}});
    auto m3 = as<mqtt::publish>(sub->receive());
    REQUIRE(m3);
    CHECK(payload_of(*m3) == "3");
    CHECK(sub->silent_for(100ms));
}

TEST_CASE("MQTT-3.1.2-25 a message above the client's Maximum Packet Size is skipped") {
    broker_fixture b;
    raw_client sub(b.port());
    mqtt::connect c;
    c.client_id = "small";
    c.props.set_int(mqtt::property_id::maximum_packet_size, 40);
    auto ack = sub.connect(c);
    REQUIRE(ack);
    REQUIRE(sub.subscribe("m", qos::at_most_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("m", std::string(100, 'x')));
    pub->send(make_publish("m", "small"));
    auto m = as<mqtt::publish>(sub.receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "small");
}

TEST_CASE("MQTT-3.10.4-5 UNSUBSCRIBE stops delivery; unknown filter gets 0x11") {
    broker_fixture b;
    auto c = b.client("u");
    REQUIRE(b.ok);
    REQUIRE(c->subscribe("u/1", qos::at_most_once));
    mqtt::unsubscribe un;
    un.packet_id = 5;
    un.filters = {"u/1", "nope"};
    c->send(un);
    auto ua = as<mqtt::unsuback>(c->receive());
    REQUIRE(ua);
    CHECK(ua->packet_id == 5);
    CHECK(ua->reason_codes == std::vector<reason>{reason::success, reason::no_subscription_existed});
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("u/1", "x"));
    CHECK(c->silent_for(200ms));
}

TEST_CASE("D02 invalid filters get SUBACK 0x8F (3.1.1 0x80) while valid ones are granted") {
    broker_fixture b;
    auto c = b.client("d02");
    REQUIRE(b.ok);
    mqtt::subscribe s;
    s.packet_id = 9;
    for (const char* f : {"a/#/b", "ok/+", "a#"})
        s.entries.push_back(mqtt::subscription{f, qos::at_least_once});
    c->send(s);
    auto sa = as<mqtt::suback>(c->receive());
    if (sa) {
        CHECK(sa->reason_codes == std::vector<reason>{reason::topic_filter_invalid, reason::granted_qos_1,
                                                      reason::topic_filter_invalid});
    } else {
        // A decoder that rejects the whole packet must still close the connection.
        CHECK(c->peer_closed());
    }
}

TEST_CASE("C19 PUBLISH to $SYS is not routed and v5 QoS 1 gets PUBACK 0x87") {
    broker_fixture b;
    auto sub = b.client("s");
    REQUIRE(b.ok);
    // Not $SYS/#: the broker's own $SYS/broker/... topics are retained there.
    REQUIRE(sub->subscribe("$SYS/x", qos::at_most_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("$SYS/x", "no", qos::at_least_once, 1));
    auto ack = as<mqtt::puback>(pub->receive());
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::not_authorized);
    CHECK(sub->silent_for(200ms));
}
