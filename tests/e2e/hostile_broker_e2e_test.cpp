// SPDX-License-Identifier: MIT
// The real `mq` clients against a scripted hostile broker (hardening.md §2
// E rows, §1.2 client limits): every run ends with the documented exit code
// (cli-contract.md §10: 69 unavailable, 76 protocol, 124 timeout) and a
// message on stderr, within a bounded time, and a v5 client tells the broker
// why with a DISCONNECT reason code.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_broker.hpp"
#include "hostile_peer.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::uint8_t connect_type = 1, publish_type = 3, subscribe_type = 8;

/// CONNECT -> `connack`; SUBSCRIBE -> SUBACK with `codes`; then `after`.
hostile_peer::script subscribe_then(byte_string connack, byte_string codes, byte_string after = {},
                                    bool v5 = true) {
    return [=](hostile_peer::connection& c) {
        if (!c.expect(connect_type) || !c.send(connack)) return;
        const auto sub = c.expect(subscribe_type);
        if (!sub || !c.send(suback_for(*sub, codes, v5))) return;
        if (!after.empty()) c.send(after);
    };
}

/// CONNECT -> `connack`, then whatever the client does is only recorded.
hostile_peer::script connack_only(byte_string connack) {
    return [=](hostile_peer::connection& c) {
        if (c.expect(connect_type)) c.send(connack);
    };
}

struct timed_result {
    process_result r;
    std::chrono::milliseconds took{};
};

timed_result run_timed(std::vector<std::string> args, std::chrono::milliseconds limit = 20s) {
    const auto start = clock_type::now();
    timed_result t{run_mq(std::move(args), {}, limit), {}};
    t.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    return t;
}

/// `mq sub` against `peer` (v5 unless `version` says otherwise).
timed_result sub(const hostile_peer& peer, std::vector<std::string> extra = {}, std::string version = "5") {
    std::vector<std::string> args{"sub", "-V", version, "-p", peer.port_text(), "--connect-timeout", "5s", "-t", "a"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_timed(std::move(args));
}

/// `mq pub -V 5 -t a -m x` against `peer`.
timed_result pub(const hostile_peer& peer, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"pub", "-V", "5", "-p", peer.port_text(), "--connect-timeout", "5s", "-t", "a",
                                  "-m", "x"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_timed(std::move(args));
}

/// The process ended with `code`, quickly, with an `mq:` message on stderr.
void check_exit(const timed_result& t, int code) {
    INFO("stderr: " << t.r.err);
    CHECK_FALSE(t.r.timed_out);
    CHECK(t.r.exit_code == code);
    CHECK(t.r.err.find("mq: ") != std::string::npos);
    CHECK(t.took < 10s);
}

bool disconnect_with(const std::vector<raw_packet>& packets, std::initializer_list<std::uint8_t> codes) {
    for (auto c : codes) {
        if (hostile_peer::has_disconnect(packets, c)) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("e2e E01 mq sub exits 76 on a SUBACK with no reason codes") {
    hostile_peer peer(subscribe_then(connack_v5_ok(), {}));
    const auto t = sub(peer);
    check_exit(t, 76);
    CHECK(disconnect_with(peer.finish(), {0x81, 0x82}));
}

TEST_CASE("e2e E01 mq sub exits 76 on a SUBACK with fewer codes than filters") {
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x00}));
    const auto t = sub(peer, {"-t", "b", "-t", "c"});
    check_exit(t, 76);
    CHECK(disconnect_with(peer.finish(), {0x81, 0x82}));
}

TEST_CASE("e2e E02 mq sub -V 311 exits 76 on SUBACK return code 03 or 7f") {
    for (std::uint8_t code : {std::uint8_t{0x03}, std::uint8_t{0x7f}}) {
        CAPTURE(int(code));
        hostile_peer peer(subscribe_then({0x20, 0x02, 0x00, 0x00}, {code}, {}, false));
        check_exit(sub(peer, {}, "311"), 76);
    }
}

