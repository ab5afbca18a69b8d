// SPDX-License-Identifier: MIT
// Request/Response Information (MQTT 5 3.1.2.11.6, 3.2.2.3.15): with Request
// Response Information 1 the CONNACK carries Response Information, by default
// `$response/<client id>/`; with 0 or absent it must not [MQTT-3.1.2-28].
#include <doctest/doctest.h>

#include <thread>

#include "broker_fixture.hpp"

using namespace mq::test;
using mqtt::property_id;
using mqtt::protocol_version;
using mqtt::qos;

namespace {

// CONNECT "rr" (v5, clean start, keepalive 60) with the property block `props`
// (its length byte included); returns the CONNACK's bytes.
std::string connack_for(std::uint16_t port, const std::string& props) {
    raw_client c(port);
    const auto body = from_hex("00 04 4d 51 54 54 05 02 00 3c " + props + " 00 02 72 72");
    std::vector<std::uint8_t> frame{0x10, static_cast<std::uint8_t>(body.size())};
    frame.insert(frame.end(), body.begin(), body.end());
    c.send_bytes(frame);
    const auto f = c.receive_frame();
    return f ? to_hex(*f) : std::string("(none)");
}

// A broker whose engine options are changed by `tweak`.
struct custom_broker {
    explicit custom_broker(const std::function<void(mqtt::net::server_options&)>& tweak) {
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
        tweak(o);
        o.workers = broker_workers();
        server = std::make_unique<mqtt::net::server>(std::move(o));
        server->start();
        port = server->listeners().at(0).port;
        thread = std::thread([this] { server->run(); });
    }
    ~custom_broker() {
        server->stop(std::chrono::milliseconds(500));
        thread.join();
    }
    std::unique_ptr<mqtt::net::server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

}  // namespace

TEST_CASE("MQTT-3.1.2-28 3.2.2.3.15 Response Information only when requested: $response/<client id>/") {
    broker_fixture b;
    // Request Response Information 1 (19 01): 1a 00 0d "$response/rr/" in CONNACK.
    CHECK(connack_for(b.port(), "02 19 01") ==
          "20 1e 00 00 1b 21 00 64 27 00 10 00 00 22 00 0a 1a 00 0d 24 72 65 73 70 6f 6e 73 65 2f 72 72 2f");
    // 0 or absent: the same CONNACK without it.
    CHECK(connack_for(b.port(), "02 19 00") == "20 0e 00 00 0b 21 00 64 27 00 10 00 00 22 00 0a");
    CHECK(connack_for(b.port(), "00") == "20 0e 00 00 0b 21 00 64 27 00 10 00 00 22 00 0a");
}

TEST_CASE("3.2.2.3.15 an assigned client id is the one in the Response Information; 3.1.1 never gets one") {
    broker_fixture b;
    raw_client c(b.port());
    mqtt::connect req;
    req.version = protocol_version::v5;
    req.keep_alive = 60;
    req.props.set_int(property_id::request_response_information, 1);
    const auto ack = c.connect(req);
    REQUIRE(ack);
    const auto* id = ack->props.get_string(property_id::assigned_client_identifier);
    const auto* info = ack->props.get_string(property_id::response_information);
    REQUIRE(id);
    REQUIRE(info);
    CHECK(*info == "$response/" + *id + "/");
    // The prefix works as a response topic: subscribed, published to, delivered.
    REQUIRE(c.subscribe(*info + "#", qos::at_least_once));
    auto responder = b.client("responder");
    REQUIRE(b.ok);
    responder->send(make_publish(*info + "42", "answer", qos::at_least_once, 1));
    const auto m = as<mqtt::publish>(c.receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "answer");

    raw_client old(b.port(), protocol_version::v311);
    const auto a311 = old.connect("old");
    REQUIRE(a311);
    CHECK(a311->props.items.empty());
}

TEST_CASE("3.2.2.3.15 server_options::response_information: a custom prefix, or none when empty") {
    {
        custom_broker b([](mqtt::net::server_options& o) { o.response_information = "replies/%c/in/"; });
        CHECK(connack_for(b.port, "02 19 01") == "20 1f 00 00 1c 21 00 64 27 00 10 00 00 22 00 0a 1a 00 0e 72 65 "
                                                 "70 6c 69 65 73 2f 72 72 2f 69 6e 2f");
    }
    {
        custom_broker b([](mqtt::net::server_options& o) { o.response_information.clear(); });
        CHECK(connack_for(b.port, "02 19 01") == "20 0e 00 00 0b 21 00 64 27 00 10 00 00 22 00 0a");
    }
}
