// SPDX-License-Identifier: MIT
// A supervisor that repeats SIGTERM (or a user pressing ^C twice) while
// `mq broker` shuts down must still see a clean exit 0, never death by the
// signal: the repeat can land in any phase of the shutdown, including after
// the signal handlers are gone and only the process exit is left.
#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "raw_client.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

TEST_CASE("e2e broker: SIGTERM repeated every 200 us until it exits still ends with exit 0") {
    for (const char* workers : {"1", "3"}) {
        CAPTURE(workers);
        for (int round = 0; round < 5; ++round) {
            CAPTURE(round);
            process broker(mq_cmd({"broker", "--listen", "mqtt://127.0.0.1:0", "--sys-interval", "0", "--workers",
                                   workers}));
            const auto ready = broker.read_line(10s);
            REQUIRE(ready);
            const auto port =
                nlohmann::json::parse(*ready).at("listeners").at(0).at("port").get<std::uint16_t>();
            raw_client client(port, mqtt::protocol_version::v5);  // shutdown sends it DISCONNECT 0x8B
            REQUIRE(client.connect("sig-" + std::to_string(round)));
            // A zombie has no VmRSS: the loop ends when the broker has exited.
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (vm_rss_kib(broker.pid()) && std::chrono::steady_clock::now() < deadline) {
                broker.signal(round % 2 == 0 ? SIGTERM : SIGINT);
                std::this_thread::sleep_for(200us);
            }
            const auto r = broker.wait(10s);
            INFO("stderr: " << r.err);
            CHECK(r.exit_code == 0);
        }
    }
}
