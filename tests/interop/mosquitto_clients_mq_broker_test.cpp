// SPDX-License-Identifier: MIT
// Debian's mosquitto_pub and mosquitto_sub against `mq broker`: the same
// matrix as against mosquitto, plus retained clear, $SYS isolation and shared
// subscriptions.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <set>

#include "interop_fixture.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::interop;
using namespace std::chrono_literals;

namespace {

constexpr const char* mosquitto_versions[] = {"mqttv311", "mqttv5"};

std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_CASE("interop mosquitto_pub to mosquitto_sub through mq broker for v311 and v5 at QoS 0 1 2") {
    mq_broker broker;
    for (const char* v : mosquitto_versions) {
        for (int q = 0; q <= 2; ++q) {
            CAPTURE(v);
            CAPTURE(q);
            const std::string tag = std::string(v) + "/" + std::to_string(q);
            const std::string data = "data/matrix/" + tag, sync = "sync/matrix/" + tag;
            process sub(
                mosquitto_sub_cmd(join(host_port(broker.port()), {"-V", v, "-q", std::to_string(q), "-F",
                                                                  line_format, "-t", data, "-t", sync})));
            REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(join({"-V", v}, host_port(broker.port()))), sync));
            // Published at QoS 2, delivered at the subscription's QoS [MQTT-3.8.4-8].
            const std::string payload = "m " + tag;
            CHECK(run(mosquitto_pub_cmd(
                          join({"-V", v, "-q", "2", "-t", data, "-m", payload}, host_port(broker.port()))))
                      .exit_code == 0);
            // And at the publish QoS when it is lower.
            CHECK(run(mosquitto_pub_cmd(
                          join({"-V", v, "-q", std::to_string(q), "-t", data, "-m", payload + "/same"},
                               host_port(broker.port()))))
                      .exit_code == 0);
            const auto lines = read_lines(sub, 2, "sync/");
            REQUIRE(lines.size() == 2);
            CHECK(lines[0] == expected_line(data, q, false, payload));
            CHECK(lines[1] == expected_line(data, q, false, payload + "/same"));
        }
    }
}

TEST_CASE("interop mosquitto_pub -r sets and -r -n clears a retained message in mq broker") {
    mq_broker broker;
    temp_dir dir;
    const std::string payload = binary_payload();
    write_binary(dir.file("payload.bin"), payload);
    for (const char* v : mosquitto_versions) {
        CAPTURE(v);
        const std::string topic = std::string("data/ret/") + v, sync = std::string("sync/ret/") + v;
        const auto hp = host_port(broker.port());
        REQUIRE(run(mosquitto_pub_cmd(
                        join({"-V", v, "-q", "1", "-r", "-t", topic, "-f", dir.file("payload.bin")}, hp)))
                    .exit_code == 0);
        const auto raw =
            run(mosquitto_sub_cmd(join({"-V", v, "-C", "1", "-N", "-W", "10", "-t", topic}, hp)));
        CHECK(raw.exit_code == 0);
        CHECK(hex(raw.out) == hex(payload));
        const auto flags = run(mosquitto_sub_cmd(
            join({"-V", v, "-q", "2", "-C", "1", "-W", "10", "-F", line_format, "-t", topic}, hp)));
        CHECK(flags.exit_code == 0);
        // Stored at QoS 1, delivered at min(1, 2) with the retain flag set.
        CHECK(flags.out == expected_line(topic, 1, true, payload) + "\n");

        // A zero-length retained message removes it [MQTT-3.3.1-6] and is not stored [MQTT-3.3.1-7].
        REQUIRE(run(mosquitto_pub_cmd(join({"-V", v, "-q", "1", "-r", "-n", "-t", topic}, hp))).exit_code ==
                0);
        process sub(mosquitto_sub_cmd(join(hp, {"-V", v, "-F", line_format, "-t", topic, "-t", sync})));
        std::vector<std::string> before_sync;
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(join({"-V", v}, hp)), sync, &before_sync));
        CHECK(before_sync.empty());
    }
}

TEST_CASE("interop will of a SIGKILLed mosquitto_sub is published by mq broker") {
    mq_broker broker;
    for (const char* v : mosquitto_versions) {
        CAPTURE(v);
        const std::string will = std::string("data/will/") + v, sync = std::string("sync/will/") + v;
        const auto hp = host_port(broker.port());
        const auto pub = mosquitto_pub_cmd(join({"-V", v}, hp));
        process watcher(
            mosquitto_sub_cmd(join(hp, {"-V", v, "-q", "2", "-F", line_format, "-t", will, "-t", sync})));
        REQUIRE(sync_subscriber(watcher, pub, sync));
        const std::string payload = std::string("will of ") + v;
        process victim(
            mosquitto_sub_cmd(join(hp, {"-V", v, "--will-topic", will, "--will-payload", payload,
                                        "--will-qos", "1", "-F", line_format, "-t", sync + "/victim"})));
        REQUIRE(sync_subscriber(victim, pub, sync + "/victim"));
        CHECK(read_lines(watcher, 1, "sync/", 300ms).empty());
        victim.signal(SIGKILL);
        CHECK(victim.wait(10s).exit_code == 128 + SIGKILL);
        const auto lines = read_lines(watcher, 1, "sync/");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0] == expected_line(will, 1, false, payload));
    }
}

