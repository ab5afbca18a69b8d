// SPDX-License-Identifier: MIT
// `mq broker --workers N`: connections spread over N threads still get every
// message exactly once and in order, and the broker stops cleanly.
#include <doctest/doctest.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {

std::string numbered_lines(const std::string& prefix, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += prefix + std::to_string(i) + "\n";
    return out;
}

}  // namespace

TEST_CASE("e2e broker --workers 4: QoS 1 and 2 reach subscribers on every worker once each, in order") {
    e2e_broker broker({"--workers", "4"});
    if (broker.kind() != "mq") return;  // MQ_E2E_BROKER=mosquitto: nothing to test
    // Accepted sockets go round-robin: four subscribers (and the sync
    // publishers between them) land on different workers.
    std::vector<std::unique_ptr<process>> subs;
    for (int i = 0; i < 4; ++i) {
        subs.push_back(std::make_unique<process>(
            mq_cmd({"sub", "-p", broker.port_text(), "-t", "w/#", "-q", "2", "-i", "w-sub-" + std::to_string(i)})));
        REQUIRE(wait_subscribed(*subs.back(), broker, "w/sync"));
    }
    const auto q1 = run_mq({"pub", "-p", broker.port_text(), "-t", "w/data", "-q", "1", "-l"}, numbered_lines("a", 2000),
                           30s);
    CHECK(q1.exit_code == 0);
    const auto q2 = run_mq({"pub", "-p", broker.port_text(), "-t", "w/data", "-q", "2", "-l"}, numbered_lines("b", 500),
                           30s);
    CHECK(q2.exit_code == 0);
    std::vector<std::string> expected;
    for (int i = 0; i < 2000; ++i) expected.push_back("a" + std::to_string(i));
    for (int i = 0; i < 500; ++i) expected.push_back("b" + std::to_string(i));
    for (std::size_t i = 0; i < subs.size(); ++i) {
        CAPTURE(i);
        const auto got = read_data_lines(*subs[i], expected.size(), "sync", 30s);
        CHECK(got.size() == expected.size());
        CHECK(got == expected);  // none lost, none twice, publisher order kept [MQTT-4.6.0-6]
        // Nothing more arrives (no duplicate after the last one).
        CHECK_FALSE(subs[i]->read_line(300ms).has_value());
        subs[i]->signal(SIGTERM);
        CHECK(subs[i]->wait(10s).exit_code == 0);
    }
    CHECK(broker.terminate() == 0);  // SIGTERM: every worker drains and joins
}

TEST_CASE("e2e broker --workers 3: a client id taken over from another worker") {
    e2e_broker broker({"--workers", "3"});
    if (broker.kind() != "mq") return;
    // The first holder of the id, then two other connections, so the taker
    // is on a different worker than the holder.
    process first(mq_cmd({"sub", "-p", broker.port_text(), "-t", "t/#", "-i", "same-id", "-V", "5"}));
    REQUIRE(wait_subscribed(first, broker, "t/sync"));
    process second(mq_cmd({"sub", "-p", broker.port_text(), "-t", "t/#", "-i", "same-id", "-V", "5"}));
    REQUIRE(wait_subscribed(second, broker, "t/sync"));
    // [MQTT-3.1.4-3] the old connection got DISCONNECT 0x8E and is gone.
    const auto r = first.wait(10s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("taken over") != std::string::npos);
    CHECK(run_mq({"pub", "-p", broker.port_text(), "-t", "t/x", "-m", "after"}).exit_code == 0);
    bool seen = false;
    for (int i = 0; i < 50 && !seen; ++i)
        if (auto line = second.read_line(100ms)) seen = *line == "after";
    CHECK(seen);
    second.signal(SIGTERM);
    CHECK(second.wait(10s).exit_code == 0);
    CHECK(broker.terminate() == 0);
}

TEST_CASE("e2e broker --workers 0 is a usage error") {
    const auto r = run_mq({"broker", "--workers", "0", "--listen", "mqtt://127.0.0.1:0"});
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("--workers") != std::string::npos);
}
