// SPDX-License-Identifier: MIT
// mq pub / mq sub against Debian's mosquitto broker, with mosquitto_pub and
// mosquitto_sub on the other side: topics, QoS, retain flags and payload
// bytes must arrive exactly as sent, for MQTT 3.1.1 and 5.
#include <doctest/doctest.h>

#include <csignal>

#include "interop_fixture.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::interop;
using namespace std::chrono_literals;

namespace {

struct version {
    const char* mq;         // mq -V
    const char* mosquitto;  // mosquitto_* -V
};
constexpr version versions[] = {{"311", "mqttv311"}, {"5", "mqttv5"}};

std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_CASE("interop mq pub to mosquitto_sub through mosquitto for v311 and v5 at QoS 0 1 2") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    for (const auto& v : versions) {
        for (int q = 0; q <= 2; ++q) {
            CAPTURE(v.mq);
            CAPTURE(q);
            const std::string tag = std::string(v.mq) + "/" + std::to_string(q);
            const std::string data = "data/mqpub/" + tag, sync = "sync/mqpub/" + tag;
            process sub(mosquitto_sub_cmd(join(
                host_port(broker.port()),
                {"-V", v.mosquitto, "-q", std::to_string(q), "-F", line_format, "-t", data, "-t", sync})));
            REQUIRE(sync_subscriber(sub, mq_cmd(join({"pub", "-V", v.mq}, host_port(broker.port()))), sync));
            const std::string payload = "payload v" + tag;
            const auto pub =
                run(mq_cmd(join({"pub", "-V", v.mq, "-q", std::to_string(q), "-t", data, "-m", payload},
                                host_port(broker.port()))));
            CHECK_MESSAGE(pub.exit_code == 0, pub.err);
            const auto lines = read_lines(sub, 1, "sync/");
            REQUIRE(lines.size() == 1);
            CHECK(lines[0] == expected_line(data, q, false, payload));
        }
    }
}

TEST_CASE("interop mosquitto_pub to mq sub through mosquitto for v311 and v5 at QoS 0 1 2") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    for (const auto& v : versions) {
        for (int q = 0; q <= 2; ++q) {
            CAPTURE(v.mq);
            CAPTURE(q);
            const std::string tag = std::string(v.mq) + "/" + std::to_string(q);
            const std::string data = "data/mqsub/" + tag, sync = "sync/mqsub/" + tag;
            process sub(mq_cmd(
                join({"sub", "-V", v.mq, "-q", std::to_string(q), "-F", line_format, "-t", data, "-t", sync},
                     host_port(broker.port()))));
            REQUIRE(sync_subscriber(
                sub, mosquitto_pub_cmd(join({"-V", v.mosquitto}, host_port(broker.port()))), sync));
            const std::string payload = "payload v" + tag;
            CHECK(run(mosquitto_pub_cmd(
                          join({"-V", v.mosquitto, "-q", std::to_string(q), "-t", data, "-m", payload},
                               host_port(broker.port()))))
                      .exit_code == 0);
            const auto lines = read_lines(sub, 1, "sync/");
            REQUIRE(lines.size() == 1);
            CHECK(lines[0] == expected_line(data, q, false, payload));
            sub.signal(SIGINT);  // no goal: exit 0 after DISCONNECT
            const auto r = sub.wait(10s);
            CHECK_MESSAGE(r.exit_code == 0, r.err);
        }
    }
}

TEST_CASE("interop mq pub -r -f binary payload is retained byte-exact for mosquitto_sub") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    temp_dir dir;
    const std::string payload = binary_payload();
    write_binary(dir.file("payload.bin"), payload);
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string topic = std::string("data/retained/") + v.mq;
        const auto pub =
            run(mq_cmd(join({"pub", "-V", v.mq, "-q", "1", "-r", "-t", topic, "-f", dir.file("payload.bin")},
                            host_port(broker.port()))));
        REQUIRE_MESSAGE(pub.exit_code == 0, pub.err);
        // Raw output: the exact payload bytes and nothing else (-N: no newline).
        const auto raw = run(mosquitto_sub_cmd(
            join({"-V", v.mosquitto, "-C", "1", "-N", "-W", "10", "-t", topic}, host_port(broker.port()))));
        CHECK(raw.exit_code == 0);
        CHECK(raw.out.size() == payload.size());
        CHECK(hex(raw.out) == hex(payload));
        const auto flags = run(mosquitto_sub_cmd(
            join({"-V", v.mosquitto, "-q", "1", "-C", "1", "-W", "10", "-F", line_format, "-t", topic},
                 host_port(broker.port()))));
        CHECK(flags.exit_code == 0);
        CHECK(flags.out == expected_line(topic, 1, true, payload) + "\n");
    }
}

TEST_CASE("interop mq pub -f binary payload at QoS 2 arrives live byte-exact at mosquitto_sub") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    temp_dir dir;
    const std::string payload = binary_payload();
    write_binary(dir.file("payload.bin"), payload);
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string data = std::string("data/bin/") + v.mq, sync = std::string("sync/bin/") + v.mq;
        process sub(mosquitto_sub_cmd(join(host_port(broker.port()), {"-V", v.mosquitto, "-q", "2", "-F",
                                                                      line_format, "-t", data, "-t", sync})));
        REQUIRE(sync_subscriber(sub, mq_cmd(join({"pub", "-V", v.mq}, host_port(broker.port()))), sync));
        const auto pub =
            run(mq_cmd(join({"pub", "-V", v.mq, "-q", "2", "-t", data, "-f", dir.file("payload.bin")},
                            host_port(broker.port()))));
        CHECK_MESSAGE(pub.exit_code == 0, pub.err);
        const auto lines = read_lines(sub, 1, "sync/");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0] == expected_line(data, 2, false, payload));
    }
}

