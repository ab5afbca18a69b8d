// SPDX-License-Identifier: MIT
// net::client against Debian's mosquitto on 127.0.0.1 (skipped when absent).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <mqtt/net/client.hpp>
#include <mqtt/net/errors.hpp>

#include "client_test_util.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::client_it;
using mqtt::net::client;
using mqtt::protocol_version;
using mqtt::qos;

namespace {

std::vector<mqtt::subscription> subs(std::string filter, qos q) {
    mqtt::subscription s;
    s.filter = std::move(filter);
    s.max_qos = q;
    return {s};
}

}  // namespace

TEST_CASE("client connects to mosquitto with MQTT 3.1.1 and 5.0") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    for (auto v : {protocol_version::v311, protocol_version::v5}) {
        CAPTURE(static_cast<int>(v));
        run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            client c(ex, options(broker.port(), v, "conn-test"));
            const mqtt::connack ack = co_await c.connect();
            CHECK(ack.reason_code == mqtt::reason::success);
            CHECK_FALSE(ack.session_present);
            CHECK(c.version() == v);
            co_await c.disconnect();
            auto after = co_await c.receive();
            CHECK_FALSE(after.has_value());  // orderly close
            auto ec = co_await error_of(c.publish(message("t", "x")));
            CHECK(ec == mqtt::net::net_error::closed);
        });
    }
}

TEST_CASE("MQTT-3.2.2-3 v5 client without a client id gets an Assigned Client Identifier") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, options(broker.port(), protocol_version::v5, ""));
        const mqtt::connack ack = co_await c.connect();
        const std::string* id = ack.props.get_string(mqtt::property_id::assigned_client_identifier);
        REQUIRE(id != nullptr);
        CHECK_FALSE(id->empty());
        co_await c.disconnect();
    });
}

TEST_CASE("publish and subscribe round trip at QoS 0 1 and 2 on both versions") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    for (auto v : {protocol_version::v311, protocol_version::v5}) {
        CAPTURE(static_cast<int>(v));
        run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            client sub(ex, options(broker.port(), v, "rt-sub"));
            client pub(ex, options(broker.port(), v, "rt-pub"));
            co_await sub.connect();
            co_await pub.connect();
            const mqtt::suback ack = co_await sub.subscribe(subs("rt/#", qos::exactly_once));
            REQUIRE(ack.reason_codes.size() == 1);
            CHECK(ack.reason_codes[0] == mqtt::reason::granted_qos_2);
            for (auto q : {qos::at_most_once, qos::at_least_once, qos::exactly_once}) {
                const std::string payload = "payload-" + std::to_string(static_cast<int>(q));
                const auto res = co_await pub.publish(message("rt/x", payload, q));
                CHECK(res.reason_code == mqtt::reason::success);
                auto got = co_await sub.receive();
                REQUIRE(got.has_value());
                CHECK(got->topic == "rt/x");
                CHECK(text(*got) == payload);
                CHECK(got->level == q);
                CHECK_FALSE(got->retain);
            }
            std::vector<std::string> filters{"rt/#"};  // GCC 12: no braced temporaries in co_await
            const mqtt::unsuback un = co_await sub.unsubscribe(std::move(filters));
            if (v == protocol_version::v5) {
                REQUIRE(un.reason_codes.size() == 1);
                CHECK(un.reason_codes[0] == mqtt::reason::success);
            }
            co_await pub.disconnect();
            co_await sub.disconnect();
        });
    }
}

