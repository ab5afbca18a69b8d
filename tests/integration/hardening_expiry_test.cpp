// SPDX-License-Identifier: MIT
// Session expiry (hardening.md §1.1 --max-session-expiry): a persistent session
// whose expiry interval passes while it is offline is discarded with its
// subscriptions and queued messages; before that it resumes. 1-2 s intervals.
#include <doctest/doctest.h>

#include <thread>

#include "hardening_util.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;
using std::chrono::milliseconds;

namespace {

struct resumed {
    std::unique_ptr<raw_client> c;
    bool present = false;
    std::optional<std::uint32_t> expiry;  // CONNACK Session Expiry Interval (v5)
};

resumed connect_session(std::uint16_t port, const std::string& id, protocol_version v, bool clean,
                        std::optional<std::uint32_t> expiry) {
    resumed r;
    r.c = std::make_unique<raw_client>(port, v);
    mqtt::connect conn;
    conn.version = v;
    conn.client_id = id;
    conn.clean_start = clean;
    conn.keep_alive = 60;
    if (expiry) conn.props.set_int(mqtt::property_id::session_expiry_interval, *expiry);
    auto ack = r.c->connect(conn);
    REQUIRE(ack);
    REQUIRE(ack->reason_code == reason::success);
    r.present = ack->session_present;
    r.expiry = ack->props.get_int(mqtt::property_id::session_expiry_interval);
    return r;
}

// Subscribes to `topic` at QoS 1, then leaves without DISCONNECT (the expiry starts at the close).
void subscribe_and_leave(resumed& r, const std::string& topic) {
    REQUIRE(r.c->subscribe(topic, qos::at_least_once));
    r.c->close();
}

}  // namespace

TEST_CASE("MQTT-3.1.2-23 a session is kept until its Session Expiry Interval passes, then discarded") {
    broker_fixture b;
    auto pub = b.client("pub");
    REQUIRE(b.ok);
    {
        auto s = connect_session(b.port(), "exp", protocol_version::v5, true, 1);
        CHECK_FALSE(s.present);
        subscribe_and_leave(s, "exp/t");
    }
    std::this_thread::sleep_for(milliseconds(300));
    {
        // Within the interval: resumed [MQTT-3.2.2-3], and a message queued while offline arrives.
        pub->send(make_publish("exp/t", "kept", qos::at_least_once, 1));
        REQUIRE(as<mqtt::puback>(pub->receive()));
        auto s = connect_session(b.port(), "exp", protocol_version::v5, false, 1);
        CHECK(s.present);
        auto m = as<mqtt::publish>(s.c->receive());
        REQUIRE(m);
        CHECK(payload_of(*m) == "kept");
        s.c->send(mqtt::puback{m->packet_id, reason::success, {}});
        s.c->close();
    }
    // Queued while offline, then the interval (1 s) passes: session, subscription and
    // queue are gone [MQTT-3.1.2-23].
    std::this_thread::sleep_for(milliseconds(200));
    pub->send(make_publish("exp/t", "lost with the session", qos::at_least_once, 2));
    REQUIRE(as<mqtt::puback>(pub->receive()));
    std::this_thread::sleep_for(milliseconds(2000));
    auto s = connect_session(b.port(), "exp", protocol_version::v5, false, 1);
    CHECK_FALSE(s.present);  // [MQTT-3.2.2-2] no session: Session Present 0
    CHECK(s.c->silent_for(milliseconds(300)));
    pub->send(make_publish("exp/t", "no subscription any more", qos::at_least_once, 3));
    REQUIRE(as<mqtt::puback>(pub->receive()));
    CHECK(s.c->silent_for(milliseconds(300)));
}

TEST_CASE(
    "MQTT-3.1.2-23 --max-session-expiry lowers a v5 client's interval (CONNACK says so) and ends 3.1.1 "
    "sessions") {
    broker_fixture b([](mqtt::net::broker_limits& l) { l.max_session_expiry = 1; });
    {
        auto v5 = connect_session(b.port(), "long5", protocol_version::v5, true, 3600);
        REQUIRE(v5.expiry);
        CHECK(*v5.expiry == 1);  // spec 3.2.2.3.2: the server returns the value it uses
        subscribe_and_leave(v5, "long5/t");
        auto v311 = connect_session(b.port(), "long311", protocol_version::v311, false, std::nullopt);
        CHECK_FALSE(v311.present);
        subscribe_and_leave(v311, "long311/t");
    }
    std::this_thread::sleep_for(milliseconds(300));
    for (auto v : {protocol_version::v5, protocol_version::v311}) {
        const std::string id = v == protocol_version::v5 ? "long5" : "long311";
        CAPTURE(id);
        auto s =
            connect_session(b.port(), id, v, false,
                            v == protocol_version::v5 ? std::optional<std::uint32_t>(3600) : std::nullopt);
        CHECK(s.present);  // still inside the lowered interval
        s.c->close();
    }
    std::this_thread::sleep_for(milliseconds(2200));
    for (auto v : {protocol_version::v5, protocol_version::v311}) {
        const std::string id = v == protocol_version::v5 ? "long5" : "long311";
        CAPTURE(id);
        auto s =
            connect_session(b.port(), id, v, false,
                            v == protocol_version::v5 ? std::optional<std::uint32_t>(3600) : std::nullopt);
        CHECK_FALSE(s.present);  // expired after 1 s although 3600 s were asked for
    }
}
