// SPDX-License-Identifier: MIT
// client_session as state-machine tables: rows of (input, now, expected actions)
// with fake time; no sleeps, no sockets.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <mqtt/core/client_session.hpp>

#include "client_session_fixture.hpp"

using namespace mqtt;
using namespace mqtt::core;
using namespace mqtt::core::testing;

TEST_CASE("MQTT-3.2.0-1 CONNECT is sent first and CONNACK completes the connection") {
    client_session s;
    mqtt::connect c = make_connect(protocol_version::v5, 30);
    s.start(c, at(0));
    // The default 256 MiB inbound limit is not advertised.
    check_actions(s.take_actions(), {send_action{c}});
    CHECK_FALSE(s.connected());
    run_table(s, {
        {mqtt::connack{}, 1, {connected_action{mqtt::connack{}}}},
    });
    CHECK(s.connected());
    CHECK(s.keep_alive() == 30);
}

TEST_CASE("MQTT-3.2.2 CONNACK properties set the broker limits") {
    client_session s(client_config{20, 1024});
    s.start(make_connect(protocol_version::v5, 60), at(0));
    (void)s.take_actions();
    mqtt::connack a;
    a.props.set_int(property_id::receive_maximum, 3);
    a.props.set_int(property_id::maximum_packet_size, 64);
    a.props.set_int(property_id::topic_alias_maximum, 5);
    a.props.set_int(property_id::maximum_qos, 1);
    a.props.set_int(property_id::retain_available, 0);
    a.props.set_int(property_id::server_keep_alive, 7);
    a.props.set_string(property_id::assigned_client_identifier, "auto-1");
    s.on_packet(a, at(0));
    check_actions(s.take_actions(), {connected_action{a}});
    CHECK(s.broker().receive_maximum == 3);
    CHECK(s.window() == 3);
    CHECK(s.broker().maximum_packet_size == 64);
    CHECK(s.broker().topic_alias_maximum == 5);
    CHECK(s.keep_alive() == 7);  // MQTT-3.2.2-21 Server Keep Alive wins
    CHECK(s.client_id() == "auto-1");
    CHECK(s.inbound_limits().max_packet_size == 1024);

    std::error_code ec;
    SUBCASE("MQTT-3.2.2-11 QoS above Maximum QoS is refused locally") {
        CHECK(s.publish(make_publish("t", qos::exactly_once), at(1), ec) == 0);
        CHECK(ec == reason::qos_not_supported);
    }
    SUBCASE("MQTT-3.2.2-14 retain is refused when Retain Available is 0") {
        auto m = make_publish("t", qos::at_most_once);
        m.retain = true;
        s.publish(m, at(1), ec);
        CHECK(ec == reason::retain_not_supported);
    }
    SUBCASE("MQTT-3.2.2-15 a packet above the broker Maximum Packet Size is refused") {
        auto m = make_publish("t", qos::at_least_once);
        m.payload.assign(100, 'x');
        CHECK(s.publish(m, at(1), ec) == 0);
        CHECK(ec == reason::packet_too_large);
        CHECK(s.inflight() == 0);
    }
    CHECK(s.take_actions().empty());
}

TEST_CASE("MQTT-3.1.2-24 a lowered Maximum Packet Size is advertised and enforced") {
    SUBCASE("from the config") {
        client_session s(client_config{20, 1000});
        auto c = make_connect(protocol_version::v5, 0);
        s.start(c, at(0));
        c.props.set_int(property_id::maximum_packet_size, 1000);
        check_actions(s.take_actions(), {send_action{c}});
        CHECK(s.inbound_limits().max_packet_size == 1000);
    }
    SUBCASE("from CONNECT properties") {
        client_session s;
        auto c = make_connect(protocol_version::v5, 0);
        c.props.set_int(property_id::maximum_packet_size, 4096);
        s.start(c, at(0));
        check_actions(s.take_actions(), {send_action{c}});
        CHECK(s.inbound_limits().max_packet_size == 4096);
    }
    SUBCASE("not on 3.1.1") {
        client_session s(client_config{20, 1000});
        auto c = make_connect(protocol_version::v311, 0);
        s.start(c, at(0));
        check_actions(s.take_actions(), {send_action{c}});
        CHECK(s.inbound_limits().max_packet_size == 1000);
    }
}

TEST_CASE("MQTT-3.2.0-1 a packet other than CONNACK first is a protocol error") {
    client_session s;
    s.start(make_connect(protocol_version::v5, 60), at(0));
    (void)s.take_actions();
    run_table(s, {
        {mqtt::suback{1, {reason::granted_qos_0}, {}}, 1,
         {send_action{mqtt::disconnect{reason::protocol_error, {}}},
          close_of(close_cause::protocol_violation, reason::protocol_error)}},
    });
    CHECK(s.closed());
}