TEST_CASE("e2e C06 mq sub exits 76 with DISCONNECT 0x81 on a QoS 1 PUBLISH with packet id 0") {
    // QoS 1, topic "a", packet id 0, no properties, payload "x"
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x01}, {0x32, 0x07, 0x00, 0x01, 'a', 0x00, 0x00, 0x00, 'x'}));
    const auto t = sub(peer, {"-q", "1"});
    check_exit(t, 76);
    CHECK(t.r.out.empty());  // nothing from the bad packet is printed
    CHECK(hostile_peer::has_disconnect(peer.finish(), 0x81));
}

TEST_CASE("e2e E10 mq sub exits 76 with DISCONNECT 0x81 on an invalid UTF-8 topic") {
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x00}, {0x30, 0x05, 0x00, 0x01, 0xff, 0x00, 'x'}));
    const auto t = sub(peer);
    check_exit(t, 76);
    CHECK(t.r.out.empty());
    CHECK(hostile_peer::has_disconnect(peer.finish(), 0x81));
}

TEST_CASE("e2e E06 a declared 256 MiB PUBLISH ends mq sub at the fixed header with DISCONNECT 0x95") {
    // Remaining length 268,435,455: above the default 256 MiB limit. The body
    // never comes, so waiting for it (or allocating it) would show as a hang.
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x00}, {0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 'a'}));
    const auto t = sub(peer);
    check_exit(t, 76);
    CHECK(t.took < 5s);
    CHECK(hostile_peer::has_disconnect(peer.finish(), 0x95));
}

TEST_CASE("e2e E06 mq sub --max-packet-size 1KiB exits 76 on a 2 KB PUBLISH") {
    byte_string body{0x00, 0x01, 'a', 0x00};
    body.resize(2000, 'p');
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x00}, mqtt_packet(0x30, body)));
    const auto t = sub(peer, {"--max-packet-size", "1KiB"});
    check_exit(t, 76);
    CHECK(t.r.out.empty());
    CHECK(hostile_peer::has_disconnect(peer.finish(), 0x95));
}

TEST_CASE("e2e E03 mq pub exits 76 on CONNACKs with nonsense or duplicate properties") {
    const std::vector<std::pair<const char*, byte_string>> cases{
        {"duplicate Maximum Packet Size", {0x20, 0x0d, 0x00, 0x00, 0x0a, 0x27, 0x00, 0x00, 0x10, 0x00, 0x27, 0x00,
                                           0x00, 0x10, 0x00}},
        {"duplicate Receive Maximum", {0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x05, 0x21, 0x00, 0x06}},
        {"Receive Maximum 0", {0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00}},
        {"Maximum QoS 2", {0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}},
        {"undefined property 0x7f", {0x20, 0x05, 0x00, 0x00, 0x02, 0x7f, 0x00}},
        {"property not allowed in CONNACK (Will Delay)", {0x20, 0x08, 0x00, 0x00, 0x05, 0x18, 0x00, 0x00, 0x00, 0x01}},
        {"property length past the end", {0x20, 0x05, 0x00, 0x00, 0x09, 0x21, 0x00}},
        {"reserved acknowledge flags", {0x20, 0x03, 0x02, 0x00, 0x00}},
        {"bytes after the properties", {0x20, 0x04, 0x00, 0x00, 0x00, 0x00}},
    };
    for (const auto& [what, connack] : cases) {
        CAPTURE(what);
        hostile_peer peer(connack_only(connack));
        check_exit(pub(peer), 76);
        peer.finish();
    }
}

TEST_CASE("e2e E03 mq sub exits 76 on a second CONNACK") {
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x00}, connack_v5_ok()));
    const auto t = sub(peer);
    check_exit(t, 76);
    CHECK(disconnect_with(peer.finish(), {0x81, 0x82}));
}

