// SPDX-License-Identifier: MIT
// hardening.md T05 from the client side: `mq sub` and `mq pub` over mqtts://
// through tests/support/fault_proxy in front of `mq broker`'s TLS listener. The
// proxy resets both TCP connections half way through a large TLS-protected
// PUBLISH (no close_notify): the client exits 69 saying "connection lost", and
// the broker, seeing an abnormal close, publishes the client's Will.
#include <doctest/doctest.h>

#include <signal.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "fault_proxy.hpp"
#include "raw_client.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// `mq broker` with a plain and a TLS listener on port 0.
class plain_and_tls_broker {
public:
    explicit plain_and_tls_broker(const test_pki& pki) {
        proc_ = std::make_unique<process>(
            mq_cmd({"broker", "--listen", "mqtt://127.0.0.1:0", "--listen", "mqtts://127.0.0.1:0",
                    "--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--sys-interval", "0"}));
        const auto line = proc_->read_line(10s);
        if (!line) throw std::runtime_error("mq broker did not start");
        const json ready = json::parse(*line);
        plain = ready.at("listeners").at(0).at("port").get<std::uint16_t>();
        tls = ready.at("listeners").at(1).at("port").get<std::uint16_t>();
    }
    ~plain_and_tls_broker() {
        proc_->signal(SIGTERM);
        (void)proc_->wait(5s);
    }
    plain_and_tls_broker(const plain_and_tls_broker&) = delete;
    plain_and_tls_broker& operator=(const plain_and_tls_broker&) = delete;
    std::uint16_t plain = 0, tls = 0;

private:
    std::unique_ptr<process> proc_;
};

// A raw MQTT client on the plain port subscribed to `filter`.
std::unique_ptr<raw_client> watcher(std::uint16_t port, const std::string& filter) {
    auto w = std::make_unique<raw_client>(port);
    REQUIRE(w->connect("watcher"));
    REQUIRE(w->subscribe(filter, mqtt::qos::at_most_once));
    return w;
}

std::optional<mqtt::publish> next_publish(raw_client& w, const std::string& topic,
                                          std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        auto p = as<mqtt::publish>(w.receive(500ms));
        if (p && p->topic == topic) return p;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("e2e T05 mq sub over mqtts: TCP reset mid TLS record exits 69 'connection lost', Will published") {
    temp_dir dir;
    const test_pki pki = make_test_pki(dir);
    plain_and_tls_broker broker(pki);
    auto w = watcher(broker.plain, "e2e/t5/#");
    fault_proxy proxy(broker.tls);
    process sub(
        mq_cmd({"sub", "-L", "mqtts://localhost:" + std::to_string(proxy.port()), "--cafile", pki.ca_cert,
                "-t", "e2e/t5/data", "--will-topic", "e2e/t5/will/sub", "--will-payload", "sub gone"}));
    // Subscribed once a message published on the plain port comes out of sub.
    bool subscribed = false;
    for (int i = 0; i < 50 && !subscribed; ++i) {
        REQUIRE(run_mq({"pub", "-p", std::to_string(broker.plain), "-t", "e2e/t5/data", "-m", "sync"})
                    .exit_code == 0);
        const auto line = sub.read_line(200ms);
        subscribed = line && *line == "sync";
    }
    REQUIRE(subscribed);
    while (sub.read_line(200ms)) {
    }
    proxy.set(fault_proxy::direction::to_client, fault_proxy::mode::stall);
    raw_client big(broker.plain);
    REQUIRE(big.connect("big"));
    mqtt::publish p;
    p.topic = "e2e/t5/data";
    p.payload.assign(400 * 1024, 'b');
    big.send(p);
    std::this_thread::sleep_for(300ms);  // the broker wrote it into the stalled path
    const auto before = proxy.forwarded(fault_proxy::direction::to_client);
    proxy.set(fault_proxy::direction::to_client, fault_proxy::mode::pass);
    proxy.cut();
    const auto released = proxy.forwarded(fault_proxy::direction::to_client) - before;
    MESSAGE("bytes of the 400 KiB PUBLISH that reached mq sub before the reset: ", released);
    CHECK(released < 400 * 1024);  // the PUBLISH was cut short
    const auto r = sub.wait(10s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 69);
    INFO(r.err);
    // "connection to HOST:PORT lost: closed by the broker" (reset and truncated TLS included)
    CHECK(r.err.find("connection to localhost:" + std::to_string(proxy.port()) + " lost") !=
          std::string::npos);
    auto will = next_publish(*w, "e2e/t5/will/sub", 5s);
    REQUIRE(will);
    CHECK(std::string(will->payload.begin(), will->payload.end()) == "sub gone");
}

TEST_CASE(
    "e2e T05 mq pub -l over mqtts: TCP reset while idle on stdin exits 69 'connection lost', Will "
    "published") {
    temp_dir dir;
    const test_pki pki = make_test_pki(dir);
    plain_and_tls_broker broker(pki);
    auto w = watcher(broker.plain, "e2e/t5/#");
    fault_proxy proxy(broker.tls);
    process pub(mq_cmd({"pub", "-L", "mqtts://localhost:" + std::to_string(proxy.port()), "--cafile",
                        pki.ca_cert, "-t", "e2e/t5/line", "-q", "1", "-l", "--will-topic", "e2e/t5/will/pub",
                        "--will-payload", "pub gone"}));
    pub.write_stdin("first\n");  // stdin stays open: pub waits for more lines
    auto first = next_publish(*w, "e2e/t5/line", 10s);
    REQUIRE(first);
    CHECK(std::string(first->payload.begin(), first->payload.end()) == "first");
    std::this_thread::sleep_for(200ms);  // its PUBACK is back
    proxy.cut();
    const auto r = pub.wait(10s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 69);
    INFO(r.err);
    // "connection to HOST:PORT lost: closed by the broker" (reset and truncated TLS included)
    CHECK(r.err.find("connection to localhost:" + std::to_string(proxy.port()) + " lost") !=
          std::string::npos);
    auto will = next_publish(*w, "e2e/t5/will/pub", 5s);
    REQUIRE(will);
    CHECK(std::string(will->payload.begin(), will->payload.end()) == "pub gone");
}
