// SPDX-License-Identifier: MIT
// `-V` (cli-contract.md §2.2): when not given, a broker that refuses MQTT 5 as
// an unacceptable protocol version gets one retry with 3.1.1. The fake broker
// answers the level-5 CONNECT as a 3.1.1 server does, CONNACK 20 02 00 01
// (3.1.1 [MQTT-3.1.2-2]), closes, and accepts the level-4 CONNECT that follows.
#include <doctest/doctest.h>

#include "e2e_broker.hpp"
#include "hostile_peer.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint8_t connect_type = 1, publish_type = 3, subscribe_type = 8, disconnect_type = 14;
const byte_string refuse_v311{0x20, 0x02, 0x00, 0x01};
const byte_string accept_v311{0x20, 0x02, 0x00, 0x00};

// Protocol level of a CONNECT body (after the 00 04 "MQTT" name).
int level_of(const raw_packet& p) { return p.body.size() > 6 ? p.body[6] : -1; }

// First connection: a 3.1.1 server's refusal of level 5, then close.
hostile_peer::script refuse_level_5() {
    return [](hostile_peer::connection& c) {
        if (c.expect(connect_type)) c.send(refuse_v311);
        c.close_now();
    };
}

std::vector<int> connect_levels(const std::vector<raw_packet>& packets) {
    std::vector<int> out;
    for (const auto& p : packets)
        if (p.type() == connect_type) out.push_back(level_of(p));
    return out;
}

}  // namespace

TEST_CASE("e2e -V default: mq pub retries once with 3.1.1 when the broker refuses level 5") {
    hostile_peer peer({refuse_level_5(), [](hostile_peer::connection& c) {
                           if (c.expect(connect_type)) c.send(accept_v311);
                       }});
    const auto r = run_mq({"pub", "-p", peer.port_text(), "-t", "e2e/v", "-m", "hello", "--log-level", "info"}, {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("retrying with 3.1.1") != std::string::npos);
    const auto packets = peer.finish();
    CHECK(connect_levels(packets) == std::vector<int>{5, 4});
    // The message went out on the 3.1.1 connection, then a DISCONNECT.
    bool published = false, disconnected = false;
    for (const auto& p : packets) {
        published = published || (p.type() == publish_type && p.body.size() == 2 + 5 + 5);  // 00 05 e2e/v hello
        disconnected = disconnected || p.type() == disconnect_type;
    }
    CHECK(published);
    CHECK(disconnected);
}

TEST_CASE("e2e -V default: mq sub retries with 3.1.1 and subscribes in 3.1.1") {
    hostile_peer peer({refuse_level_5(), [](hostile_peer::connection& c) {
                           if (!c.expect(connect_type) || !c.send(accept_v311)) return;
                           if (const auto s = c.expect(subscribe_type)) c.send(suback_for(*s, {0x00}, false));
                       }});
    const auto r = run_mq({"sub", "-p", peer.port_text(), "-t", "e2e/v", "-E"}, {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(connect_levels(peer.finish()) == std::vector<int>{5, 4});
}

TEST_CASE("e2e -V 5 given explicitly: no retry, the refusal exits 76") {
    hostile_peer peer({refuse_level_5(), [](hostile_peer::connection& c) {
                           if (c.expect(connect_type, 2s)) c.send(accept_v311);
                       }});
    const auto r = run_mq({"pub", "-V", "5", "-p", peer.port_text(), "-t", "e2e/v", "-m", "x"}, {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 76);  // a CONNACK refusal not listed under 69/77 (§10)
    CHECK(r.err.find("mq: ") != std::string::npos);
    CHECK(connect_levels(peer.finish(5s)) == std::vector<int>{5});
}

TEST_CASE("e2e -V default: a second refusal is not retried again") {
    hostile_peer peer({refuse_level_5(), [](hostile_peer::connection& c) {
                           if (c.expect(connect_type)) c.send(refuse_v311);
                           c.close_now();
                       },
                       [](hostile_peer::connection& c) {
                           if (c.expect(connect_type, 2s)) c.send(accept_v311);
                       }});
    const auto r = run_mq({"pub", "-p", peer.port_text(), "-t", "e2e/v", "-m", "x"}, {}, 15s);
    CHECK(r.exit_code == 76);
    CHECK(connect_levels(peer.finish(5s)) == std::vector<int>{5, 4});
}
