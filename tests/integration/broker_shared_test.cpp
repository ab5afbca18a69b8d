// SPDX-License-Identifier: MIT
// Shared subscriptions when a member leaves (MQTT 5 sec-4.8.2): "If the
// Client's Session terminates before the Client reconnects, the Server SHOULD
// send the Application Message to another Client that is subscribed to the
// same Shared Subscription" (QoS 1); a QoS 2 message in flight goes to no other
// Client [MQTT-4.8.2-5]. Queued messages were never sent, so they move too. A
// member whose session outlives its connection keeps its messages until the
// session ends (the spec lets the Server wait for it to reconnect).
#include <doctest/doctest.h>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::property_id;
using mqtt::qos;

namespace {

// A v5 member of $share/g/t with Receive Maximum 1, so a second message for it
// waits in its queue; `expiry` is its Session Expiry Interval.
std::unique_ptr<raw_client> member(std::uint16_t port, const std::string& id, std::uint32_t expiry = 0,
                                   bool clean = true, qos q = qos::at_least_once) {
    auto c = std::make_unique<raw_client>(port);
    mqtt::connect req;
    req.client_id = id;
    req.clean_start = clean;
    req.props.set_int(property_id::receive_maximum, 1);
    if (expiry != 0) req.props.set_int(property_id::session_expiry_interval, expiry);
    const auto ack = c->connect(req);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == mqtt::reason::success);
    if (clean) REQUIRE(c->subscribe("$share/g/t", q));
    return c;
}

std::optional<mqtt::publish> next_publish(raw_client& c, std::chrono::milliseconds timeout = 2000ms) {
    return as<mqtt::publish>(c.receive(timeout));
}

// Publishes "1".."n" on t at `q`; each acknowledged (not checked here).
void publish_n(raw_client& pub, int n, qos q) {
    for (int i = 1; i <= n; ++i) {
        pub.send(make_publish("t", std::to_string(i), q, static_cast<std::uint16_t>(i)));
        REQUIRE(pub.receive());  // PUBACK / PUBREC
        if (q == qos::exactly_once) {
            pub.send(mqtt::pubrel{static_cast<std::uint16_t>(i), mqtt::reason::success, {}});
            REQUIRE(pub.receive());  // PUBCOMP
        }
    }
}

}  // namespace

TEST_CASE("sec-4.8.2 a member that leaves with QoS 1 in flight and queued: another member gets them, in order") {
    broker_fixture b;
    auto m1 = member(b.port(), "m1");
    auto m2 = member(b.port(), "m2");
    auto pub = b.client("p");
    REQUIRE(b.ok);
    publish_n(*pub, 4, qos::at_least_once);  // round-robin: 1 and 3 to m1, 2 and 4 to m2
    auto a = next_publish(*m1);
    REQUIRE(a);
    CHECK(payload_of(*a) == "1");  // 3 waits behind it: Receive Maximum 1
    for (const char* want : {"2", "4"}) {
        auto m = next_publish(*m2);
        REQUIRE(m);
        CHECK(payload_of(*m) == want);
        m2->send(mqtt::puback{m->packet_id, mqtt::reason::success, {}});
    }
    m1->close();  // no PUBACK, no DISCONNECT; session expiry 0: the session ends
    for (const char* want : {"1", "3"}) {
        auto m = next_publish(*m2);
        REQUIRE(m);
        CHECK(payload_of(*m) == want);
        CHECK(m->level == qos::at_least_once);
        CHECK_FALSE(m->dup);  // a first delivery to this client [MQTT-3.3.1-3]
        m2->send(mqtt::puback{m->packet_id, mqtt::reason::success, {}});
    }
    CHECK(m2->silent_for(200ms));
}

