// SPDX-License-Identifier: MIT
// Shared subscriptions and the ACL (spec 4.8.2 leaves the choice of member to
// the Server): a message goes to a member that may read its topic, on the
// first delivery and when a leaving member's messages are handed on; it is
// dropped, and counted as not_authorized, only when no member may read it.
#include <doctest/doctest.h>

#include <set>

#include "broker_fixture.hpp"
#include "mosquitto_fixture.hpp"
#include "secure_broker_fixture.hpp"

using namespace mq::test;
using mqtt::property_id;
using mqtt::qos;

namespace {

// Client "mN" may not read t/mN; everything else is allowed (anonymous, loopback).
struct acl_broker {
    temp_dir dir;
    std::string acl = dir.file("acl");
    std::unique_ptr<secure_broker> b;
    acl_broker() {
        write_text(acl, "deny * read t/%c\nallow * readwrite #\n");
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
        o.acl_file = acl;
        o.sys_interval = std::chrono::milliseconds(0);
        b = std::make_unique<secure_broker>(std::move(o));
    }
    std::uint16_t port() const { return b->port(); }
};

// A v5 member of $share/g/t/+ with Receive Maximum 1: a second message waits in its queue.
std::unique_ptr<raw_client> member(std::uint16_t port, const std::string& id) {
    auto c = std::make_unique<raw_client>(port);
    mqtt::connect req;
    req.client_id = id;
    req.props.set_int(property_id::receive_maximum, 1);
    const auto ack = c->connect(req);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == mqtt::reason::success);
    REQUIRE(c->subscribe("$share/g/t/+", qos::at_least_once));
    return c;
}

std::unique_ptr<raw_client> publisher(std::uint16_t port) {
    auto c = std::make_unique<raw_client>(port);
    REQUIRE(c->connect("pub", true));
    return c;
}

void publish_n(raw_client& pub, const std::string& topic, int n) {
    for (int i = 1; i <= n; ++i) {
        pub.send(make_publish(topic, std::to_string(i), qos::at_least_once, static_cast<std::uint16_t>(i)));
        REQUIRE(as<mqtt::puback>(pub.receive()));
    }
}

// Reads and acknowledges PUBLISH packets until `quiet` passes without one.
std::multiset<std::string> drain(raw_client& c, std::chrono::milliseconds quiet = 400ms) {
    std::multiset<std::string> got;
    while (auto p = as<mqtt::publish>(c.receive(quiet))) {
        got.insert(payload_of(*p));
        c.send(mqtt::puback{p->packet_id, mqtt::reason::success, {}});
    }
    return got;
}

}  // namespace

TEST_CASE("sec-4.8.2 J05 a shared message skips a member the ACL refuses and goes to one that may read it") {
    acl_broker b;
    auto m1 = member(b.port(), "m1");
    auto m2 = member(b.port(), "m2");
    auto pub = publisher(b.port());
    publish_n(*pub, "t/m1", 4);  // m1 may not read t/m1: every one goes to m2
    CHECK(drain(*m2) == std::multiset<std::string>{"1", "2", "3", "4"});
    CHECK(m1->silent_for(100ms));
    const auto st = b.b->server().stats();
    CHECK(st.dropped_not_authorized == 0);
    CHECK(st.messages_dropped == 0);
}

TEST_CASE("sec-4.8.2 J05 a shared message no member may read is dropped and counted") {
    acl_broker b;
    auto m1 = member(b.port(), "m1");
    auto pub = publisher(b.port());
    publish_n(*pub, "t/m1", 2);
    CHECK(m1->silent_for(300ms));
    CHECK(b.b->server().stats().dropped_not_authorized == 2);
}

TEST_CASE(
    "sec-4.8.2 J05 a leaving member's messages go to the member that may read them, not the refused one") {
    acl_broker b;
    auto m1 = member(b.port(), "m1");
    auto m2 = member(b.port(), "m2");  // may not read t/m2
    auto m3 = member(b.port(), "m3");
    auto pub = publisher(b.port());
    // m1 and m3 share them; neither acknowledges yet, so with Receive Maximum 1
    // each holds one in flight and the rest queued.
    publish_n(*pub, "t/m2", 6);
    auto first = as<mqtt::publish>(m1->receive(2000ms));
    REQUIRE(first);
    m1->close();  // no PUBACK, session expiry 0: its in-flight and queued messages are handed on
    auto got = drain(*m3);
    CHECK(got == std::multiset<std::string>{"1", "2", "3", "4", "5", "6"});
    CHECK(m2->silent_for(100ms));
    CHECK(b.b->server().stats().dropped_not_authorized == 0);
}
