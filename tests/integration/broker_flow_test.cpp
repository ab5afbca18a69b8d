// SPDX-License-Identifier: MIT
// Broker flow control: a QoS 1 burst to a live subscriber is delivered whole
// and in order; drops (queue policy) are counted by cause; Message Expiry on
// retained messages.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;

TEST_CASE("QoS 1 burst of 3000 to a live acknowledging subscriber is delivered whole and in order") {
    broker_fixture b;
    auto sub = b.client("fast-sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("big/#", qos::at_least_once));
    auto pub = b.client("fast-pub");
    REQUIRE(b.ok);
    constexpr int total = 3000;
    // The publisher keeps up to the broker's Receive Maximum (100) in flight,
    // three times the outbound window: without back-pressure the queue overflows.
    std::atomic<bool> pub_ok{true};
    std::thread publisher([&] {
        int acked = 0;
        for (int i = 1; i <= total; ++i) {
            const auto id = static_cast<std::uint16_t>((i - 1) % 60000 + 1);
            pub->send(make_publish("big/x", std::to_string(i), qos::at_least_once, id));
            if (i - acked >= 100) {
                if (!as<mqtt::puback>(pub->receive(5000ms))) {
                    pub_ok = false;
                    return;
                }
                ++acked;
            }
        }
        while (acked < total) {
            if (!as<mqtt::puback>(pub->receive(5000ms))) {
                pub_ok = false;
                return;
            }
            ++acked;
        }
    });
    int next = 1;
    bool in_order = true;
    for (; next <= total; ++next) {
        auto m = as<mqtt::publish>(sub->receive(5000ms));
        if (!m) break;
        if (payload_of(*m) != std::to_string(next)) {
            in_order = false;
            break;
        }
        sub->send(mqtt::puback{m->packet_id, reason::success, {}});
    }
    publisher.join();
    CHECK(pub_ok);
    CHECK(in_order);
    CHECK(next == total + 1);
    const auto st = b.server().stats();
    CHECK(st.messages_dropped == 0);
    CHECK(st.messages_received == static_cast<std::uint64_t>(total));
}

TEST_CASE("a subscriber that stops acknowledging gets drop-oldest, counted by cause") {
    broker_fixture b([](mqtt::net::broker_limits& l) {
        l.max_inflight = 2;
        l.max_queued = 5;
    });
    auto sub = b.client("stuck");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("s", qos::at_least_once));
    auto pub = b.client("p");
    REQUIRE(b.ok);
    for (std::uint16_t i = 1; i <= 20; ++i) {
        pub->send(make_publish("s", std::to_string(i), qos::at_least_once, i));
        REQUIRE(as<mqtt::puback>(pub->receive()));
    }
    // 2 in flight, the newest 5 queued, 13 evicted.
    const auto st = b.server().stats();
    CHECK(st.dropped_queue_full == 13);
    CHECK(st.messages_dropped == 13);
    auto m1 = as<mqtt::publish>(sub->receive());
    auto m2 = as<mqtt::publish>(sub->receive());
    REQUIRE(m1);
    REQUIRE(m2);
    sub->send(mqtt::puback{m1->packet_id, reason::success, {}});
    auto m3 = as<mqtt::publish>(sub->receive());
    REQUIRE(m3);
    CHECK(payload_of(*m3) == "16");  // oldest queued survivor
}

TEST_CASE("MQTT-3.3.2-5 an expired retained message is not sent to a new subscriber") {
    broker_fixture b;
    auto pub = b.client("p");
    REQUIRE(b.ok);
    auto keep = make_publish("r/long", "stays", qos::at_least_once, 1, true);
    keep.props.set_int(mqtt::property_id::message_expiry_interval, 100);
    auto gone = make_publish("r/short", "goes", qos::at_least_once, 2, true);
    gone.props.set_int(mqtt::property_id::message_expiry_interval, 1);
    pub->send(keep);
    REQUIRE(as<mqtt::puback>(pub->receive()));
    pub->send(gone);
    REQUIRE(as<mqtt::puback>(pub->receive()));
    std::this_thread::sleep_for(1100ms);
    auto sub = b.client("late");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("r/#", qos::at_least_once));
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "stays");
    // [MQTT-3.3.2-6] the forwarded interval is the time left.
    const auto left = m->props.get_int(mqtt::property_id::message_expiry_interval);
    REQUIRE(left);
    CHECK(*left >= 98u);
    CHECK(*left <= 99u);
    CHECK(sub->silent_for(300ms));
}