TEST_CASE("2000 QoS 1 publishes through a window of 20 all arrive in order") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client sub(ex, options(broker.port(), protocol_version::v5, "win-sub"));
        auto po = options(broker.port(), protocol_version::v5, "win-pub");
        po.max_inflight = 20;
        client pub(ex, po);
        co_await sub.connect();
        co_await pub.connect();
        co_await sub.subscribe(subs("win", qos::at_least_once));
        constexpr int n = 2000;
        int received = 0;
        bool in_order = true;
        // The receiver runs concurrently so neither side's queue fills up.
        auto consumer = [&]() -> asio::awaitable<void> {
            while (received < n) {
                auto m = co_await sub.receive();
                if (!m) break;
                if (text(*m) != std::to_string(received)) in_order = false;
                ++received;
            }
        };
        std::exception_ptr consumer_error;
        bool consumer_done = false;
        asio::co_spawn(ex, consumer(), [&](std::exception_ptr e) {
            consumer_error = e;
            consumer_done = true;
        });
        for (int i = 0; i < n; ++i) {
            auto r = co_await pub.publish(message("win", std::to_string(i), qos::at_least_once));
            if (r.reason_code != mqtt::reason::success) CHECK(r.reason_code == mqtt::reason::success);
        }
        for (int i = 0; i < 500 && !consumer_done; ++i) co_await sleep_for(10ms);
        CHECK(consumer_done);
        CHECK_FALSE(consumer_error);
        CHECK(received == n);
        CHECK(in_order);
        co_await pub.disconnect();
        co_await sub.disconnect();
    });
}

TEST_CASE("MQTT-3.3.1-6 retained message reaches a later subscriber and an empty payload clears it") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client pub(ex, options(broker.port(), protocol_version::v5, "ret-pub"));
        co_await pub.connect();
        co_await pub.publish(message("ret/a", "kept", qos::at_least_once, true));

        client sub(ex, options(broker.port(), protocol_version::v5, "ret-sub"));
        co_await sub.connect();
        co_await sub.subscribe(subs("ret/#", qos::at_least_once));
        auto got = co_await sub.receive();
        REQUIRE(got.has_value());
        CHECK(got->retain);
        CHECK(text(*got) == "kept");
        co_await sub.disconnect();

        co_await pub.publish(message("ret/a", "", qos::at_least_once, true));
        client sub2(ex, options(broker.port(), protocol_version::v5, "ret-sub2"));
        co_await sub2.connect();
        co_await sub2.subscribe(subs("ret/#", qos::at_least_once));
        co_await pub.publish(message("ret/a", "live", qos::at_least_once));
        auto live = co_await sub2.receive();
        REQUIRE(live.has_value());
        CHECK(text(*live) == "live");  // nothing retained came first
        CHECK_FALSE(live->retain);
        co_await sub2.disconnect();
        co_await pub.disconnect();
    });
}

TEST_CASE("MQTT-3.1.2-8 the Will is published when the client drops without DISCONNECT") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    for (auto v : {protocol_version::v311, protocol_version::v5}) {
        CAPTURE(static_cast<int>(v));
        run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            client watcher(ex, options(broker.port(), v, "will-watch"));
            co_await watcher.connect();
            co_await watcher.subscribe(subs("will/#", qos::at_least_once));

            auto o = options(broker.port(), v, "will-owner");
            mqtt::will w;
            w.topic = "will/owner";
            w.payload = {'g', 'o', 'n', 'e'};
            w.level = qos::at_least_once;
            o.connect.will_msg = w;
            client owner(ex, o);
            co_await owner.connect();
            owner.close();  // no DISCONNECT: the broker must publish the Will

            auto got = co_await watcher.receive();
            REQUIRE(got.has_value());
            CHECK(got->topic == "will/owner");
            CHECK(text(*got) == "gone");
            co_await watcher.disconnect();
        });
    }
}

TEST_CASE("MQTT-4.4.0-1 a resumed session receives what was queued while offline") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto so = options(broker.port(), protocol_version::v5, "resume-sub");
        so.connect.clean_start = false;
        so.connect.props.set_int(mqtt::property_id::session_expiry_interval, 300);
        {
            client sub(ex, so);
            auto ack = co_await sub.connect();
            CHECK_FALSE(ack.session_present);
            co_await sub.subscribe(subs("resume", qos::at_least_once));
            co_await sub.disconnect();
        }
        client pub(ex, options(broker.port(), protocol_version::v5, "resume-pub"));
        co_await pub.connect();
        co_await pub.publish(message("resume", "while-away", qos::at_least_once));
        co_await pub.disconnect();

        client sub(ex, so);
        auto ack = co_await sub.connect();
        CHECK(ack.session_present);
        auto got = co_await sub.receive();
        REQUIRE(got.has_value());
        CHECK(text(*got) == "while-away");
        co_await sub.disconnect();
    });
}

