// SPDX-License-Identifier: MIT
// server_session limits: queued bytes (--max-queued-bytes) and PUBLISH topic
// length/levels (--max-topic-length, --max-topic-levels), with fake time.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <mqtt/core/server_session.hpp>

namespace {

using namespace mqtt;
using namespace mqtt::core;

time_point at(int seconds) {
    return time_point{} + std::chrono::seconds(seconds);
}

mqtt::publish make_pub(std::string topic, qos q, std::uint16_t id = 0, std::string payload = "p") {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.level = q;
    p.packet_id = id;
    p.payload.assign(payload.begin(), payload.end());
    return p;
}

std::shared_ptr<const mqtt::publish> shared_pub(std::string topic, std::string payload) {
    return std::make_shared<const mqtt::publish>(
        make_pub(std::move(topic), qos::at_least_once, 0, std::move(payload)));
}

server_session connected(server_session_config cfg, protocol_version v = protocol_version::v5) {
    server_session s(cfg);
    mqtt::connect c;
    c.version = v;
    c.client_id = "c";
    s.on_packet(c, at(0));
    REQUIRE(s.take_actions().size() == 1);  // connect_request
    s.accept(false, at(0));
    (void)s.take_actions();
    return s;
}

std::vector<std::string> sent_payloads(const std::vector<server_action>& actions) {
    std::vector<std::string> out;
    for (const auto& a : actions)
        if (const auto* p = std::get_if<send_publish>(&a))
            out.emplace_back(p->msg->payload.begin(), p->msg->payload.end());
    return out;
}

template <class P>
const P* only_packet(const std::vector<server_action>& a) {
    for (const auto& x : a)
        if (const auto* s = std::get_if<send_packet>(&x))
            if (const auto* p = std::get_if<P>(&s->pkt)) return p;
    return nullptr;
}

}  // namespace

TEST_CASE("server_session: max_queued_bytes drops the oldest queued messages until the new one fits") {
    server_session_config cfg;
    cfg.max_inflight = 1;
    cfg.max_queued = 1000;      // the count limit is not what bites here
    cfg.max_queued_bytes = 10;  // two messages of topic "t" + 4 payload bytes
    auto s = connected(cfg);
    for (const char* p : {"m001", "m002", "m003", "m004", "m005"})
        CHECK(s.deliver(shared_pub("t", p), qos::at_least_once, false, {}, at(1)));
    auto a = s.take_actions();
    REQUIRE(sent_payloads(a) == std::vector<std::string>{"m001"});  // the window of 1
    CHECK(s.queued() == 2);
    CHECK(s.queued_bytes() == 10);
    CHECK(s.take_drops().queue_full == 2);  // m002 and m003, the oldest queued
    // Acknowledging frees the window: the next queued message goes, its bytes leave the count.
    auto id = std::get<send_publish>(a[0]).packet_id;
    s.on_packet(mqtt::puback{id, reason::success, {}}, at(2));
    CHECK(sent_payloads(s.take_actions()) == std::vector<std::string>{"m004"});
    CHECK(s.queued_bytes() == 5);
    CHECK(s.queued() == 1);
}

TEST_CASE("server_session: a message larger than max_queued_bytes is dropped and the queue is kept") {
    server_session_config cfg;
    cfg.max_inflight = 1;
    cfg.max_queued_bytes = 10;
    auto s = connected(cfg);
    CHECK(s.deliver(shared_pub("t", "m001"), qos::at_least_once, false, {}, at(1)));  // in flight
    CHECK(s.deliver(shared_pub("t", "m002"), qos::at_least_once, false, {}, at(1)));  // queued
    CHECK_FALSE(s.deliver(shared_pub("t", std::string(20, 'x')), qos::at_least_once, false, {}, at(1)));
    CHECK(s.queued() == 1);
    CHECK(s.queued_bytes() == 5);
    CHECK(s.take_drops().queue_full == 1);
}

