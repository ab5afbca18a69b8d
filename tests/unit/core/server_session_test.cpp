// SPDX-License-Identifier: MIT
// server_session state machine with fake time: inputs -> ordered actions.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <mqtt/core/server_session.hpp>

namespace {

using namespace mqtt;
using namespace mqtt::core;

time_point at(double seconds) {
    return time_point{} + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
}

mqtt::connect make_connect(protocol_version v, std::string id = "c", bool clean = true,
                           std::uint16_t ka = 10) {
    mqtt::connect c;
    c.version = v;
    c.client_id = std::move(id);
    c.clean_start = clean;
    c.keep_alive = ka;
    return c;
}

mqtt::publish make_pub(std::string topic, qos q, std::uint16_t id = 0, std::string payload = "p") {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.level = q;
    p.packet_id = id;
    p.payload.assign(payload.begin(), payload.end());
    return p;
}

std::shared_ptr<const mqtt::publish> shared_pub(std::string topic, std::string payload = "m") {
    return std::make_shared<const mqtt::publish>(
        make_pub(std::move(topic), qos::at_least_once, 0, std::move(payload)));
}

// Accepted session (connect_request answered) with its actions drained.
server_session connected(server_session_config cfg = {}, protocol_version v = protocol_version::v5,
                         mqtt::connect c = make_connect(protocol_version::v5)) {
    server_session s(cfg);
    c.version = v;
    s.on_packet(c, at(0));
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);
    REQUIRE(std::holds_alternative<connect_request>(a[0]));
    s.accept(false, at(0));
    (void)s.take_actions();
    return s;
}

template <class T>
const T* get(const std::vector<server_action>& a, std::size_t i) {
    if (i >= a.size()) return nullptr;
    return std::get_if<T>(&a[i]);
}

template <class P>
const P* sent(const std::vector<server_action>& a, std::size_t i) {
    const auto* s = get<send_packet>(a, i);
    return s ? std::get_if<P>(&s->pkt) : nullptr;
}

}  // namespace

TEST_CASE("MQTT-3.1.0-1 server_session: a first packet other than CONNECT closes without a reply") {
    server_session s;
    s.on_packet(make_pub("t", qos::at_most_once), at(0));
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);
    CHECK(get<close_connection>(a, 0));
    CHECK(s.closed());
}

TEST_CASE("MQTT-3.1.3-8 server_session: v3.1.1 empty client id with clean session 0 gets CONNACK 0x02") {
    server_session s;
    s.on_packet(make_connect(protocol_version::v311, "", false), at(0));
    auto a = s.take_actions();
    REQUIRE(a.size() == 2);
    REQUIRE(sent<connack>(a, 0));
    CHECK(sent<connack>(a, 0)->reason_code == reason::client_identifier_not_valid);
    CHECK(get<close_connection>(a, 1));
}

TEST_CASE("MQTT-3.2.2-16 server_session: v5 empty client id is assigned and returned in CONNACK") {
    server_session s;
    s.on_packet(make_connect(protocol_version::v5, ""), at(0));
    auto a = s.take_actions();
    REQUIRE(get<connect_request>(a, 0));
    const std::string id = get<connect_request>(a, 0)->client_id;
    CHECK(id.size() == 18);
    s.accept(false, at(0));
    a = s.take_actions();
    REQUIRE(sent<connack>(a, 0));
    const std::string* assigned =
        sent<connack>(a, 0)->props.get_string(property_id::assigned_client_identifier);
    REQUIRE(assigned);
    CHECK(*assigned == id);
}

TEST_CASE("MQTT-3.1.2-22 server_session: keepalive deadline is 1.5x and refreshed by any packet") {
    auto s = connected();  // keepalive 10 s
    REQUIRE(s.next_deadline());
    CHECK(*s.next_deadline() == at(15));
    s.on_packet(mqtt::pingreq{}, at(10));
    (void)s.take_actions();
    CHECK(*s.next_deadline() == at(25));
    s.on_tick(at(24.9));
    CHECK_FALSE(s.has_actions());
    s.on_tick(at(25));
    auto a = s.take_actions();
    REQUIRE(sent<mqtt::disconnect>(a, 0));
    CHECK(sent<mqtt::disconnect>(a, 0)->reason_code == reason::keep_alive_timeout);
    CHECK(get<close_connection>(a, 1));
}

