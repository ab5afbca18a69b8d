// SPDX-License-Identifier: MIT
// Persistent sessions, ordering, large payloads and wildcard matching between
// mq and Debian's mosquitto broker and clients.
#include <doctest/doctest.h>

#include <csignal>
#include <memory>

#include "interop_fixture.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::interop;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

struct version {
    const char* mq;
    const char* mosquitto;
};
constexpr version versions[] = {{"311", "mqttv311"}, {"5", "mqttv5"}};

// Fewer than either broker's default queue limit (1000), so none may be dropped.
constexpr int order_count = 500;

std::string numbered_lines(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "line " + std::to_string(i) + "\n";
    return s;
}

std::string large_payload(std::size_t size) {
    std::string p(size, '\0');
    for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<char>((i * 7919u + i / 251u) & 0xffu);
    return p;
}

}  // namespace

TEST_CASE(
    "interop mq broker keeps a mosquitto_sub persistent session and delivers queued QoS 1 and 2 messages") {
    mq_broker broker;
    const auto hp = host_port(broker.port());
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string id = std::string("persist-") + v.mq, topic = std::string("data/persist/") + v.mq;
        // -c: clean session 0 / session expiry "never" on v5; -E: DISCONNECT after SUBACK.
        const auto first = run(
            mosquitto_sub_cmd(join({"-V", v.mosquitto, "-c", "-i", id, "-q", "2", "-E", "-t", topic}, hp)));
        REQUIRE(first.exit_code == 0);
        REQUIRE(
            run(mosquitto_pub_cmd(join({"-V", v.mosquitto, "-q", "1", "-t", topic, "-m", "queued 1"}, hp)))
                .exit_code == 0);
        REQUIRE(
            run(mosquitto_pub_cmd(join({"-V", v.mosquitto, "-q", "2", "-t", topic, "-m", "queued 2"}, hp)))
                .exit_code == 0);
        const auto resumed = run(mosquitto_sub_cmd(join({"-V", v.mosquitto, "-c", "-i", id, "-q", "2", "-C",
                                                         "2", "-W", "10", "-F", line_format, "-t", topic},
                                                        hp)));
        CHECK(resumed.exit_code == 0);
        CHECK(resumed.out == expected_line(topic, 1, false, "queued 1") + "\n" +
                                 expected_line(topic, 2, false, "queued 2") + "\n");
    }
}

TEST_CASE("interop mq sub -c resumes its session in mosquitto and receives messages queued while offline") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    const auto hp = host_port(broker.port());
    for (const auto& v : versions) {
        CAPTURE(v.mq);
        const std::string id = std::string("mqpersist-") + v.mq, topic = std::string("data/persist/") + v.mq;
        const std::vector<std::string> session = {"-V", v.mq, "-c", "-i", id, "-q", "2", "-t", topic};
        auto with_expiry = [&](std::vector<std::string> args) {
            if (std::string(v.mq) == "5")
                args.insert(args.end(), {"-x", "300"});  // v5: expiry 0 ends it at disconnect
            return args;
        };
        const auto first = run(mq_cmd(join(with_expiry(join({"sub"}, session)), join({"-E"}, hp))));
        REQUIRE_MESSAGE(first.exit_code == 0, first.err);
        REQUIRE(
            run(mosquitto_pub_cmd(join({"-V", v.mosquitto, "-q", "1", "-t", topic, "-m", "queued 1"}, hp)))
                .exit_code == 0);
        REQUIRE(
            run(mosquitto_pub_cmd(join({"-V", v.mosquitto, "-q", "2", "-t", topic, "-m", "queued 2"}, hp)))
                .exit_code == 0);
        const auto resumed = run(mq_cmd(join(with_expiry(join({"sub"}, session)),
                                             join({"-C", "2", "-W", "10s", "-F", line_format}, hp))));
        CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
        CHECK(resumed.out == expected_line(topic, 1, false, "queued 1") + "\n" +
                                 expected_line(topic, 2, false, "queued 2") + "\n");
    }
}

TEST_CASE("interop mq pub -l keeps message order at QoS 1 and 2 through mosquitto") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    const auto hp = host_port(broker.port());
    for (const char* q : {"1", "2"}) {
        CAPTURE(q);
        const std::string topic = std::string("data/order/") + q, sync = std::string("sync/order/") + q;
        process sub(mosquitto_sub_cmd(join(hp, {"-q", q, "-F", "%t %p", "-t", topic, "-t", sync})));
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(hp), sync));
        const auto pub = run_process_io(mq_cmd(join({"pub", "-q", q, "-t", topic, "-l"}, hp)),
                                        numbered_lines(order_count), 20s);
        CHECK_MESSAGE(pub.exit_code == 0, pub.err);
        const auto lines = read_lines(sub, order_count, "sync/");
        REQUIRE(lines.size() == order_count);
        for (int i = 0; i < order_count; ++i)
            CHECK(lines[static_cast<std::size_t>(i)] == topic + " line " + std::to_string(i));
    }
}