TEST_CASE("e2e E04 mq pub exits 69 when the broker never sends CONNACK") {
    hostile_peer peer([](hostile_peer::connection& c) { c.expect(connect_type); });
    const auto t = run_timed({"pub", "-V", "5", "-p", peer.port_text(), "--connect-timeout", "500ms", "-t", "a",
                              "-m", "x"});
    check_exit(t, 69);
    CHECK(t.took < 5s);
    CHECK(t.r.err.find("CONNACK") != std::string::npos);
    peer.finish();
}

TEST_CASE("e2e mq pub -q 1 exits 76 on PUBACK 0x80 and 124 at -W when no PUBACK comes") {
    SUBCASE("PUBACK 0x80") {
        hostile_peer peer([](hostile_peer::connection& c) {
            if (!c.expect(connect_type) || !c.send(connack_v5_ok())) return;
            const auto p = c.expect(publish_type);
            if (!p || p->body.size() < 5) return;
            const std::size_t topic_len = std::size_t{p->body[0]} << 8 | p->body[1];
            c.send({0x40, 0x03, p->body[2 + topic_len], p->body[3 + topic_len], 0x80});
        });
        check_exit(pub(peer, {"-q", "1"}), 76);
        peer.finish();
    }
    SUBCASE("no PUBACK") {
        hostile_peer peer(connack_only(connack_v5_ok()));
        const auto t = pub(peer, {"-q", "1", "-W", "1s"});
        // 124 at the deadline, and stderr says what was left undone.
        CHECK_FALSE(t.r.timed_out);
        CHECK(t.r.exit_code == 124);
        CHECK(t.r.err.find("timed out after 1000 ms with 1 message(s) not acknowledged") != std::string::npos);
        CHECK(t.took < 5s);
        peer.finish();
    }
}

TEST_CASE("e2e mq rr exits 76 on a refused subscription and on DISCONNECT 0x80, 69 on a dropped connection") {
    const std::vector<std::string> rr{"rr", "-V", "5", "--connect-timeout", "5s", "-t", "req", "-e", "resp", "-m",
                                      "ping", "-W", "8s"};
    SUBCASE("SUBACK 0x80") {
        hostile_peer peer(subscribe_then(connack_v5_ok(), {0x80}));
        auto args = rr;
        args.insert(args.end(), {"-p", peer.port_text()});
        check_exit(run_timed(args), 76);
        peer.finish();
    }
    SUBCASE("DISCONNECT 0x80 after the request") {
        hostile_peer peer([](hostile_peer::connection& c) {
            if (!c.expect(connect_type) || !c.send(connack_v5_ok())) return;
            const auto sub = c.expect(subscribe_type);
            if (!sub || !c.send(suback_for(*sub, {0x00}))) return;
            if (c.expect(publish_type)) c.send({0xe0, 0x02, 0x80, 0x00});
        });
        auto args = rr;
        args.insert(args.end(), {"-p", peer.port_text()});
        check_exit(run_timed(args), 76);
        peer.finish();
    }
    SUBCASE("TCP closed after the SUBACK") {
        hostile_peer peer([](hostile_peer::connection& c) {
            if (!c.expect(connect_type) || !c.send(connack_v5_ok())) return;
            const auto sub = c.expect(subscribe_type);
            if (sub && c.send(suback_for(*sub, {0x00}))) c.close_now();
        });
        auto args = rr;
        args.insert(args.end(), {"-p", peer.port_text()});
        check_exit(run_timed(args), 69);
        peer.finish();
    }
}

