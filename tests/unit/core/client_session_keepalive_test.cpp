// SPDX-License-Identifier: MIT
// client_session tables: SUBACK/UNSUBACK validation, unexpected packets, broker
// DISCONNECT, keepalive with fake time, malformed input.
#include <doctest/doctest.h>

#include <string>

#include <mqtt/codec/reason.hpp>
#include <mqtt/core/client_session.hpp>
#include <mqtt/core/packet_id_pool.hpp>

#include "client_session_fixture.hpp"

using namespace mqtt;
using namespace mqtt::core;
using namespace mqtt::core::testing;

namespace {

mqtt::subscribe two_filters() {
    mqtt::subscribe s;
    s.entries.push_back({"a/#", qos::at_least_once});
    s.entries.push_back({"b", qos::exactly_once});
    return s;
}

}  // namespace

TEST_CASE("MQTT-3.9.3-1 SUBACK with one code per filter is reported") {
    auto s = connected_v5();
    std::error_code ec;
    const auto id = s.subscribe(two_filters(), at(1), ec);
    REQUIRE(id == 1);
    auto sent = two_filters();
    sent.packet_id = 1;
    check_actions(s.take_actions(), {send_action{sent}});
    mqtt::suback ack{1, {reason::granted_qos_1, reason::not_authorized}, {}};
    run_table(s, {{ack, 2, {suback_action{ack}}}});
}

