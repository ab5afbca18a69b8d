// SPDX-License-Identifier: MIT
// `--reconnect` (cli-contract.md §2.2, architecture.md §12): when the broker
// comes back without the session (mq broker restarted on the same port, no
// persistence), `mq sub` subscribes again, with the same per-filter QoS, and
// keeps printing; the broker's CONNACK says Session Present 0 [MQTT-3.2.2-2].
#include <doctest/doctest.h>

#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// `mq broker` on `port` (0: any); the port it bound.
std::unique_ptr<process> start_broker(std::uint16_t& port) {
    for (int attempt = 0; attempt < 50; ++attempt) {  // the old socket may linger briefly
        auto p = std::make_unique<process>(mq_cmd({"broker", "--listen", "mqtt://127.0.0.1:" + std::to_string(port)}));
        if (const auto line = p->read_line(5s); line && line->find("\"type\":\"ready\"") != std::string::npos) {
            port = json::parse(*line)["listeners"][0]["port"].get<std::uint16_t>();
            return p;
        }
        std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("mq broker did not start on port " + std::to_string(port));
}

void stop_broker(std::unique_ptr<process>& p) {
    p->signal(SIGTERM);
    (void)p->wait(10s);
    p.reset();
}

// Publishes `payload` on `topic` (QoS 1) until `sub` prints a line containing
// it, for up to ~`seconds` (reconnect backoff included). The matching line.
std::optional<std::string> publish_until_seen(process& sub, const std::string& port, const std::string& topic,
                                              const std::string& payload, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        (void)run_mq({"pub", "-p", port, "-t", topic, "-q", "1", "-m", payload}, {}, 5s);
        for (int i = 0; i < 3; ++i) {
            if (auto line = sub.read_line(100ms); line && line->find(payload) != std::string::npos) return line;
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("e2e sub --reconnect subscribes again when the restarted broker has no session") {
    std::uint16_t port = 0;
    auto broker = start_broker(port);
    const std::string p = std::to_string(port);
    process sub(mq_cmd({"sub", "-p", p, "-i", "e2e-rc", "-c", "-x", "600", "--reconnect", "--json", "-t", "e2e/rc/a",
                        "-q", "1", "-t", "e2e/rc/b", "-q", "0", "--log-level", "info"}));
    const auto before = publish_until_seen(sub, p, "e2e/rc/a", "before", 10);
    REQUIRE(before);
    CHECK(json::parse(*before)["qos"] == 1);

    stop_broker(broker);  // the session dies with it
    broker = start_broker(port);
    REQUIRE(std::to_string(port) == p);

    // Only a new SUBSCRIBE can bring these: the new broker knows no subscription.
    const auto a = publish_until_seen(sub, p, "e2e/rc/a", "after-a", 30);
    REQUIRE(a);
    CHECK(json::parse(*a)["qos"] == 1);  // the same per-filter QoS as before
    const auto b = publish_until_seen(sub, p, "e2e/rc/b", "after-b", 10);
    REQUIRE(b);
    CHECK(json::parse(*b)["qos"] == 0);
    sub.signal(SIGTERM);
    const auto r = sub.wait(10s);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("reconnected") != std::string::npos);
    stop_broker(broker);
}

TEST_CASE("e2e sub without --reconnect: 69 when the connection drops, 76 on the broker's DISCONNECT 0x8B") {
    for (const int sig : {SIGKILL, SIGTERM}) {
        CAPTURE(sig);
        std::uint16_t port = 0;
        auto broker = start_broker(port);
        const std::string p = std::to_string(port);
        process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/rc/x", "-v"}));
        REQUIRE(publish_until_seen(sub, p, "e2e/rc/x", "ping", 10));
        broker->signal(sig);  // SIGTERM: v5 clients get DISCONNECT 0x8B Server shutting down (§9)
        const auto r = sub.wait(10s);
        CHECK(r.exit_code == (sig == SIGKILL ? 69 : 76));
        (void)broker->wait(10s);
    }
}
