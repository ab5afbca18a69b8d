// SPDX-License-Identifier: MIT
// $SYS/broker/... topics (cli-contract.md §9).
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::qos;
using mqtt::reason;

namespace {

struct sys_broker {
    explicit sys_broker(std::chrono::milliseconds interval) {
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
        o.sys_interval = interval;
        o.workers = broker_workers();
        server = std::make_unique<mqtt::net::server>(std::move(o));
        server->start();
        port = server->listeners().at(0).port;
        thread = std::thread([this] { server->run(); });
    }
    ~sys_broker() {
        server->stop(std::chrono::milliseconds(500));
        thread.join();
    }
    std::unique_ptr<mqtt::net::server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

}  // namespace

TEST_CASE("MQTT-4.7.2-1 $SYS/broker topics are published retained every interval and not matched by #") {
    sys_broker b(std::chrono::milliseconds(200));
    raw_client all(b.port);
    REQUIRE(all.connect("all"));
    REQUIRE(all.subscribe("#", qos::at_most_once));
    raw_client pub(b.port);
    REQUIRE(pub.connect("pub"));
    pub.send(make_publish("a/b", "x"));
    REQUIRE(as<mqtt::publish>(all.receive()));  // the client message itself
    std::this_thread::sleep_for(300ms);
    raw_client sys(b.port);
    REQUIRE(sys.connect("sys"));
    REQUIRE(sys.subscribe("$SYS/broker/#", qos::at_most_once));
    std::map<std::string, std::string> seen;
    // The retained values predate this subscriber; the next publication counts it.
    for (int i = 0; i < 200; ++i) {
        auto m = as<mqtt::publish>(sys.receive());
        if (!m) break;
        seen[m->topic] = payload_of(*m);
        if (seen.size() == 12 && seen["$SYS/broker/clients/connected"] == "3" &&
            seen["$SYS/broker/subscriptions/count"] == "2")
            break;
    }
    CHECK(seen.size() == 12);
    CHECK(seen["$SYS/broker/version"] == "0.1.0");
    CHECK(seen["$SYS/broker/clients/connected"] == "3");
    CHECK(seen["$SYS/broker/messages/received"] == "1");
    CHECK(seen["$SYS/broker/subscriptions/count"] == "2");
    REQUIRE(seen.count("$SYS/broker/stats"));
    const auto stats = nlohmann::json::parse(seen["$SYS/broker/stats"]);
    CHECK(stats["messages_received"] == 1);
    CHECK(stats["dropped"]["queue_full"] == 0);
    CHECK(stats["dropped"].size() == 6);
    CHECK(stats["dropped"]["not_authorized"] == 0);
    // '#' does not match topics starting with '$'.
    CHECK(all.silent_for(300ms));
    // Clients cannot publish under $SYS/ (hardening C19).
    pub.send(make_publish("$SYS/broker/version", "fake", qos::at_least_once, 7));
    auto ack = as<mqtt::puback>(pub.receive());
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::not_authorized);
}

TEST_CASE("sys interval 0 disables $SYS") {
    sys_broker b(std::chrono::milliseconds(0));
    raw_client sys(b.port);
    REQUIRE(sys.connect("sys"));
    REQUIRE(sys.subscribe("$SYS/#", qos::at_most_once));
    CHECK(sys.silent_for(300ms));
}