TEST_CASE("MQTT-3.1.0-2 server_session: a second CONNECT is 0x82 and publishes the Will") {
    auto c = make_connect(protocol_version::v5);
    c.will_msg = mqtt::will{"w", {'x'}, qos::at_most_once, false, {}};
    auto s = connected({}, protocol_version::v5, c);
    s.on_packet(make_connect(protocol_version::v5), at(1));
    auto a = s.take_actions();
    REQUIRE(sent<mqtt::disconnect>(a, 0));
    CHECK(sent<mqtt::disconnect>(a, 0)->reason_code == reason::protocol_error);
    REQUIRE(get<close_connection>(a, 1));
    REQUIRE(get<close_connection>(a, 1)->will);
    CHECK(get<close_connection>(a, 1)->will->topic == "w");
}

TEST_CASE("MQTT-3.14.4-3 server_session: normal DISCONNECT drops the Will, 0x04 keeps it") {
    auto c = make_connect(protocol_version::v5);
    c.will_msg = mqtt::will{"w", {'x'}, qos::at_most_once, false, {}};
    auto s = connected({}, protocol_version::v5, c);
    s.on_packet(mqtt::disconnect{}, at(1));
    auto a = s.take_actions();
    REQUIRE(get<close_connection>(a, 0));
    CHECK_FALSE(get<close_connection>(a, 0)->will);

    auto s2 = connected({}, protocol_version::v5, c);
    s2.on_packet(mqtt::disconnect{reason::disconnect_with_will_message, {}}, at(1));
    a = s2.take_actions();
    REQUIRE(get<close_connection>(a, 0));
    CHECK(get<close_connection>(a, 0)->will);
}

TEST_CASE("MQTT-3.14.2-2 server_session: DISCONNECT setting an expiry on a 0-expiry session is 0x82") {
    auto s = connected();
    mqtt::disconnect d;
    d.props.set_int(property_id::session_expiry_interval, 30);
    s.on_packet(d, at(1));
    auto a = s.take_actions();
    REQUIRE(sent<mqtt::disconnect>(a, 0));
    CHECK(sent<mqtt::disconnect>(a, 0)->reason_code == reason::protocol_error);
}

TEST_CASE("MQTT-4.3.3-10 server_session: inbound QoS 2 routed once, PUBREC each time, PUBREL frees the id") {
    auto s = connected();
    for (int i = 0; i < 3; ++i) {
        s.on_packet(make_pub("t", qos::exactly_once, 5), at(1));
        auto a = s.take_actions();
        if (i == 0) {
            REQUIRE(a.size() == 2);
            CHECK(get<route_publish>(a, 0));
            REQUIRE(sent<pubrec>(a, 1));
        } else {
            REQUIRE(a.size() == 1);
            REQUIRE(sent<pubrec>(a, 0));
        }
    }
    s.on_packet(mqtt::pubrel{5, reason::success, {}}, at(2));
    auto a = s.take_actions();
    REQUIRE(sent<pubcomp>(a, 0));
    CHECK(sent<pubcomp>(a, 0)->reason_code == reason::success);
    s.on_packet(mqtt::pubrel{5, reason::success, {}}, at(2));
    a = s.take_actions();
    REQUIRE(sent<pubcomp>(a, 0));
    CHECK(sent<pubcomp>(a, 0)->reason_code == reason::packet_identifier_not_found);
}

TEST_CASE("MQTT-3.3.4-9 server_session: more inbound QoS 2 than Receive Maximum is 0x93") {
    server_session_config cfg;
    cfg.receive_maximum = 2;
    auto s = connected(cfg);
    s.on_packet(make_pub("t", qos::exactly_once, 1), at(1));
    s.on_packet(make_pub("t", qos::exactly_once, 2), at(1));
    (void)s.take_actions();
    s.on_packet(make_pub("t", qos::exactly_once, 3), at(1));
    auto a = s.take_actions();
    REQUIRE(sent<mqtt::disconnect>(a, 0));
    CHECK(sent<mqtt::disconnect>(a, 0)->reason_code == reason::receive_maximum_exceeded);
}