TEST_CASE("MQTT-3.2.0-2 E03 a second CONNACK is a protocol error") {
    auto s = connected_v5();
    run_table(s, {
        {mqtt::connack{}, 1,
         {send_action{mqtt::disconnect{reason::protocol_error, {}}},
          close_of(close_cause::protocol_violation, reason::protocol_error)}},
    });
}

TEST_CASE("CONNACK with a failure code closes with that reason and no DISCONNECT") {
    client_session s;
    s.start(make_connect(protocol_version::v5, 60), at(0));
    (void)s.take_actions();
    mqtt::connack a{false, reason::not_authorized, {}};
    a.props.set_string(property_id::reason_string, "go away");
    s.on_packet(a, at(1));
    auto acts = s.take_actions();
    check_actions(acts, {close_of(close_cause::connack_refused, reason::not_authorized)});
    CHECK(std::get<close_action>(acts[0]).message.find("go away") != std::string::npos);
}

TEST_CASE("MQTT-3.2.2-4 Session Present after a clean start is a protocol error") {
    client_session s;
    s.start(make_connect(protocol_version::v5, 60), at(0));
    (void)s.take_actions();
    run_table(s, {
        {mqtt::connack{true, reason::success, {}}, 1,
         {send_action{mqtt::disconnect{reason::protocol_error, {}}},
          close_of(close_cause::protocol_violation, reason::protocol_error)}},
    });
}

TEST_CASE("MQTT-3.3.1-4 QoS 0 publish is sent at once without a packet id") {
    auto s = connected_v5();
    std::error_code ec;
    CHECK(s.publish(make_publish("a/b", qos::at_most_once, "hi"), at(1), ec) == 0);
    CHECK_FALSE(ec);
    check_actions(s.take_actions(), {send_action{make_publish("a/b", qos::at_most_once, "hi")}});
    CHECK(s.inflight() == 0);
}

TEST_CASE("MQTT-4.3.2 QoS 1 outgoing completes on PUBACK and E08 ignores unknown PUBACK") {
    auto s = connected_v5();
    std::error_code ec;
    const auto id = s.publish(make_publish("a", qos::at_least_once, "x"), at(1), ec);
    CHECK(id == 1);
    check_actions(s.take_actions(), {send_action{make_publish("a", qos::at_least_once, "x", 1)}});
    run_table(s, {
        {mqtt::puback{99, reason::success, {}}, 2, {}},
        {mqtt::puback{1, reason::no_matching_subscribers, {}}, 3,
         {completed_action{1, reason::no_matching_subscribers, {}}}},
        {mqtt::puback{1, reason::success, {}}, 4, {}},
    });
    CHECK(s.inflight() == 0);
}

TEST_CASE("MQTT-4.3.3 QoS 2 outgoing PUBLISH PUBREC PUBREL PUBCOMP") {
    auto s = connected_v5();
    std::error_code ec;
    CHECK(s.publish(make_publish("a", qos::exactly_once, "x"), at(1), ec) == 1);
    (void)s.take_actions();
    run_table(s, {
        {mqtt::pubcomp{1, reason::success, {}}, 2, {}},  // early PUBCOMP is ignored
        {mqtt::pubrec{1, reason::success, {}}, 2, {send_action{mqtt::pubrel{1, reason::success, {}}}}},
        {mqtt::pubrec{7, reason::success, {}}, 3,
         {send_action{mqtt::pubrel{7, reason::packet_identifier_not_found, {}}}}},
        {mqtt::pubcomp{1, reason::success, {}}, 4, {completed_action{1, reason::success, {}}}},
    });
    CHECK(s.inflight() == 0);
}

TEST_CASE("sec-3.5.2.1 PUBREC 0x10 No matching subscribers is the QoS 2 result once PUBCOMP arrives") {
    auto s = connected_v5();
    std::error_code ec;
    CHECK(s.publish(make_publish("a", qos::exactly_once, "x"), at(1), ec) == 1);
    (void)s.take_actions();
    run_table(s, {
        // Below 0x80: the flow goes on with PUBREL [MQTT-4.3.3-4].
        {mqtt::pubrec{1, reason::no_matching_subscribers, {}}, 2,
         {send_action{mqtt::pubrel{1, reason::success, {}}}}},
        {mqtt::pubcomp{1, reason::success, {}}, 3, {completed_action{1, reason::no_matching_subscribers, {}}}},
    });
    CHECK(s.inflight() == 0);
}

