// SPDX-License-Identifier: MIT
// --max-connect-rate: above the rate the broker accepts later instead of
// refusing, so every client of a burst connects, spread over time.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "broker_fixture.hpp"

using namespace mq::test;
using std::chrono::steady_clock;

TEST_CASE("max_connect_rate: a burst above the rate is accepted late, none refused") {
    constexpr std::uint32_t rate = 20;
    constexpr int clients = 40;  // a second's burst (20) at once, then 20 more at 20/s: >= ~1 s
    broker_fixture b([](mqtt::net::broker_limits& l) { l.max_connect_rate = rate; });
    std::vector<std::unique_ptr<raw_client>> conns;
    const auto t0 = steady_clock::now();
    for (int i = 0; i < clients; ++i) {
        auto c = std::make_unique<raw_client>(b.port());
        const auto ack = c->connect("c" + std::to_string(i));
        REQUIRE(ack);
        CHECK(ack->reason_code == mqtt::reason::success);
        conns.push_back(std::move(c));
    }
    const auto elapsed = steady_clock::now() - t0;
    MESSAGE("40 connections at --max-connect-rate 20: ",
            std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), " ms");
    // Only a lower bound: the tokens for connections 21..40 arrive 50 ms apart.
    CHECK(elapsed >= std::chrono::milliseconds(800));
    CHECK(b.server().stats().connections_accepted == clients);
}
