// SPDX-License-Identifier: MIT
// `mq bench` closed loop against Debian's mosquitto, which writes every packet
// with its own write(2): the generator's batched reads (SO_RCVLOWAT with a
// fallback timer, bench-method §3.1) must still deliver every message, and a
// tail smaller than the low-water mark must not wait for the drain to end.
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "mosquitto_fixture.hpp"

using namespace std::chrono_literals;
using mq::test::mosquitto_fixture;
using mq::test::run_mq;
using nlohmann::json;

namespace {

json closed_loop(const mosquitto_fixture& m, const std::string& qos, const std::string& count) {
    const auto r =
        run_mq({"bench", "e2e", "-h", "127.0.0.1", "-p", std::to_string(m.port()), "-V", "311", "-q", qos,
                "--count", count, "--warmup", "0s", "--rate", "max", "--drain", "10s", "--json"},
               {}, 60s);
    INFO("stderr: " << r.err << "\nbroker log: " << m.log());
    REQUIRE(r.exit_code == 0);
    auto j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

}  // namespace

TEST_CASE("bench closed loop against mosquitto: batched reads lose nothing and hold no tail back") {
    if (!mosquitto_fixture::available()) {
        MESSAGE("mosquitto is not installed: skipped");
        return;
    }
    mosquitto_fixture m;
    // QoS 0 and 1 (issue 5). Not QoS 2 on 3.1.1: mosquitto acknowledges inbound
    // QoS 2 beyond its max_inflight_messages (20) and drops them, so a window of
    // 100 delivers 1 in 5 (mosquitto_sub sees the same); bench-method §3.1.
    for (const std::string qos : {"0", "1"}) {
        CAPTURE(qos);
        const auto full = closed_loop(m, qos, "20000");
        INFO(full.dump());
        CHECK(full["counts"]["sent"] == 20000);
        CHECK(full["counts"]["received"] == 20000);
        CHECK(full["counts"]["lost"] == 0);
        CHECK(full["counts"]["duplicates"] == 0);
        CHECK(full["counts"]["reordered"] == 0);
        if (qos != "0") CHECK(full["counts"]["acked"] == 20000);
        // Three messages (and their acks) are far below the 1 KiB and quarter-window
        // low-water marks: only the fallback timer gets them read. The run ends when
        // everything has arrived, so it must take well under the 10 s drain.
        const auto t0 = std::chrono::steady_clock::now();
        const auto tail = closed_loop(m, qos, "3");
        const auto took = std::chrono::steady_clock::now() - t0;
        INFO(tail.dump());
        CHECK(tail["counts"]["received"] == 3);
        CHECK(tail["counts"]["lost"] == 0);
        if (qos != "0") CHECK(tail["counts"]["acked"] == 3);
        CHECK(took < 5s);
    }
}