TEST_CASE(
    "e2e E05 mq sub exits 76 with DISCONNECT 0x94 on a topic alias it never allowed, 0x82 on an unknown "
    "one") {
    {
        // Topic Alias Maximum 0 (our default): alias 1 on topic "a" is above it (MQTT-3.3.2-11).
        hostile_peer peer(subscribe_then(connack_v5_ok(), {0x00},
                                         {0x30, 0x08, 0x00, 0x01, 'a', 0x03, 0x23, 0x00, 0x01, 'x'}));
        const auto t = sub(peer);
        check_exit(t, 76);
        CHECK(t.r.out.empty());
        CHECK(hostile_peer::has_disconnect(peer.finish(), 0x94));
    }
    {
        // Alias 3 allowed but never set, with an empty topic: nothing to map it to.
        hostile_peer peer(
            subscribe_then(connack_v5_ok(), {0x00}, {0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x03, 'x'}));
        const auto t = sub(peer, {"--topic-alias-maximum", "5"});
        check_exit(t, 76);
        CHECK(t.r.out.empty());
        CHECK(hostile_peer::has_disconnect(peer.finish(), 0x82));
    }
}

TEST_CASE("e2e E07 mq sub exits 76 with DISCONNECT 0x93 on more QoS 2 in flight than its Receive Maximum") {
    // Three QoS 2 PUBLISHes (ids 1-3) and no PUBREL: the third is past --receive-maximum 2.
    byte_string flood;
    for (std::uint8_t id = 1; id <= 3; ++id) {
        const byte_string p{0x34, 0x07, 0x00, 0x01, 'a', 0x00, id, 0x00, 'x'};
        flood.insert(flood.end(), p.begin(), p.end());
    }
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x02}, flood));
    const auto t = sub(peer, {"-q", "2", "--receive-maximum", "2"});
    check_exit(t, 76);
    CHECK(hostile_peer::has_disconnect(peer.finish(), 0x93));
}

TEST_CASE(
    "e2e E09 a DISCONNECT Reason String with invalid UTF-8 is 76; one with escape sequences is printed "
    "escaped") {
    {
        // DISCONNECT 0x80, Reason String ff fe: malformed, the client exits 76 all the same.
        hostile_peer peer(
            subscribe_then(connack_v5_ok(), {0x00}, {0xe0, 0x07, 0x80, 0x05, 0x1f, 0x00, 0x02, 0xff, 0xfe}));
        check_exit(sub(peer), 76);
    }
    {
        // DISCONNECT 0x80, Reason String "ESC[2J gone": the broker's words reach stderr, not its escapes.
        hostile_peer peer(subscribe_then(
            connack_v5_ok(), {0x00},
            {0xe0, 0x0e, 0x80, 0x0c, 0x1f, 0x00, 0x09, 0x1b, '[', '2', 'J', ' ', 'g', 'o', 'n', 'e'}));
        const auto t = sub(peer);
        check_exit(t, 76);
        CHECK(t.r.err.find('\x1b') == std::string::npos);
        CHECK(t.r.err.find("[2J gone") != std::string::npos);
    }
}

TEST_CASE("e2e E08 mq sub answers PUBREL for an unknown id with PUBCOMP 0x92, ignores a stray PUBACK, runs on") {
    // After the SUBACK: PUBREL id 7 and PUBACK id 9 (neither id was ever used), then a
    // QoS 0 PUBLISH "x" on "a", which -C 1 must still print and end on.
    hostile_peer peer(subscribe_then(connack_v5_ok(), {0x01},
                                     {0x62, 0x02, 0x00, 0x07, 0x40, 0x02, 0x00, 0x09, 0x30, 0x05, 0x00, 0x01,
                                      'a', 0x00, 'x'}));
    const auto t = sub(peer, {"-q", "1", "-C", "1"});
    INFO("stderr: " << t.r.err);
    CHECK(t.r.exit_code == 0);
    CHECK(t.r.out == "x\n");
    const auto packets = peer.finish();
    bool pubcomp_92 = false;
    for (const auto& p : packets) {
        if (p.first == 0x70 && p.body.size() >= 3 && p.body[0] == 0x00 && p.body[1] == 0x07 && p.body[2] == 0x92) {
            pubcomp_92 = true;
        }
    }
    CHECK(pubcomp_92);  // 0x92 Packet Identifier not found (sec-3.7.2.1)
    CHECK_FALSE(hostile_peer::has_disconnect(packets, 0x82));
}