TEST_CASE("interop mosquitto_pub -r -f binary payload reaches mq sub byte-exact and mq sub -R skips it") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    temp_dir dir;
    const std::string payload = binary_payload();
    write_binary(dir.file("payload.bin"), payload);
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string topic = std::string("data/retained/") + v.mq,
                          sync = std::string("sync/retained/") + v.mq;
        REQUIRE(run(mosquitto_pub_cmd(
                        join({"-V", v.mosquitto, "-q", "1", "-r", "-t", topic, "-f", dir.file("payload.bin")},
                             host_port(broker.port()))))
                    .exit_code == 0);
        const auto raw = run(mq_cmd(
            join({"sub", "-V", v.mq, "-C", "1", "-N", "-W", "10s", "-t", topic}, host_port(broker.port()))));
        CHECK_MESSAGE(raw.exit_code == 0, raw.err);
        CHECK(raw.out.size() == payload.size());
        CHECK(hex(raw.out) == hex(payload));
        const auto flags = run(mq_cmd(
            join({"sub", "-V", v.mq, "-q", "1", "-C", "1", "-W", "10s", "-F", line_format, "-t", topic},
                 host_port(broker.port()))));
        CHECK_MESSAGE(flags.exit_code == 0, flags.err);
        CHECK(flags.out == expected_line(topic, 1, true, payload) + "\n");

        // -R: the retained message is not printed, a live one is.
        process sub(mq_cmd(join({"sub", "-V", v.mq, "-R", "-F", line_format, "-t", topic, "-t", sync},
                                host_port(broker.port()))));
        std::vector<std::string> before_sync;
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(join({"-V", v.mosquitto}, host_port(broker.port()))),
                                sync, &before_sync));
        CHECK(before_sync.empty());
        CHECK(run(mosquitto_pub_cmd(
                      join({"-V", v.mosquitto, "-t", topic, "-m", "live"}, host_port(broker.port()))))
                  .exit_code == 0);
        const auto lines = read_lines(sub, 1, "sync/");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0] == expected_line(topic, 0, false, "live"));
        sub.signal(SIGINT);
        CHECK(sub.wait(10s).exit_code == 0);
    }
}

TEST_CASE("interop will of a SIGKILLed mq sub is published by mosquitto") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string will = std::string("data/will/") + v.mq, sync = std::string("sync/will/") + v.mq;
        const auto mosq_pub = mosquitto_pub_cmd(join({"-V", v.mosquitto}, host_port(broker.port())));
        process watcher(
            mosquitto_sub_cmd(join(host_port(broker.port()), {"-V", v.mosquitto, "-q", "1", "-F", line_format,
                                                              "-t", will, "-t", sync})));
        REQUIRE(sync_subscriber(watcher, mosq_pub, sync));
        const std::string payload = std::string("gone ") + v.mq;
        process victim(mq_cmd(join({"sub", "-V", v.mq, "--will-topic", will, "--will-payload", payload,
                                    "--will-qos", "1", "-F", line_format, "-t", sync + "/victim"},
                                   host_port(broker.port()))));
        REQUIRE(sync_subscriber(victim, mosq_pub, sync + "/victim"));
        CHECK(read_lines(watcher, 1, "sync/", 300ms).empty());  // no will while it lives
        victim.signal(SIGKILL);
        CHECK(victim.wait(10s).exit_code == 128 + SIGKILL);
        const auto lines = read_lines(watcher, 1, "sync/");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0] == expected_line(will, 1, false, payload));
    }
}

TEST_CASE("interop will of a SIGKILLed mosquitto_sub reaches mq sub") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string will = std::string("data/will2/") + v.mq, sync = std::string("sync/will2/") + v.mq;
        const auto mosq_pub = mosquitto_pub_cmd(join({"-V", v.mosquitto}, host_port(broker.port())));
        process watcher(mq_cmd(join({"sub", "-V", v.mq, "-q", "2", "-F", line_format, "-t", will, "-t", sync},
                                    host_port(broker.port()))));
        REQUIRE(sync_subscriber(watcher, mosq_pub, sync));
        const std::string payload = std::string("bye ") + v.mq;
        process victim(mosquitto_sub_cmd(join(
            host_port(broker.port()), {"-V", v.mosquitto, "--will-topic", will, "--will-payload", payload,
                                       "--will-qos", "2", "-F", line_format, "-t", sync + "/victim"})));
        REQUIRE(sync_subscriber(victim, mosq_pub, sync + "/victim"));
        victim.signal(SIGKILL);
        CHECK(victim.wait(10s).exit_code == 128 + SIGKILL);
        const auto lines = read_lines(watcher, 1, "sync/");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0] == expected_line(will, 2, false, payload));
        watcher.signal(SIGINT);
        CHECK(watcher.wait(10s).exit_code == 0);
    }
}