TEST_CASE("MQTT-4.3.3-4 a failing PUBREC completes the QoS 2 publish without PUBREL") {
    auto s = connected_v5();
    std::error_code ec;
    s.publish(make_publish("a", qos::exactly_once), at(1), ec);
    (void)s.take_actions();
    run_table(s, {
        {mqtt::pubrec{1, reason::quota_exceeded, {}}, 2,
         {completed_action{1, reason::quota_exceeded, {}}}},
    });
    CHECK(s.inflight() == 0);
}

TEST_CASE("MQTT-3.3.4-7 the window is min of max_inflight and the broker Receive Maximum") {
    auto s = connected_v5(client_config{3, 1u << 20}, 2);
    CHECK(s.window() == 2);
    std::error_code ec;
    CHECK(s.can_publish(qos::at_least_once));
    CHECK(s.publish(make_publish("a", qos::at_least_once), at(1), ec) == 1);
    CHECK(s.publish(make_publish("a", qos::exactly_once), at(1), ec) == 2);
    CHECK_FALSE(s.can_publish(qos::at_least_once));
    CHECK(s.can_publish(qos::at_most_once));
    CHECK(s.publish(make_publish("a", qos::at_least_once), at(1), ec) == 0);
    CHECK(ec == reason::receive_maximum_exceeded);
    (void)s.take_actions();
    s.on_packet(mqtt::puback{1, reason::success, {}}, at(2));
    CHECK(s.can_publish(qos::at_least_once));
    CHECK(s.publish(make_publish("a", qos::at_least_once), at(3), ec) == 3);

    auto big = connected_v5(client_config{100, 1u << 20}, 10);
    CHECK(big.window() == 10);
}

TEST_CASE("MQTT-4.4.0-1 MQTT-3.3.1-1 unacknowledged messages are resent with DUP on resume") {
    client_config cfg;
    client_session s(cfg);
    auto c = make_connect(protocol_version::v5, 60);
    c.clean_start = false;
    s.start(c, at(0));
    s.on_packet(mqtt::connack{}, at(0));
    std::error_code ec;
    s.publish(make_publish("q1", qos::at_least_once, "a"), at(1), ec);  // id 1
    s.publish(make_publish("q2", qos::exactly_once, "b"), at(1), ec);   // id 2
    s.publish(make_publish("q2b", qos::exactly_once, "c"), at(1), ec);  // id 3
    s.on_packet(mqtt::pubrec{2, reason::success, {}}, at(2));
    (void)s.take_actions();
    s.on_connection_lost();
    CHECK(s.inflight() == 3);

    s.start(c, at(10));
    (void)s.take_actions();
    auto dup1 = make_publish("q1", qos::at_least_once, "a", 1);
    dup1.dup = true;
    auto dup3 = make_publish("q2b", qos::exactly_once, "c", 3);
    dup3.dup = true;
    run_table(s, {
        {mqtt::connack{true, reason::success, {}}, 11,
         {connected_action{mqtt::connack{true, reason::success, {}}}, send_action{dup1},
          send_action{mqtt::pubrel{2, reason::success, {}}}, send_action{dup3}}},
        {mqtt::pubcomp{2, reason::success, {}}, 12, {completed_action{2, reason::success, {}}}},
        {mqtt::puback{1, reason::success, {}}, 12, {completed_action{1, reason::success, {}}}},
    });
}

TEST_CASE("MQTT-3.2.2-5 without a session on the broker unacked messages are sent as new") {
    client_session s;
    auto c = make_connect(protocol_version::v311, 60);
    c.clean_start = false;
    s.start(c, at(0));
    s.on_packet(mqtt::connack{}, at(0));
    std::error_code ec;
    s.publish(make_publish("q1", qos::at_least_once, "a"), at(1), ec);  // id 1
    s.publish(make_publish("q2", qos::exactly_once, "b"), at(1), ec);   // id 2
    s.on_packet(mqtt::pubrec{2, reason::success, {}}, at(2));
    (void)s.take_actions();
    s.on_connection_lost();
    s.start(c, at(10));
    (void)s.take_actions();
    run_table(s, {
        {mqtt::connack{false, reason::success, {}}, 11,
         {connected_action{mqtt::connack{}},
          send_action{make_publish("q1", qos::at_least_once, "a", 1)},
          completed_action{2, reason::success, {}}}},
    });
    CHECK(s.inflight() == 1);
}

TEST_CASE("MQTT-4.3.2 inbound QoS 0 and 1 are delivered and QoS 1 acknowledged") {
    auto s = connected_v5();
    run_table(s, {
        {make_publish("x", qos::at_most_once, "0"), 1,
         {deliver_action{make_publish("x", qos::at_most_once, "0")}}},
        {make_publish("x", qos::at_least_once, "1", 5), 2,
         {deliver_action{make_publish("x", qos::at_least_once, "1", 5)},
          send_action{mqtt::puback{5, reason::success, {}}}}},
    });
}