TEST_CASE(
    "server_session: outbound window is min(client Receive Maximum, max_inflight); queue drops oldest") {
    server_session_config cfg;
    cfg.max_inflight = 5;
    cfg.max_queued = 2;
    auto c = make_connect(protocol_version::v5);
    c.props.set_int(property_id::receive_maximum, 1);
    auto s = connected(cfg, protocol_version::v5, c);
    for (int i = 1; i <= 4; ++i)
        s.deliver(shared_pub("t", std::to_string(i)), qos::at_least_once, false, {}, at(1));
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);  // window 1
    REQUIRE(get<send_publish>(a, 0));
    const auto id1 = get<send_publish>(a, 0)->packet_id;
    CHECK(s.queued() == 2);
    CHECK(s.dropped() == 1);  // "2" was evicted
    s.on_packet(mqtt::puback{id1, reason::success, {}}, at(2));
    a = s.take_actions();
    REQUIRE(get<send_publish>(a, 0));
    CHECK(std::string(get<send_publish>(a, 0)->msg->payload.begin(),
                      get<send_publish>(a, 0)->msg->payload.end()) == "3");
}

TEST_CASE("MQTT-4.3.3-4 server_session: outbound QoS 2 PUBREC -> PUBREL, PUBCOMP frees the slot") {
    auto s = connected();
    s.deliver(shared_pub("t"), qos::exactly_once, false, {}, at(1));
    auto a = s.take_actions();
    REQUIRE(get<send_publish>(a, 0));
    const auto id = get<send_publish>(a, 0)->packet_id;
    s.on_packet(mqtt::pubrec{id, reason::success, {}}, at(2));
    a = s.take_actions();
    REQUIRE(sent<pubrel>(a, 0));
    CHECK(s.inflight() == 1);
    s.on_packet(mqtt::pubcomp{id, reason::success, {}}, at(3));
    CHECK(s.inflight() == 0);
    // Unknown PUBREC: PUBREL 0x92.
    s.on_packet(mqtt::pubrec{999, reason::success, {}}, at(3));
    a = s.take_actions();
    REQUIRE(sent<pubrel>(a, 0));
    CHECK(sent<pubrel>(a, 0)->reason_code == reason::packet_identifier_not_found);
}

TEST_CASE("MQTT-4.4.0-1 server_session: resume resends in-flight with DUP, then the queue") {
    server_session_config cfg;
    cfg.max_inflight = 1;
    auto s = connected(cfg);
    s.deliver(shared_pub("t", "a"), qos::at_least_once, false, {}, at(1));
    s.deliver(shared_pub("t", "b"), qos::at_least_once, false, {}, at(1));
    auto a = s.take_actions();
    REQUIRE(get<send_publish>(a, 0));
    const auto id = get<send_publish>(a, 0)->packet_id;
    s.on_connection_lost(at(2));
    (void)s.take_actions();

    server_session next(cfg);
    next.on_packet(make_connect(protocol_version::v5, "c", false), at(3));
    (void)next.take_actions();
    next.resume(std::move(s));
    next.accept(true, at(3));
    a = next.take_actions();
    REQUIRE(a.size() == 2);
    REQUIRE(sent<connack>(a, 0));
    CHECK(sent<connack>(a, 0)->session_present);
    REQUIRE(get<send_publish>(a, 1));
    CHECK(get<send_publish>(a, 1)->dup);
    CHECK(get<send_publish>(a, 1)->packet_id == id);
    next.on_packet(mqtt::puback{id, reason::success, {}}, at(4));
    a = next.take_actions();
    REQUIRE(get<send_publish>(a, 0));
    CHECK_FALSE(get<send_publish>(a, 0)->dup);
}

TEST_CASE("MQTT-3.1.2-25 server_session: messages over the client's Maximum Packet Size are skipped") {
    auto c = make_connect(protocol_version::v5);
    c.props.set_int(property_id::maximum_packet_size, 20);
    auto s = connected({}, protocol_version::v5, c);
    CHECK_FALSE(s.deliver(shared_pub("t", std::string(30, 'x')), qos::at_most_once, false, {}, at(1)));
    CHECK(s.deliver(shared_pub("t", "ok"), qos::at_most_once, false, {}, at(1)));
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);
    CHECK(get<send_publish>(a, 0));
}