TEST_CASE("MQTT-4.8.2-5 a QoS 2 message in flight to a member that leaves goes to no other member") {
    broker_fixture b;
    auto m1 = member(b.port(), "m1", 0, true, qos::exactly_once);
    auto m2 = member(b.port(), "m2", 0, true, qos::exactly_once);
    auto pub = b.client("p");
    REQUIRE(b.ok);
    publish_n(*pub, 3, qos::exactly_once);  // 1 (in flight) and 3 (queued) to m1, 2 to m2
    auto a = next_publish(*m1);
    REQUIRE(a);
    CHECK(payload_of(*a) == "1");
    auto two = next_publish(*m2);
    REQUIRE(two);
    CHECK(payload_of(*two) == "2");
    m2->send(mqtt::pubrec{two->packet_id, mqtt::reason::success, {}});
    REQUIRE(as<mqtt::pubrel>(m2->receive()));
    m2->send(mqtt::pubcomp{two->packet_id, mqtt::reason::success, {}});  // m2's window is free again
    m1->close();
    // The queued one was never sent to m1: it moves. The one in flight does not.
    auto m = next_publish(*m2);
    REQUIRE(m);
    CHECK(payload_of(*m) == "3");
    CHECK(m->level == qos::exactly_once);
    CHECK(m2->silent_for(300ms));
}

TEST_CASE("sec-4.8.2 a persistent member keeps its messages while offline and passes them on when its session ends") {
    broker_fixture b;
    auto m1 = member(b.port(), "m1", 1);  // Session Expiry 1 s
    auto m2 = member(b.port(), "m2");
    auto pub = b.client("p");
    REQUIRE(b.ok);
    publish_n(*pub, 2, qos::at_least_once);
    auto a = next_publish(*m1);
    REQUIRE(a);
    CHECK(payload_of(*a) == "1");
    auto two = next_publish(*m2);
    REQUIRE(two);
    m2->send(mqtt::puback{two->packet_id, mqtt::reason::success, {}});
    m1->close();
    // Offline, the session still owns "1": not given away.
    CHECK(m2->silent_for(300ms));
    // Reconnecting in time gets it again with DUP [MQTT-4.4.0-1].
    m1 = member(b.port(), "m1", 1, false);
    auto again = next_publish(*m1);
    REQUIRE(again);
    CHECK(payload_of(*again) == "1");
    CHECK(again->dup);
    // Gone for good: the expiry (checked once a second) ends the session and m2 gets it.
    m1->close();
    auto m = next_publish(*m2, 4000ms);
    REQUIRE(m);
    CHECK(payload_of(*m) == "1");
    CHECK_FALSE(m->dup);
}

TEST_CASE("MQTT-3.1.2-4 sec-4.8.2 a clean start that discards a member's session passes its messages on") {
    broker_fixture b;
    auto m1 = member(b.port(), "m1", 60);
    auto m2 = member(b.port(), "m2");
    auto pub = b.client("p");
    REQUIRE(b.ok);
    publish_n(*pub, 1, qos::at_least_once);
    auto a = next_publish(*m1);
    REQUIRE(a);
    m1->close();
    CHECK(m2->silent_for(200ms));
    raw_client fresh(b.port());
    REQUIRE(fresh.connect("m1", true));  // clean start: the old session ends
    auto m = next_publish(*m2);
    REQUIRE(m);
    CHECK(payload_of(*m) == "1");
    CHECK(fresh.silent_for(200ms));
}

TEST_CASE("sec-4.8.2 with no other member left, a leaving member's messages end with it") {
    broker_fixture b;
    auto m1 = member(b.port(), "m1");
    auto pub = b.client("p");
    REQUIRE(b.ok);
    publish_n(*pub, 2, qos::at_least_once);
    REQUIRE(next_publish(*m1));
    m1->close();
    // A new member joins after: it gets nothing of the old member's.
    auto m2 = member(b.port(), "m2");
    CHECK(m2->silent_for(300ms));
    publish_n(*pub, 1, qos::at_least_once);
    auto m = next_publish(*m2);
    REQUIRE(m);
    CHECK(payload_of(*m) == "1");
}
