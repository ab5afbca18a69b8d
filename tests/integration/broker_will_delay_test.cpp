// SPDX-License-Identifier: MIT
// v5 Will Delay Interval on the wire [MQTT-3.1.3-9]: the broker waits the
// delay (capped by the session expiry) before publishing the Will, drops it
// when the client resumes its session in time, and publishes it at once when
// a clean start ends that session.
#include <doctest/doctest.h>

#include <chrono>

#include "broker_fixture.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::property_id;
using mqtt::reason;

namespace {

// A v5 client with a Will on will/<id> delayed by `delay_s`, session expiry `expiry_s`.
std::unique_ptr<raw_client> delayed_will_client(broker_fixture& b, const std::string& id, std::uint32_t delay_s,
                                                std::uint32_t expiry_s, bool clean_start = true) {
    auto c = std::make_unique<raw_client>(b.port(), protocol_version::v5);
    mqtt::connect conn;
    conn.client_id = id;
    conn.clean_start = clean_start;
    conn.props.set_int(property_id::session_expiry_interval, expiry_s);
    mqtt::properties will_props;
    will_props.set_int(property_id::will_delay_interval, delay_s);
    conn.will_msg = mqtt::will{"will/" + id, {'x'}, mqtt::qos::at_most_once, false, will_props};
    auto ack = c->connect(conn);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == reason::success);
    return c;
}

}  // namespace

TEST_CASE("MQTT-3.1.3-9 the Will waits out its delay, then is published without the delay property") {
    broker_fixture b;
    auto sub = b.client("wd-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    auto c = delayed_will_client(b, "late", 1, 60);
    const auto dropped = std::chrono::steady_clock::now();
    c->close();
    CHECK(sub->silent_for(600ms));  // still inside the 1 s delay
    auto w = as<mqtt::publish>(sub->receive(3000ms));
    REQUIRE(w);
    CHECK(w->topic == "will/late");
    CHECK(std::chrono::steady_clock::now() - dropped >= 900ms);
    CHECK_FALSE(w->props.get_int(property_id::will_delay_interval).has_value());
}

TEST_CASE("MQTT-3.1.3-9 resuming the session within the delay means the Will is never sent") {
    broker_fixture b;
    auto sub = b.client("wd-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    auto c = delayed_will_client(b, "back", 1, 60);
    c->close();
    auto again = delayed_will_client(b, "back", 1, 60, /*clean_start=*/false);
    CHECK(sub->silent_for(1800ms));
    // The new connection's own Will is armed as usual: DISCONNECT 0x04 sends it (after its delay).
    again->send_hex("e0 01 04");
    auto w = as<mqtt::publish>(sub->receive(3000ms));
    REQUIRE(w);
    CHECK(w->topic == "will/back");
}

TEST_CASE("MQTT-3.1.3-9 a clean start ends the old session: its delayed Will goes out at once") {
    broker_fixture b;
    auto sub = b.client("wd-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    auto c = delayed_will_client(b, "fresh", 30, 60);
    c->close();
    CHECK(sub->silent_for(300ms));
    auto again = delayed_will_client(b, "fresh", 30, 60, /*clean_start=*/true);
    auto w = as<mqtt::publish>(sub->receive(1000ms));
    REQUIRE(w);
    CHECK(w->topic == "will/fresh");
}

TEST_CASE("MQTT-3.1.3-9 the session ending first (expiry 0) publishes the Will at once despite the delay") {
    broker_fixture b;
    auto sub = b.client("wd-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    auto c = delayed_will_client(b, "short", 30, 0);
    c->close();
    auto w = as<mqtt::publish>(sub->receive(1000ms));
    REQUIRE(w);
    CHECK(w->topic == "will/short");
}

// Takeover: the old connection is still open when the new CONNECT arrives
// (with several workers that is also what a quick reconnect can look like).
TEST_CASE("MQTT-3.1.3-9 MQTT-3.1.4-3 a takeover that resumes the session within the delay never sends the old Will") {
    broker_fixture b;
    auto sub = b.client("wd-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    auto old = delayed_will_client(b, "taken", 1, 60);
    auto again = delayed_will_client(b, "taken", 1, 60, /*clean_start=*/false);
    auto d = as<mqtt::disconnect>(old->receive(1000ms));
    REQUIRE(d);
    CHECK(d->reason_code == reason::session_taken_over);
    CHECK(sub->silent_for(1800ms));
}

TEST_CASE("MQTT-3.1.3-9 MQTT-3.1.4-3 a clean-start takeover ends the session: the old delayed Will goes out at once") {
    broker_fixture b;
    auto sub = b.client("wd-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("will/#", mqtt::qos::at_most_once));
    auto old = delayed_will_client(b, "taken2", 30, 60);
    auto again = delayed_will_client(b, "taken2", 30, 60, /*clean_start=*/true);
    auto w = as<mqtt::publish>(sub->receive(1000ms));
    REQUIRE(w);
    CHECK(w->topic == "will/taken2");
}