TEST_CASE(
    "interop will is not published by mq broker after a normal mosquitto_sub disconnect MQTT-3.1.2-10") {
    mq_broker broker;
    const auto hp = host_port(broker.port());
    const auto pub = mosquitto_pub_cmd(join({"-V", "mqttv311"}, hp));
    process watcher(mosquitto_sub_cmd(
        join(hp, {"-V", "mqttv311", "-F", line_format, "-t", "data/will/normal", "-t", "sync/normal"})));
    REQUIRE(sync_subscriber(watcher, pub, "sync/normal"));
    // -C 1 ends with DISCONNECT after the first message: the will is discarded.
    process victim(
        mosquitto_sub_cmd(join(hp, {"-V", "mqttv311", "--will-topic", "data/will/normal", "--will-payload",
                                    "x", "-C", "1", "-F", line_format, "-t", "sync/normal/victim"})));
    REQUIRE(sync_subscriber(victim, pub, "sync/normal/victim"));
    CHECK(victim.wait(10s).exit_code == 0);
    std::vector<std::string> seen;
    REQUIRE(sync_subscriber(watcher, pub, "sync/normal", &seen));
    CHECK(seen.empty());
}

TEST_CASE("interop mosquitto_sub on # does not receive $SYS topics from mq broker MQTT-4.7.2-1") {
    mq_broker broker;
    const auto hp = host_port(broker.port());
    process all(mosquitto_sub_cmd(join(hp, {"-V", "mqttv5", "-F", "%t", "-t", "#"})));
    // The broker publishes $SYS/broker/... (retained) at least every 10 s.
    const auto sys =
        run(mosquitto_sub_cmd(join({"-V", "mqttv5", "-C", "1", "-W", "15", "-F", "%t", "-t", "$SYS/#"}, hp)),
            20s);
    REQUIRE_MESSAGE(sys.exit_code == 0, "no $SYS message from mq broker within 15 s (mosquitto_sub exit ",
                    sys.exit_code, ")");
    CHECK(sys.out.rfind("$SYS/broker/", 0) == 0);
    std::vector<std::string> seen;
    REQUIRE(sync_subscriber(all, mosquitto_pub_cmd(hp), "sync/sys", &seen));
    for (const auto& topic : seen) CHECK(topic.rfind("$", 0) != 0);
    // A later subscriber to # gets no retained $SYS message either.
    process late(mosquitto_sub_cmd(join(hp, {"-V", "mqttv311", "-F", "%t", "-t", "#"})));
    std::vector<std::string> late_seen;
    REQUIRE(sync_subscriber(late, mosquitto_pub_cmd(hp), "sync/sys2", &late_seen));
    for (const auto& topic : late_seen) CHECK(topic.rfind("$", 0) != 0);
}

TEST_CASE("interop shared subscription in mq broker splits messages between two mosquitto_sub members") {
    mq_broker broker;
    const auto hp = host_port(broker.port());
    const auto pub = mosquitto_pub_cmd(join({"-V", "mqttv5"}, hp));
    process a(mosquitto_sub_cmd(join(
        hp, {"-V", "mqttv5", "-q", "1", "-F", line_format, "-t", "$share/g/data/shared", "-t", "sync/a"})));
    process b(mosquitto_sub_cmd(join(
        hp, {"-V", "mqttv5", "-q", "1", "-F", line_format, "-t", "$share/g/data/shared", "-t", "sync/b"})));
    REQUIRE(sync_subscriber(a, pub, "sync/a"));
    REQUIRE(sync_subscriber(b, pub, "sync/b"));
    constexpr int count = 20;
    std::string input;
    for (int i = 0; i < count; ++i) input += "s" + std::to_string(i) + "\n";
    const auto sent = run_process_io(
        mosquitto_pub_cmd(join({"-V", "mqttv5", "-q", "1", "-t", "data/shared", "-l"}, hp)), input, 20s);
    REQUIRE(sent.exit_code == 0);
    // Each message goes to exactly one member of the group; read until all arrived.
    std::vector<std::string> got_a, got_b;
    for (int round = 0; round < 50 && got_a.size() + got_b.size() < count; ++round) {
        for (auto& l : read_lines(a, count, "sync/", 100ms)) got_a.push_back(l);
        for (auto& l : read_lines(b, count, "sync/", 100ms)) got_b.push_back(l);
    }
    CHECK(!got_a.empty());
    CHECK(!got_b.empty());
    std::multiset<std::string> all(got_a.begin(), got_a.end());
    all.insert(got_b.begin(), got_b.end());
    std::multiset<std::string> want;
    for (int i = 0; i < count; ++i)
        want.insert(expected_line("data/shared", 1, false, "s" + std::to_string(i)));
    CHECK(all == want);
    // A non-shared subscriber on the same topic still gets every message.
    process plain(mosquitto_sub_cmd(
        join(hp, {"-V", "mqttv5", "-F", line_format, "-t", "data/shared", "-t", "sync/plain"})));
    REQUIRE(sync_subscriber(plain, pub, "sync/plain"));
    REQUIRE(run(mosquitto_pub_cmd(join({"-V", "mqttv5", "-t", "data/shared", "-m", "one"}, hp))).exit_code ==
            0);
    const auto plain_lines = read_lines(plain, 1, "sync/");
    REQUIRE(plain_lines.size() == 1);
    CHECK(plain_lines[0] == expected_line("data/shared", 0, false, "one"));
}