TEST_CASE("MQTT-3.3.2-8 server_session: Topic Alias 0 is 0x94; alias maps the topic and is removed") {
    auto s = connected();
    auto p = make_pub("a/b", qos::at_most_once);
    p.props.set_int(property_id::topic_alias, 1);
    s.on_packet(p, at(1));
    auto p2 = make_pub("", qos::at_most_once);
    p2.props.set_int(property_id::topic_alias, 1);
    s.on_packet(p2, at(1));
    auto a = s.take_actions();
    REQUIRE(a.size() == 2);
    REQUIRE(get<route_publish>(a, 1));
    CHECK(get<route_publish>(a, 1)->msg->topic == "a/b");
    CHECK_FALSE(get<route_publish>(a, 1)->msg->props.has(property_id::topic_alias));
    auto bad = make_pub("x", qos::at_most_once);
    bad.props.set_int(property_id::topic_alias, 0);
    s.on_packet(bad, at(2));
    a = s.take_actions();
    REQUIRE(sent<mqtt::disconnect>(a, 0));
    CHECK(sent<mqtt::disconnect>(a, 0)->reason_code == reason::topic_alias_invalid);
}

TEST_CASE("server_session: offline sessions queue QoS 1/2 and drop QoS 0") {
    server_session s;
    CHECK_FALSE(s.deliver(shared_pub("t"), qos::at_most_once, false, {}, at(0)));
    CHECK(s.deliver(shared_pub("t"), qos::at_least_once, false, {}, at(0)));
    CHECK(s.queued() == 1);
    CHECK_FALSE(s.has_actions());
}

TEST_CASE("server_session: drops are counted by cause and taken once") {
    server_session_config cfg;
    cfg.max_inflight = 1;
    cfg.max_queued = 1;
    auto s = connected(cfg);
    for (int i = 1; i <= 4; ++i)
        s.deliver(shared_pub("t", std::to_string(i)), qos::at_least_once, false, {}, at(1));
    auto d = s.take_drops();
    CHECK(d.queue_full == 2);  // 1 in flight, 1 queued, "2" and "3" evicted
    CHECK(d.total() == 2);
    CHECK(s.take_drops().total() == 0);
    CHECK(s.dropped() == 2);
}

TEST_CASE("MQTT-3.3.2-5 MQTT-3.3.2-6 server_session: queued message expiry is decremented or the message dropped") {
    server_session_config cfg;
    cfg.max_inflight = 1;
    auto s = connected(cfg);
    auto make = [](std::string payload, std::uint32_t expiry) {
        auto p = make_pub("t", qos::at_least_once, 0, std::move(payload));
        p.props.set_int(property_id::message_expiry_interval, expiry);
        return std::make_shared<const mqtt::publish>(std::move(p));
    };
    s.deliver(make("a", 100), qos::at_least_once, false, {}, at(10));
    s.deliver(make("b", 10), qos::at_least_once, false, {}, at(10));  // queued
    s.deliver(make("c", 3), qos::at_least_once, false, {}, at(10));   // queued, expires at 13
    auto a = s.take_actions();
    REQUIRE(a.size() == 1);
    const auto* first = get<send_publish>(a, 0);
    REQUIRE(first);
    // Sent at once: the full interval is forwarded.
    CHECK(first->msg->props.get_int(property_id::message_expiry_interval) == 100u);
    // Acked 4 s later: "b" goes out with 6 s left, "c" expired on the way.
    s.on_packet(mqtt::puback{first->packet_id, reason::success, {}}, at(14.5));
    a = s.take_actions();
    REQUIRE(a.size() == 1);
    const auto* second = get<send_publish>(a, 0);
    REQUIRE(second);
    CHECK(std::string(second->msg->payload.begin(), second->msg->payload.end()) == "b");
    CHECK(second->msg->props.get_int(property_id::message_expiry_interval) == 6u);
    s.on_packet(mqtt::puback{second->packet_id, reason::success, {}}, at(15));
    CHECK(s.take_actions().empty());
    CHECK(s.queued() == 0);
    CHECK(s.take_drops().expired == 1);
}