TEST_CASE("interop mosquitto_pub -l keeps message order at QoS 1 and 2 through mq broker") {
    mq_broker broker;
    const auto hp = host_port(broker.port());
    for (const char* q : {"1", "2"}) {
        CAPTURE(q);
        const std::string topic = std::string("data/order/") + q, sync = std::string("sync/order/") + q;
        process sub(mosquitto_sub_cmd(join(hp, {"-q", q, "-F", "%t %p", "-t", topic, "-t", sync})));
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(hp), sync));
        const auto pub = run_process_io(mosquitto_pub_cmd(join({"-q", q, "-t", topic, "-l"}, hp)),
                                        numbered_lines(order_count), 20s);
        CHECK(pub.exit_code == 0);
        const auto lines = read_lines(sub, order_count, "sync/");
        REQUIRE(lines.size() == order_count);
        for (int i = 0; i < order_count; ++i)
            CHECK(lines[static_cast<std::size_t>(i)] == topic + " line " + std::to_string(i));
    }
}

TEST_CASE(
    "interop large binary payloads arrive byte-exact: mq pub via mosquitto and mosquitto_pub via mq broker") {
    temp_dir dir;
    const std::string payload = large_payload(600 * 1024);  // under mq broker's 1 MiB default packet limit
    write_binary(dir.file("large.bin"), payload);
    SUBCASE("mq pub to mosquitto") {
        REQUIRE(mosquitto_fixture::available());
        mosquitto_fixture broker;
        const auto hp = host_port(broker.port());
        REQUIRE(
            run(mq_cmd(join({"pub", "-q", "1", "-r", "-t", "data/large", "-f", dir.file("large.bin")}, hp)))
                .exit_code == 0);
        const auto got = run(mosquitto_sub_cmd(join({"-C", "1", "-N", "-W", "10", "-t", "data/large"}, hp)));
        CHECK(got.exit_code == 0);
        CHECK(got.out.size() == payload.size());
        CHECK(got.out == payload);
    }
    SUBCASE("mosquitto_pub to mq broker") {
        mq_broker broker;
        const auto hp = host_port(broker.port());
        REQUIRE(run(mosquitto_pub_cmd(
                        join({"-q", "2", "-r", "-t", "data/large", "-f", dir.file("large.bin")}, hp)))
                    .exit_code == 0);
        const auto got = run(mosquitto_sub_cmd(join({"-C", "1", "-N", "-W", "10", "-t", "data/large"}, hp)));
        CHECK(got.exit_code == 0);
        CHECK(got.out.size() == payload.size());
        CHECK(got.out == payload);
        const auto mq_got = run(mq_cmd(join({"sub", "-C", "1", "-N", "-W", "10s", "-t", "data/large"}, hp)));
        CHECK_MESSAGE(mq_got.exit_code == 0, mq_got.err);
        CHECK(mq_got.out == payload);
    }
}

TEST_CASE(
    "interop mq broker matches + and # filters with UTF-8 levels like mosquitto MQTT-4.7.1-2 MQTT-4.7.1-3") {
    for (const bool use_mq : {true, false}) {
        CAPTURE(use_mq);
        std::unique_ptr<mq_broker> mq;
        std::unique_ptr<mosquitto_fixture> mosq;
        if (use_mq)
            mq = std::make_unique<mq_broker>();
        else
            mosq = std::make_unique<mosquitto_fixture>();
        const auto hp = host_port(use_mq ? mq->port() : mosq->port());
        process sub(
            mosquitto_sub_cmd(join(hp, {"-V", "mqttv5", "-F", "%t", "-t", "wc/+/ü/#", "-t", "sync/wc"})));
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(hp), "sync/wc"));
        for (const char* t :
             {"wc/a/ü", "wc/a/b/ü", "wc/ü", "wc//ü/x/y", "wc/a/ü/", "wc/a/u/x", "wc/a/ü/b c/d"}) {
            REQUIRE(run(mosquitto_pub_cmd(join({"-q", "1", "-t", t, "-m", "x"}, hp))).exit_code == 0);
        }
        std::vector<std::string> got;
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(hp), "sync/wc", &got));
        // # also matches the parent level; + matches an empty level.
        CHECK(got == std::vector<std::string>{"wc/a/ü", "wc//ü/x/y", "wc/a/ü/", "wc/a/ü/b c/d"});
    }
}