TEST_CASE("server_session: queued bytes move with the session and shrink with shared hand-back") {
    server_session_config cfg;
    cfg.max_inflight = 1;
    cfg.max_queued_bytes = 12;
    server_session offline(cfg);  // never connected: everything QoS 1 is queued
    auto share = std::make_shared<const std::string>("$share/g/t");
    CHECK(offline.deliver(shared_pub("t", "aaaaa"), qos::at_least_once, false, {}, at(1)));
    CHECK(offline.deliver(shared_pub("t", "bbbbb"), qos::at_least_once, false, {}, at(1), std::nullopt, 0,
                          share));
    CHECK(offline.queued_bytes() == 12);
    auto back = offline.take_shared_unfinished();
    REQUIRE(back.size() == 1);
    CHECK(offline.queued_bytes() == 6);
    // A third message fits again: the hand-back freed its bytes.
    CHECK(offline.deliver(shared_pub("t", "ccccc"), qos::at_least_once, false, {}, at(1)));
    CHECK(offline.take_drops().queue_full == 0);
    server_session next(cfg);
    next.resume(std::move(offline));
    CHECK(next.queued_bytes() == 12);
    CHECK(offline.queued_bytes() == 0);  // NOLINT(bugprone-use-after-move): resume() empties it
}

TEST_CASE(
    "sec-3.4.2.1 server_session: a topic over max_topic_length is refused with PUBACK 0x90, the session "
    "stays") {
    server_session_config cfg;
    cfg.max_topic_length = 4;
    auto s = connected(cfg);
    s.on_packet(make_pub("abcd", qos::at_least_once, 1), at(1));  // at the limit: routed
    auto a = s.take_actions();
    REQUIRE(a.size() == 2);
    CHECK(std::holds_alternative<route_publish>(a[0]));
    s.on_packet(make_pub("abcde", qos::at_least_once, 2), at(1));
    a = s.take_actions();
    REQUIRE(a.size() == 1);
    const auto* ack = only_packet<mqtt::puback>(a);
    REQUIRE(ack);
    CHECK(ack->packet_id == 2);
    CHECK(ack->reason_code == reason::topic_name_invalid);
    CHECK(s.connected());
    s.on_packet(make_pub("abcde", qos::at_most_once), at(1));  // QoS 0: no ack to say it in
    a = s.take_actions();
    const auto* d = only_packet<mqtt::disconnect>(a);
    REQUIRE(d);
    CHECK(d->reason_code == reason::topic_name_invalid);
    CHECK(s.closed());
}

TEST_CASE(
    "sec-3.5.2.1 server_session: a topic over max_topic_levels is refused with PUBREC 0x90, no id kept") {
    server_session_config cfg;
    cfg.max_topic_levels = 2;
    auto s = connected(cfg);
    s.on_packet(make_pub("a/b/c", qos::exactly_once, 7), at(1));
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);
    const auto* rec = only_packet<mqtt::pubrec>(a);
    REQUIRE(rec);
    CHECK(rec->reason_code == reason::topic_name_invalid);
    // The flow ended at the refusal: a PUBREL for it is unknown, PUBCOMP 0x92.
    s.on_packet(mqtt::pubrel{7, reason::success, {}}, at(1));
    a = s.take_actions();
    const auto* comp = only_packet<mqtt::pubcomp>(a);
    REQUIRE(comp);
    CHECK(comp->reason_code == reason::packet_identifier_not_found);
    // The topic an alias stands for is what counts: alias 1 -> "a/b/c" is refused too.
    auto defined = make_pub("a/b/c", qos::at_least_once, 8);
    defined.props.set_int(property_id::topic_alias, 1);
    s.on_packet(defined, at(1));
    auto by_alias = make_pub("", qos::at_least_once, 9);
    by_alias.props.set_int(property_id::topic_alias, 1);
    s.on_packet(by_alias, at(1));
    a = s.take_actions();
    REQUIRE(a.size() == 2);
    CHECK(only_packet<mqtt::puback>({a[1]})->reason_code == reason::topic_name_invalid);
    s.on_packet(make_pub("a/b", qos::exactly_once, 10), at(1));
    CHECK(std::holds_alternative<route_publish>(s.take_actions().at(0)));
}

TEST_CASE("server_session: 3.1.1 cannot refuse a PUBLISH, a topic over the limit closes the connection") {
    server_session_config cfg;
    cfg.max_topic_length = 4;
    auto s = connected(cfg, protocol_version::v311);
    s.on_packet(make_pub("abcde", qos::at_least_once, 1), at(1));
    auto a = s.take_actions();
    CHECK_FALSE(only_packet<mqtt::puback>(a));
    CHECK(s.closed());
}
