// SPDX-License-Identifier: MIT
// server_session's authorisation hooks with fake time: the publish check
// (hardening J05) and discarding queued messages on resume (J07).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <mqtt/core/server_session.hpp>

namespace {

using namespace mqtt;
using namespace mqtt::core;

const time_point t0{};

server_session connected(protocol_version v) {
    server_session s;
    mqtt::connect c;
    c.version = v;
    c.client_id = "c";
    s.on_packet(c, t0);
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);
    REQUIRE(std::holds_alternative<connect_request>(a[0]));
    s.accept(false, t0);
    (void)s.take_actions();
    s.set_publish_check([](std::string_view topic) { return topic.starts_with("ok/"); });
    return s;
}

mqtt::publish pub(std::string topic, qos q, std::uint16_t id) {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.level = q;
    p.packet_id = id;
    return p;
}

// Kinds of the actions a PUBLISH produced: "route", "puback:RC", "pubrec:RC".
std::vector<std::string> outcome(server_session& s, mqtt::publish p) {
    s.on_packet(std::move(p), t0);
    std::vector<std::string> out;
    for (auto& a : s.take_actions()) {
        if (std::holds_alternative<route_publish>(a)) out.push_back("route");
        if (auto* sp = std::get_if<send_packet>(&a)) {
            if (auto* ack = std::get_if<mqtt::puback>(&sp->pkt))
                out.push_back("puback:" + std::to_string(static_cast<int>(ack->reason_code)));
            if (auto* rec = std::get_if<mqtt::pubrec>(&sp->pkt))
                out.push_back("pubrec:" + std::to_string(static_cast<int>(rec->reason_code)));
        }
    }
    return out;
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("J05 v5 refused PUBLISH: QoS 1 PUBACK 0x87, QoS 2 PUBREC 0x87 without state, QoS 0 dropped and counted") {
    auto s = connected(protocol_version::v5);
    CHECK(outcome(s, pub("ok/a", qos::at_least_once, 1)) == strings{"route", "puback:0"});
    CHECK(outcome(s, pub("no/a", qos::at_least_once, 2)) == strings{"puback:135"});
    CHECK(outcome(s, pub("no/a", qos::exactly_once, 3)) == strings{"pubrec:135"});
    // 0x87 ended that flow: the same id is a new message, not a retransmission.
    CHECK(outcome(s, pub("ok/b", qos::exactly_once, 3)) == strings{"route", "pubrec:0"});
    CHECK(outcome(s, pub("no/a", qos::at_most_once, 0)).empty());
    CHECK(s.take_drops().not_authorized == 1);  // only the silent one
}

TEST_CASE("J05 v3.1.1 refused PUBLISH is acknowledged with success, not routed, counted") {
    auto s = connected(protocol_version::v311);
    CHECK(outcome(s, pub("no/a", qos::at_least_once, 1)) == strings{"puback:0"});
    CHECK(outcome(s, pub("no/a", qos::exactly_once, 2)) == strings{"pubrec:0"});
    CHECK(outcome(s, pub("no/a", qos::exactly_once, 2)) == strings{"pubrec:0"});  // retransmission
    CHECK(outcome(s, pub("no/a", qos::at_most_once, 0)).empty());
    CHECK(s.take_drops().not_authorized == 3);
}

TEST_CASE("J07 discard_queued drops queued messages the predicate refuses and counts them") {
    server_session s;  // not connected: deliveries queue
    mqtt::connect c;
    c.client_id = "c";
    c.clean_start = false;
    c.props.set_int(property_id::session_expiry_interval, 60);
    s.on_packet(c, t0);
    (void)s.take_actions();
    for (const char* t : {"a/1", "b/1", "a/2"}) {
        auto m = std::make_shared<const mqtt::publish>(pub(t, qos::at_least_once, 0));
        CHECK(s.deliver(m, qos::at_least_once, false, {}, t0));
    }
    CHECK(s.queued() == 3);
    CHECK(s.discard_queued([](std::string_view topic) { return topic.starts_with("a/"); }) == 1);
    CHECK(s.queued() == 2);
    CHECK(s.take_drops().not_authorized == 1);
    s.accept(true, t0);
    std::vector<std::string> sent;
    for (auto& a : s.take_actions())
        if (auto* sp = std::get_if<send_publish>(&a)) sent.push_back(sp->msg->topic);
    CHECK(sent == strings{"a/1", "a/2"});
}
