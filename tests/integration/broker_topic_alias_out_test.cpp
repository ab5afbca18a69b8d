// SPDX-License-Identifier: MIT
// Outbound Topic Aliases (MQTT 5 3.3.2.3.4, --topic-alias-out), asserted on the
// wire: a subscriber whose CONNECT allows aliases gets repeated topics as an
// alias with an empty Topic Name; others keep the plain shared encoding.
#include <doctest/doctest.h>

#include "broker_fixture.hpp"
#include "secure_broker_fixture.hpp"

using namespace mq::test;
using mqtt::property_id;
using mqtt::qos;

namespace {

// A v5 subscriber of al/# that accepts `aliases` Topic Aliases from the broker.
std::unique_ptr<raw_client> alias_sub(std::uint16_t port, std::uint16_t aliases, qos q = qos::at_most_once,
                                      std::uint32_t max_packet = 0) {
    auto c = std::make_unique<raw_client>(port);
    mqtt::connect req;
    req.client_id = "s" + std::to_string(aliases);
    if (aliases != 0) req.props.set_int(property_id::topic_alias_maximum, aliases);
    if (max_packet != 0) req.props.set_int(property_id::maximum_packet_size, max_packet);
    const auto ack = c->connect(req);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == mqtt::reason::success);
    REQUIRE(c->subscribe("al/#", q));
    return c;
}

std::unique_ptr<raw_client> pub_client(std::uint16_t port) {
    auto c = std::make_unique<raw_client>(port);
    REQUIRE(c->connect("pub", true));
    return c;
}

void publish0(raw_client& pub, const std::string& topic, const std::string& payload) {
    pub.send(make_publish(topic, payload, qos::at_most_once, 0));
}

std::string next_hex(raw_client& c) {
    auto f = c.receive_frame();
    return f ? to_hex(*f) : "(nothing)";
}

}  // namespace

TEST_CASE(
    "MQTT-3.3.2-9 MQTT-3.3.2-12 repeated topics go as aliases within the client's maximum, LRU redefined") {
    broker_fixture b;
    auto sub = alias_sub(b.port(), 2);
    auto plain = alias_sub(b.port(), 0);  // no Topic Alias Maximum: the shared encoding
    auto pub = pub_client(b.port());
    publish0(*pub, "al/one", "1");
    publish0(*pub, "al/one", "2");
    publish0(*pub, "al/two", "3");
    publish0(*pub, "al/three", "4");  // both taken: al/one is the least recently used
    publish0(*pub, "al/one", "5");    // al/two is now: alias 2 is redefined
    // Topic + alias 1 (property 23 00 01), then the empty topic with alias 1.
    CHECK(next_hex(*sub) == "30 0d 00 06 61 6c 2f 6f 6e 65 03 23 00 01 31");
    CHECK(next_hex(*sub) == "30 07 00 00 03 23 00 01 32");
    CHECK(next_hex(*sub) == "30 0d 00 06 61 6c 2f 74 77 6f 03 23 00 02 33");
    CHECK(next_hex(*sub) == "30 0f 00 08 61 6c 2f 74 68 72 65 65 03 23 00 01 34");
    CHECK(next_hex(*sub) == "30 0d 00 06 61 6c 2f 6f 6e 65 03 23 00 02 35");
    CHECK(next_hex(*plain) == "30 0a 00 06 61 6c 2f 6f 6e 65 00 31");
    CHECK(next_hex(*plain) == "30 0a 00 06 61 6c 2f 6f 6e 65 00 32");
}

TEST_CASE("MQTT-3.3.2-7 outbound aliases belong to the network connection: a reconnect starts again") {
    broker_fixture b;
    auto pub = pub_client(b.port());
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        auto sub = alias_sub(b.port(), 4, qos::at_least_once);
        pub->send(make_publish("al/q", "a", qos::at_least_once, 1));
        REQUIRE(as<mqtt::puback>(pub->receive()));
        CHECK(next_hex(*sub) == "32 0d 00 04 61 6c 2f 71 00 01 03 23 00 01 61");
        sub->send(mqtt::puback{1, mqtt::reason::success, {}});
        pub->send(make_publish("al/q", "b", qos::at_least_once, 2));
        REQUIRE(as<mqtt::puback>(pub->receive()));
        CHECK(next_hex(*sub) == "32 09 00 00 00 02 03 23 00 01 62");
        sub->send(mqtt::puback{2, mqtt::reason::success, {}});
        sub->send_hex("e0 00");  // DISCONNECT; the next round is a new connection
        CHECK(sub->wait_closed());
    }
}

TEST_CASE("MQTT-3.1.2-24 an alias that would exceed the client's Maximum Packet Size is not used") {
    broker_fixture b;
    // 12 bytes is exactly the plain PUBLISH below; with the alias it would be 15.
    auto sub = alias_sub(b.port(), 2, qos::at_most_once, 12);
    auto pub = pub_client(b.port());
    publish0(*pub, "al/one", "1");
    publish0(*pub, "al/one", "2");
    CHECK(next_hex(*sub) == "30 0a 00 06 61 6c 2f 6f 6e 65 00 31");
    CHECK(next_hex(*sub) == "30 0a 00 06 61 6c 2f 6f 6e 65 00 32");  // no mapping was made
}

TEST_CASE("--topic-alias-out off: a client that allows aliases gets plain topics") {
    mqtt::net::server_options o;
    o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
    o.sys_interval = std::chrono::milliseconds(0);
    o.topic_alias_out = false;
    secure_broker b(std::move(o));
    auto sub = alias_sub(b.port(), 2);
    auto pub = pub_client(b.port());
    publish0(*pub, "al/one", "1");
    publish0(*pub, "al/one", "2");
    CHECK(next_hex(*sub) == "30 0a 00 06 61 6c 2f 6f 6e 65 00 31");
    CHECK(next_hex(*sub) == "30 0a 00 06 61 6c 2f 6f 6e 65 00 32");
}