TEST_CASE("MQTT-3.9.3-1 E01 SUBACK with zero or too few reason codes is a protocol error") {
    for (std::size_t n : {0u, 1u, 3u}) {
        CAPTURE(n);
        auto s = connected_v5();
        std::error_code ec;
        s.subscribe(two_filters(), at(1), ec);
        (void)s.take_actions();
        mqtt::suback ack{1, std::vector<reason>(n, reason::granted_qos_0), {}};
        run_table(s, {
            {ack, 2,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
    }
}

TEST_CASE("E02 SUBACK with an undefined code and SUBACK for an unknown id are protocol errors") {
    auto s = connected_v5();
    std::error_code ec;
    mqtt::subscribe one;
    one.entries.push_back({"a", qos::at_most_once});
    s.subscribe(one, at(1), ec);
    (void)s.take_actions();
    SUBCASE("code 0x03") {
        run_table(s, {
            {mqtt::suback{1, {static_cast<reason>(0x03)}, {}}, 2,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
    }
    SUBCASE("unknown id") {
        run_table(s, {
            {mqtt::suback{42, {reason::granted_qos_0}, {}}, 2,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
    }
}

TEST_CASE("MQTT-3.11.3-1 UNSUBACK needs one code per filter on v5") {
    auto s = connected_v5();
    std::error_code ec;
    mqtt::unsubscribe u;
    u.filters = {"a", "b"};
    REQUIRE(s.unsubscribe(u, at(1), ec) == 1);
    (void)s.take_actions();
    SUBCASE("matching count") {
        mqtt::unsuback ack{1, {reason::success, reason::no_subscription_existed}, {}};
        run_table(s, {{ack, 2, {unsuback_action{ack}}}});
    }
    SUBCASE("short") {
        run_table(s, {
            {mqtt::unsuback{1, {reason::success}, {}}, 2,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
    }
}

TEST_CASE("MQTT-3.10.3-2 empty SUBSCRIBE and UNSUBSCRIBE are refused locally") {
    auto s = connected_v5();
    std::error_code ec;
    CHECK(s.subscribe(mqtt::subscribe{}, at(1), ec) == 0);
    CHECK(ec);
    CHECK(s.unsubscribe(mqtt::unsubscribe{}, at(1), ec) == 0);
    CHECK(ec);
    CHECK(s.take_actions().empty());
}

TEST_CASE("A13 packets a server never sends are protocol errors") {
    const std::vector<mqtt::packet> bad = {mqtt::connect{}, mqtt::subscribe{1, {{"a"}}, {}},
                                           mqtt::unsubscribe{1, {"a"}, {}}, mqtt::pingreq{},
                                           mqtt::auth{}};
    for (const auto& p : bad) {
        CAPTURE(to_string(type_of(p)));
        auto s = connected_v5();
        run_table(s, {
            {p, 1,
             {send_action{mqtt::disconnect{reason::protocol_error, {}}},
              close_of(close_cause::protocol_violation, reason::protocol_error)}},
        });
        CHECK(s.closed());
    }
}

TEST_CASE("3.1.1 protocol errors close without DISCONNECT") {
    client_session s;
    s.start(make_connect(protocol_version::v311, 60), at(0));
    s.on_packet(mqtt::connack{}, at(0));
    (void)s.take_actions();
    run_table(s, {
        {mqtt::pingreq{}, 1, {close_of(close_cause::protocol_violation, reason::protocol_error)}},
        {mqtt::pingresp{}, 2, {}},  // closed: nothing more happens
    });
}

TEST_CASE("E09 broker DISCONNECT surfaces its reason code and Reason String") {
    auto s = connected_v5();
    mqtt::disconnect d{reason::server_shutting_down, {}};
    d.props.set_string(property_id::reason_string, "maintenance");
    s.on_packet(d, at(1));
    auto acts = s.take_actions();
    check_actions(acts, {close_of(close_cause::server_disconnect, reason::server_shutting_down)});
    const auto& c = std::get<close_action>(acts.at(0));
    CHECK(c.message.find("0x8B") != std::string::npos);
    CHECK(c.message.find("maintenance") != std::string::npos);
    CHECK(c.props.get_string(property_id::reason_string) != nullptr);
    CHECK(c.ec == reason::server_shutting_down);
}

TEST_CASE("MQTT-3.1.2-20 keepalive sends PINGREQ and closes after 1.5x silence") {
    auto s = connected_v5({}, 0, 10);
    CHECK(s.next_deadline() == at(10));
    run_table(s, {
        {std::nullopt, 9.9, {}},
        {std::nullopt, 10, {send_action{mqtt::pingreq{}}}},
        {mqtt::pingresp{}, 10.5, {}},
        {std::nullopt, 19.9, {}},
        {std::nullopt, 20, {send_action{mqtt::pingreq{}}}},
        // no PINGRESP: 1.5 x 10 s after the last packet from the broker (10.5 s)
        {std::nullopt, 25.4, {}},
        {std::nullopt, 25.5, {close_of(close_cause::keepalive_timeout, reason::keep_alive_timeout)}},
        {std::nullopt, 40, {}},
    });
    CHECK(s.closed());
    CHECK_FALSE(s.next_deadline());
}

TEST_CASE("keepalive probes a silent broker even while we publish constantly") {
    auto s = connected_v5({}, 0, 10);
    std::error_code ec;
    for (int t = 1; t <= 12; ++t) {
        s.publish(make_publish("t", qos::at_most_once), at(t), ec);
        (void)s.take_actions();
        if (t == 10) {
            // nothing received for 10 s although we sent every second
            s.on_tick(at(t));
            check_actions(s.take_actions(), {send_action{mqtt::pingreq{}}});
        }
    }
    run_table(s, {
        {mqtt::pingresp{}, 12, {}},
        {std::nullopt, 12.5, {}},
    });
    CHECK_FALSE(s.closed());
}

TEST_CASE("keepalive of 1 s times out after 1.5 s and not after 1 s") {
    auto s = connected_v5({}, 0, 1);
    run_table(s, {
        {std::nullopt, 1, {send_action{mqtt::pingreq{}}}},
        {std::nullopt, 1.4, {}},
        {std::nullopt, 1.5, {close_of(close_cause::keepalive_timeout, reason::keep_alive_timeout)}},
    });
}

TEST_CASE("keepalive 0 disables PINGREQ and the silence deadline") {
    auto s = connected_v5({}, 0, 0);
    CHECK_FALSE(s.next_deadline());
    run_table(s, {{std::nullopt, 100000, {}}});
}

TEST_CASE("paused reading suspends the silence deadline but keeps PINGREQ going") {
    auto s = connected_v5({}, 0, 10);
    s.set_reading_paused(true, at(1));
    run_table(s, {
        {std::nullopt, 10, {send_action{mqtt::pingreq{}}}},
        {std::nullopt, 20, {send_action{mqtt::pingreq{}}}},
        {std::nullopt, 30, {send_action{mqtt::pingreq{}}}},
    });
    s.set_reading_paused(false, at(31));
    run_table(s, {
        {std::nullopt, 46, {close_of(close_cause::keepalive_timeout, reason::keep_alive_timeout)}},
    });
}

TEST_CASE("E06 malformed input from the broker sends DISCONNECT with its reason") {
    auto s = connected_v5();
    s.on_malformed(make_error_code(codec_error::packet_too_large), at(1));
    auto acts = s.take_actions();
    check_actions(acts, {send_action{mqtt::disconnect{reason::packet_too_large, {}}},
                         close_of(close_cause::malformed, reason::packet_too_large)});
    CHECK(std::get<close_action>(acts.at(1)).ec == codec_error::packet_too_large);
}

TEST_CASE("disconnect queues DISCONNECT and closes") {
    auto s = connected_v5();
    s.disconnect(mqtt::disconnect{}, at(1));
    check_actions(s.take_actions(), {send_action{mqtt::disconnect{}},
                                     close_of(close_cause::client_disconnect, reason::success)});
    std::error_code ec;
    CHECK(s.publish(make_publish("t", qos::at_most_once), at(2), ec) == 0);
    CHECK(ec == reason::protocol_error);
}

TEST_CASE("MQTT-2.2.1-3 packet id pool hands out non-zero unused ids until exhausted") {
    packet_id_pool pool;
    for (std::uint32_t i = 1; i <= 65'535u; ++i) {
        auto id = pool.allocate();
        REQUIRE(id);
        REQUIRE(*id == i);
    }
    CHECK_FALSE(pool.allocate());
    pool.release(300);
    CHECK(pool.allocate() == std::optional<std::uint16_t>(300));
    pool.release(0);
    CHECK(pool.used() == 65'535u);
    pool.clear();
    CHECK(pool.used() == 0);
    CHECK(pool.reserve(7));
    CHECK_FALSE(pool.reserve(7));
    CHECK_FALSE(pool.reserve(0));
    CHECK(pool.in_use(7));
}

TEST_CASE("MQTT-2.2.1-3 ids are not reused before the others wrap around") {
    packet_id_pool pool;
    auto a = pool.allocate();
    pool.release(*a);
    auto b = pool.allocate();
    CHECK(*b != *a);
}

TEST_CASE("packet id exhaustion blocks QoS 1 publishes in the session") {
    auto s = connected_v5(client_config{65'535, 1u << 20});
    std::error_code ec;
    for (int i = 0; i < 65'535; ++i) {
        REQUIRE(s.publish(make_publish("t", qos::at_least_once), at(1), ec) != 0);
    }
    CHECK_FALSE(s.can_publish(qos::at_least_once));
    CHECK(s.publish(make_publish("t", qos::at_least_once), at(1), ec) == 0);
    CHECK(ec);
}
