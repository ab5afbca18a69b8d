// SPDX-License-Identifier: MIT
// --max-queued-bytes (hardening.md §1.1): a subscriber that neither reads nor
// acknowledges is sent large QoS 1 messages; its queue holds at most the byte
// limit (drop-oldest, counted as queue_full) while a subscriber that keeps up
// gets every message.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::qos;
using std::chrono::steady_clock;

TEST_CASE(
    "max_queued_bytes bounds a stalled subscriber's queue of large messages; drops counted, others "
    "unaffected") {
    constexpr std::uint64_t limit = 1024 * 1024;
    constexpr std::size_t size = 64 * 1024;
    constexpr std::size_t total = 200;  // 12.5 MiB: well below max_queued, far above the byte limit
    broker_fixture b([](mqtt::net::broker_limits& l) {
        l.max_queued = 100'000;  // the count limit never bites here
        l.max_queued_bytes = limit;
        l.max_packet_size = 1024 * 1024;
    });
    raw_client slow(b.port());  // subscribes, then never reads again
    REQUIRE(slow.connect("slow"));
    REQUIRE(slow.subscribe("big", qos::at_least_once));
    raw_client healthy(b.port());
    REQUIRE(healthy.connect("healthy"));
    REQUIRE(healthy.subscribe("big", qos::at_least_once));
    std::atomic<std::size_t> got{0};
    std::atomic<bool> sizes_ok{true};
    std::thread reader([&] {
        const auto deadline = steady_clock::now() + std::chrono::seconds(60);
        while (got < total && steady_clock::now() < deadline) {
            auto p = as<mqtt::publish>(healthy.receive(std::chrono::milliseconds(500)));
            if (!p) continue;
            if (p->payload.size() != size) sizes_ok = false;
            healthy.send(mqtt::puback{p->packet_id, mqtt::reason::success, {}});
            ++got;
        }
    });
    auto pub = b.client("pub");
    REQUIRE(b.ok);
    const std::string payload(size, 'x');
    std::size_t acked = 0;
    for (std::size_t i = 0; i < total; ++i) {  // a window of 8 in flight
        pub->send(make_publish("big", payload, qos::at_least_once, static_cast<std::uint16_t>(i + 1)));
        if (i >= 8) {
            REQUIRE(as<mqtt::puback>(pub->receive(std::chrono::milliseconds(10'000))));
            ++acked;
        }
    }
    while (acked < total) {
        REQUIRE(as<mqtt::puback>(pub->receive(std::chrono::milliseconds(10'000))));
        ++acked;
    }
    reader.join();
    CHECK(got == total);
    CHECK(sizes_ok);
    // The stalled subscriber holds at most its in-flight window (32) plus what
    // fits in 1 MiB (15 messages of 64 KiB + topic): the rest was dropped.
    const auto st = b.server().stats();
    const std::size_t kept_at_most = 32 + limit / (size + 3);
    INFO("queue-full drops ", st.dropped_queue_full);
    CHECK(st.dropped_queue_full >= total - kept_at_most);
    CHECK(st.dropped_queue_full <= total);
    CHECK(st.messages_dropped == st.dropped_queue_full);
}