TEST_CASE("MQTT-4.3.3-10 inbound QoS 2 is delivered once and PUBREL for an unknown id gets PUBCOMP 0x92") {
    auto s = connected_v5();
    auto m = make_publish("x", qos::exactly_once, "2", 9);
    auto dup = m;
    dup.dup = true;
    run_table(s, {
        {m, 1, {deliver_action{m}, send_action{mqtt::pubrec{9, reason::success, {}}}}},
        {dup, 2, {send_action{mqtt::pubrec{9, reason::success, {}}}}},
        {mqtt::pubrel{9, reason::success, {}}, 3, {send_action{mqtt::pubcomp{9, reason::success, {}}}}},
        {mqtt::pubrel{9, reason::success, {}}, 4,
         {send_action{mqtt::pubcomp{9, reason::packet_identifier_not_found, {}}}}},
        {m, 5, {deliver_action{m}, send_action{mqtt::pubrec{9, reason::success, {}}}}},
    });
}

TEST_CASE("MQTT-3.3.4-9 E07 more inbound QoS 2 than our Receive Maximum is 0x93") {
    client_session s;
    auto c = make_connect(protocol_version::v5, 60);
    c.props.set_int(property_id::receive_maximum, 2);
    s.start(c, at(0));
    s.on_packet(mqtt::connack{}, at(0));
    (void)s.take_actions();
    auto m1 = make_publish("x", qos::exactly_once, "", 1);
    auto m2 = make_publish("x", qos::exactly_once, "", 2);
    auto m3 = make_publish("x", qos::exactly_once, "", 3);
    run_table(s, {
        {m1, 1, {deliver_action{m1}, send_action{mqtt::pubrec{1, reason::success, {}}}}},
        {m2, 1, {deliver_action{m2}, send_action{mqtt::pubrec{2, reason::success, {}}}}},
        {m3, 1,
         {send_action{mqtt::disconnect{reason::receive_maximum_exceeded, {}}},
          close_of(close_cause::protocol_violation, reason::receive_maximum_exceeded)}},
    });
}

TEST_CASE("MQTT-3.3.2-11 E05 inbound topic aliases set use above maximum and unknown") {
    client_session s;
    auto c = make_connect(protocol_version::v5, 60);
    c.props.set_int(property_id::topic_alias_maximum, 2);
    s.start(c, at(0));
    s.on_packet(mqtt::connack{}, at(0));
    (void)s.take_actions();
    auto set = make_publish("long/topic", qos::at_most_once, "a");
    set.props.set_int(property_id::topic_alias, 1);
    auto use = make_publish("", qos::at_most_once, "b");
    use.props.set_int(property_id::topic_alias, 1);
    auto resolved = use;
    resolved.topic = "long/topic";

    SUBCASE("set and use") {
        run_table(s, {
            {set, 1, {deliver_action{set}}},
            {use, 2, {deliver_action{resolved}}},
        });
    }
    SUBCASE("alias above our maximum is 0x94") {
        auto over = make_publish("t", qos::at_most_once);
        over.props.set_int(property_id::topic_alias, 3);
        run_table(s, {
            {over, 1,
             {send_action{mqtt::disconnect{reason::topic_alias_invalid, {}}},
              close_of(close_cause::protocol_violation, reason::topic_alias_invalid)}},
        });
    }
    SUBCASE("unknown alias is 0x82") {
        auto unknown = make_publish("", qos::at_most_once);
        unknown.props.set_int(property_id::topic_alias, 2);
        run_table(s, {
            {unknown, 1,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
    }
    SUBCASE("MQTT-3.3.2-7 aliases do not survive a reconnect") {
        run_table(s, {{set, 1, {deliver_action{set}}}});
        s.on_connection_lost();
        s.start(c, at(5));
        s.on_packet(mqtt::connack{}, at(5));
        (void)s.take_actions();
        run_table(s, {
            {use, 6,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
    }
}

TEST_CASE("E05 any topic alias is 0x94 when our Topic Alias Maximum is 0") {
    auto s = connected_v5();
    auto m = make_publish("t", qos::at_most_once);
    m.props.set_int(property_id::topic_alias, 1);
    run_table(s, {
        {m, 1,
         {send_action{mqtt::disconnect{reason::topic_alias_invalid, {}}},
          close_of(close_cause::protocol_violation, reason::topic_alias_invalid)}},
    });
}

TEST_CASE("MQTT-3.3.2-2 a PUBLISH topic with a wildcard from the broker is 0x90") {
    auto s = connected_v5();
    run_table(s, {
        {make_publish("a/+", qos::at_most_once), 1,
         {send_action{mqtt::disconnect{reason::topic_name_invalid, {}}},
          close_of(close_cause::protocol_violation, reason::topic_name_invalid)}},
    });
}
