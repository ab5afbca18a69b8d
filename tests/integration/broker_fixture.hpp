// SPDX-License-Identifier: MIT
#pragma once
// The broker engine in-process on 127.0.0.1:0, run on its own thread and
// stopped (bounded) at the end of the test.
#include <chrono>
#include <functional>
#include <thread>

#include <mqtt/net/server.hpp>

#include "broker_workers.hpp"
#include "raw_client.hpp"

namespace mq::test {

class broker_fixture {
public:
    explicit broker_fixture(const std::function<void(mqtt::net::broker_limits&)>& tweak = {}) {
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
        if (tweak) tweak(o.limits);
        o.workers = broker_workers();
        server_ = std::make_unique<mqtt::net::server>(std::move(o));
        server_->start();
        port_ = server_->listeners().at(0).port;
        thread_ = std::thread([this] { server_->run(); });
    }
    ~broker_fixture() {
        server_->stop(std::chrono::milliseconds(500));
        thread_.join();
    }
    broker_fixture(const broker_fixture&) = delete;
    broker_fixture& operator=(const broker_fixture&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    mqtt::net::server& server() noexcept { return *server_; }

    /// A connected client (CONNACK success asserted by the caller via `ok`).
    std::unique_ptr<raw_client> client(const std::string& id,
                                       mqtt::protocol_version v = mqtt::protocol_version::v5,
                                       bool clean = true) {
        auto c = std::make_unique<raw_client>(port_, v);
        auto ack = c->connect(id, clean);
        ok = ack && ack->reason_code == mqtt::reason::success;
        return c;
    }
    bool ok = false;

private:
    std::unique_ptr<mqtt::net::server> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

inline mqtt::publish make_publish(std::string topic, std::string payload,
                                  mqtt::qos q = mqtt::qos::at_most_once, std::uint16_t id = 0,
                                  bool retain = false) {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.payload.assign(payload.begin(), payload.end());
    p.level = q;
    p.packet_id = id;
    p.retain = retain;
    return p;
}

inline std::string payload_of(const mqtt::publish& p) {
    return std::string(p.payload.begin(), p.payload.end());
}

}  // namespace mq::test