TEST_CASE("MQTT-3.3.2-5 server_session: a message already expired on delivery is not sent") {
    auto s = connected();
    auto p = make_pub("t", qos::at_most_once, 0, "old");
    p.props.set_int(property_id::message_expiry_interval, 5);
    auto m = std::make_shared<const mqtt::publish>(std::move(p));
    CHECK_FALSE(s.deliver(m, qos::at_most_once, true, {}, at(20), at(10)));
    CHECK(s.take_actions().empty());
    CHECK(s.take_drops().expired == 1);
    // Received 2 s ago: 3 s left.
    CHECK(s.deliver(m, qos::at_most_once, true, {}, at(20), at(18)));
    auto a = s.take_actions();
    REQUIRE(get<send_publish>(a, 0));
    CHECK(get<send_publish>(a, 0)->msg->props.get_int(property_id::message_expiry_interval) == 3u);
}

TEST_CASE("D09 MQTT-3.3.1-9 server_session: retained on SUBSCRIBE wait in a backlog max_queued does not limit, sent first") {
    server_session_config cfg;
    cfg.max_inflight = 2;
    cfg.max_queued = 3;
    auto s = connected(cfg);
    for (int i = 0; i < 10; ++i) s.deliver_retained(shared_pub("r/" + std::to_string(i)), qos::at_least_once, {}, at(1), {});
    // A live message after the SUBSCRIBE waits behind the retained ones.
    s.deliver(shared_pub("live"), qos::at_least_once, false, {}, at(1));
    CHECK(s.retained_backlog() == 8);
    CHECK(s.queued() == 1);
    CHECK(s.dropped() == 0);  // 10 retained > max_queued 3: none evicted
    std::vector<std::string> order;
    auto drain = [&] {
        for (const auto& a : s.take_actions()) {
            if (const auto* p = std::get_if<send_publish>(&a)) {
                order.push_back(p->msg->topic);
                CHECK(p->retain == (p->msg->topic != "live"));  // [MQTT-3.3.1-8]
                s.on_packet(mqtt::puback{p->packet_id, reason::success, {}}, at(2));
            }
        }
    };
    for (int round = 0; round < 20 && order.size() < 11; ++round) drain();
    REQUIRE(order.size() == 11);
    for (int i = 0; i < 10; ++i) CHECK(order[static_cast<std::size_t>(i)] == "r/" + std::to_string(i));
    CHECK(order[10] == "live");
    CHECK(s.retained_backlog() == 0);
}

TEST_CASE("sec-4.8.2 MQTT-4.8.2-5 take_shared_unfinished: queued and QoS 1 in flight, not QoS 2 in flight") {
    server_session_config cfg;
    cfg.max_inflight = 2;
    auto s = connected(cfg);
    const auto share = std::make_shared<const std::string>("$share/g/t");
    auto q2 = std::make_shared<const mqtt::publish>(make_pub("t", qos::exactly_once, 0, "two"));
    CHECK(s.deliver(q2, qos::exactly_once, false, {}, at(1), std::nullopt, 0, share));     // in flight
    CHECK(s.deliver(shared_pub("t", "one"), qos::at_least_once, false, {}, at(1), std::nullopt, 0, share));
    CHECK(s.deliver(shared_pub("t", "queued"), qos::at_least_once, false, {}, at(1), std::nullopt, 0, share));
    CHECK(s.deliver(shared_pub("t", "mine"), qos::at_least_once, false, {}, at(1)));  // not shared: stays
    (void)s.take_actions();
    const auto back = s.take_shared_unfinished();
    REQUIRE(back.size() == 2);
    CHECK(std::string(back[0].msg->payload.begin(), back[0].msg->payload.end()) == "one");
    CHECK(std::string(back[1].msg->payload.begin(), back[1].msg->payload.end()) == "queued");
    CHECK(back[0].share == share);
    CHECK(s.inflight() == 1);  // the QoS 2 one
    CHECK(s.queued() == 1);    // "mine"
}