TEST_CASE("a slow consumer pauses reading and still receives every message") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(broker.port(), protocol_version::v5, "slow");
        o.receive_queue = 16;
        client c(ex, o);
        co_await c.connect();
        co_await c.subscribe(subs("slow", qos::at_most_once));
        constexpr int n = 3000;  // far more than the receive queue holds
        const std::string pad(512, 'p');
        for (int i = 0; i < n; ++i) co_await c.publish(message("slow", std::to_string(i) + pad));
        co_await sleep_for(500ms);  // let the receive queue fill so that reading pauses
        int got = 0;
        bool in_order = true;
        while (got < n) {
            auto m = co_await c.receive();
            REQUIRE(m.has_value());
            if (text(*m) != std::to_string(got) + pad) in_order = false;
            ++got;
        }
        CHECK(in_order);
        // A QoS 1 round trip proves the connection is healthy after the pause.
        auto r = co_await c.publish(message("other", "x", qos::at_least_once));
        CHECK(r.reason_code == mqtt::reason::no_matching_subscribers);
        co_await c.disconnect();
    });
}

TEST_CASE("keepalive PINGREQ keeps an idle connection open") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(broker.port(), protocol_version::v311, "idle");
        o.connect.keep_alive = 1;
        client c(ex, o);
        co_await c.connect();
        co_await c.subscribe(subs("idle", qos::at_least_once));
        co_await sleep_for(2600ms);  // mosquitto drops a silent client after 1.5 s
        co_await c.publish(message("idle", "still here", qos::at_least_once));
        auto m = co_await c.receive();
        REQUIRE(m.has_value());
        CHECK(text(*m) == "still here");
        co_await c.disconnect();
    });
}

TEST_CASE("connecting to a closed port fails with connect_failed") {
    const auto port = pick_free_port();
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, options(port, protocol_version::v5, "nobody"));
        std::string what;
        auto ec = co_await error_of(c.connect(), &what);
        CHECK(ec == mqtt::net::net_error::connect_failed);
        CHECK(what.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    });
}

TEST_CASE("an unresolvable host fails with resolve_failed") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(1883, protocol_version::v5, "x");
        o.host = "no-such-host.invalid";
        client c(ex, o);
        auto ec = co_await error_of(c.connect());
        CHECK(ec == mqtt::net::net_error::resolve_failed);
    });
}

TEST_CASE("a paused reader keeps PINGREQ going so the broker keeps the connection") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(broker.port(), protocol_version::v311, "paused");
        o.connect.keep_alive = 1;
        o.receive_queue = 1;
        client c(ex, o);
        co_await c.connect();
        co_await c.subscribe(subs("paused", qos::at_least_once));
        for (int i = 0; i < 5; ++i) co_await c.publish(message("paused", std::to_string(i)));
        co_await sleep_for(2600ms);  // paused all along: the queue holds one message
        for (int i = 0; i < 5; ++i) {
            auto m = co_await c.receive();
            REQUIRE(m.has_value());
            CHECK(text(*m) == std::to_string(i));
        }
        // The PUBLISH echo may arrive before the PUBACK while the queue is full:
        // the reader must keep going for the acknowledgement.
        auto r = co_await c.publish(message("paused", "after", qos::at_least_once));
        CHECK(r.reason_code == mqtt::reason::success);
        auto m = co_await c.receive();
        REQUIRE(m.has_value());
        CHECK(text(*m) == "after");
        co_await c.disconnect();
    });
}

TEST_CASE("one client object reconnects after disconnect and resumes its session") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(broker.port(), protocol_version::v5, "again");
        o.connect.clean_start = false;
        o.connect.props.set_int(mqtt::property_id::session_expiry_interval, 60);
        client c(ex, o);
        auto first = co_await c.connect();
        CHECK_FALSE(first.session_present);
        co_await c.subscribe(subs("again", qos::at_least_once));
        co_await c.disconnect();
        auto second = co_await c.connect();
        CHECK(second.session_present);
        co_await c.publish(message("again", "back", qos::at_least_once));
        auto m = co_await c.receive();
        REQUIRE(m.has_value());
        CHECK(text(*m) == "back");
        co_await c.disconnect();
    });
}
