// SPDX-License-Identifier: MIT
// MQTT 5 publish properties and subscription options between mq and Debian's
// mosquitto (broker and clients), in both directions.
#include <doctest/doctest.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include "interop_fixture.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::interop;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// mosquitto_sub -F: content type | response topic | correlation data (raw) |
// expiry | payload format | user properties | payload hex.
constexpr const char* property_format = "%C|%R|%D|%E|%F|%P|%x";

// The same message, spelled for mq pub and for mosquitto_pub.
const std::vector<std::string> mq_pub_properties = {
    "--content-type",   "text/plain", "--response-topic", "reply/to", "--correlation-data", "hex:00ff41",
    "--message-expiry", "3600",       "--payload-format", "1",        "--user-property",    "k=v",
    "--user-property",  "k=w=x"};
const std::vector<std::string> mosquitto_pub_properties = {"-D",
                                                           "publish",
                                                           "content-type",
                                                           "text/plain",
                                                           "-D",
                                                           "publish",
                                                           "response-topic",
                                                           "reply/to",
                                                           "-D",
                                                           "publish",
                                                           "correlation-data",
                                                           std::string("\x01\xff"
                                                                       "A",
                                                                       3),
                                                           "-D",
                                                           "publish",
                                                           "message-expiry-interval",
                                                           "3600",
                                                           "-D",
                                                           "publish",
                                                           "payload-format-indicator",
                                                           "1",
                                                           "-D",
                                                           "publish",
                                                           "user-property",
                                                           "k",
                                                           "v",
                                                           "-D",
                                                           "publish",
                                                           "user-property",
                                                           "k",
                                                           "w=x"};

// What mosquitto_sub prints for the message above, given its correlation data.
std::string property_line(const std::string& correlation, const std::string& payload) {
    return "text/plain|reply/to|" + correlation + "|3600|1|k:v k:w=x|" + hex(payload);
}

// Subscribes a mosquitto_sub with property_format, publishes with `publish`
// and returns the first data line.
std::string through(std::uint16_t port, const std::string& topic, const std::vector<std::string>& publish) {
    const std::string sync = "sync/" + topic;
    process sub(mosquitto_sub_cmd(join(
        host_port(port),
        {"-V", "mqttv5", "-q", "1", "-F", std::string("%t ") + property_format, "-t", topic, "-t", sync})));
    if (!sync_subscriber(sub, mosquitto_pub_cmd(join({"-V", "mqttv5"}, host_port(port))), sync))
        return "no SUBACK";
    const auto pub = run(publish);
    if (pub.exit_code != 0) return "publisher exit " + std::to_string(pub.exit_code) + ": " + pub.err;
    const auto lines = read_lines(sub, 1, "sync/");
    if (lines.empty()) return "nothing received";
    const std::string prefix = topic + " ";
    return lines[0].rfind(prefix, 0) == 0 ? lines[0].substr(prefix.size()) : lines[0];
}

}  // namespace

TEST_CASE("interop mq pub v5 properties reach mosquitto_sub through mosquitto") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    const auto got =
        through(broker.port(), "props/mqpub",
                mq_cmd(join(join({"pub", "-q", "1", "-t", "props/mqpub", "-m", "hi"}, mq_pub_properties),
                            host_port(broker.port()))));
    CHECK(got == property_line(std::string("\0\xff"
                                           "A",
                                           3),
                               "hi"));
}

TEST_CASE("interop mosquitto_pub v5 properties reach mq sub --json through mosquitto") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    process sub(mq_cmd(
        join({"sub", "-q", "2", "--json", "-t", "props/json", "-t", "sync/json"}, host_port(broker.port()))));
    const auto mosq = mosquitto_pub_cmd(join({"-V", "mqttv5"}, host_port(broker.port())));
    REQUIRE(sync_subscriber(sub, mosq, "sync/json"));
    CHECK(run(join(join(mosq, {"-q", "2", "-t", "props/json", "-m", "hi"}), mosquitto_pub_properties))
              .exit_code == 0);
    json record;
    for (const auto& line : read_lines(sub, 3, "")) {
        const auto j = json::parse(line);
        if (j["topic"] == "props/json") {
            record = j;
            break;
        }
    }
    REQUIRE(record.is_object());
    CHECK(record["qos"] == 2);
    CHECK(record["retain"] == false);
    CHECK(record["payload"] == "hi");
    CHECK(record["properties"] == json::parse(R"({"payload_format_indicator":1,"message_expiry_interval":3600,
        "content_type":"text/plain","response_topic":"reply/to","correlation_data":"Af9B",
        "user_properties":[["k","v"],["k","w=x"]]})"));
    sub.signal(SIGINT);
    CHECK(sub.wait(10s).exit_code == 0);
}

TEST_CASE("interop mq broker forwards v5 properties from mosquitto_pub and mq pub intact") {
    mq_broker broker;
    const auto from_mosquitto =
        through(broker.port(), "props/broker1",
                join(mosquitto_pub_cmd(join({"-V", "mqttv5", "-q", "1", "-t", "props/broker1", "-m", "yo"},
                                            host_port(broker.port()))),
                     mosquitto_pub_properties));
    CHECK(from_mosquitto == property_line(std::string("\x01\xff"
                                                      "A",
                                                      3),
                                          "yo"));
    const auto from_mq =
        through(broker.port(), "props/broker2",
                mq_cmd(join(join({"pub", "-q", "2", "-t", "props/broker2", "-m", "yo"}, mq_pub_properties),
                            host_port(broker.port()))));
    CHECK(from_mq == property_line(std::string("\0\xff"
                                               "A",
                                               3),
                                   "yo"));
}

TEST_CASE("interop mq sub retain handling 2 and retain as published against mosquitto") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    const auto hp = host_port(broker.port());
    const auto mosq = mosquitto_pub_cmd(join({"-V", "mqttv5"}, hp));
    REQUIRE(run(join(mosq, {"-q", "1", "-r", "-t", "opts/r", "-m", "old"})).exit_code == 0);

    process rh2(mq_cmd(join(
        {"sub", "--retain-handling", "2", "-q", "1", "-F", line_format, "-t", "opts/r", "-t", "sync/rh2"},
        hp)));
    process rap(mq_cmd(
        join({"sub", "--retain-as-published", "-q", "1", "-F", line_format, "-t", "opts/r", "-t", "sync/rap"},
             hp)));
    process plain(
        mq_cmd(join({"sub", "-q", "1", "-F", line_format, "-t", "opts/r", "-t", "sync/plain"}, hp)));
    std::vector<std::string> rh2_seen, rap_seen, plain_seen;
    REQUIRE(sync_subscriber(rh2, mosq, "sync/rh2", &rh2_seen));
    REQUIRE(sync_subscriber(rap, mosq, "sync/rap", &rap_seen));
    REQUIRE(sync_subscriber(plain, mosq, "sync/plain", &plain_seen));
    CHECK(rh2_seen.empty());  // [MQTT-3.3.1-11]
    CHECK(rap_seen == std::vector<std::string>{expected_line("opts/r", 1, true, "old")});
    CHECK(plain_seen == std::vector<std::string>{expected_line("opts/r", 1, true, "old")});

    // A live retained publish keeps retain=1 only with Retain As Published [MQTT-3.3.1-12] [MQTT-3.3.1-13].
    REQUIRE(run(join(mosq, {"-q", "1", "-r", "-t", "opts/r", "-m", "new"})).exit_code == 0);
    CHECK(read_lines(rh2, 1, "sync/") == std::vector<std::string>{expected_line("opts/r", 1, false, "new")});
    CHECK(read_lines(rap, 1, "sync/") == std::vector<std::string>{expected_line("opts/r", 1, true, "new")});
    CHECK(read_lines(plain, 1, "sync/") ==
          std::vector<std::string>{expected_line("opts/r", 1, false, "new")});
    for (auto* p : {&rh2, &rap, &plain}) {
        p->signal(SIGINT);
        CHECK(p->wait(10s).exit_code == 0);
    }
}

TEST_CASE("interop subscription identifiers: mosquitto_sub via mq broker and mq sub --sub-id via mosquitto") {
    SUBCASE("mosquitto_sub -D subscribe subscription-identifier through mq broker") {
        mq_broker broker;
        const auto hp = host_port(broker.port());
        process sub(mosquitto_sub_cmd(join(hp, {"-V", "mqttv5", "-D", "subscribe", "subscription-identifier",
                                                "7", "-F", "%t %S", "-t", "sid/+", "-t", "sync/sid"})));
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(hp), "sync/sid"));
        REQUIRE(run(mosquitto_pub_cmd(join({"-t", "sid/x", "-m", "a"}, hp))).exit_code == 0);
        CHECK(read_lines(sub, 1, "sync/") == std::vector<std::string>{"sid/x 7"});  // [MQTT-3.3.4-3]
    }
    SUBCASE("mq sub --sub-id through mosquitto") {
        REQUIRE(mosquitto_fixture::available());
        mosquitto_fixture broker;
        const auto hp = host_port(broker.port());
        process sub(mq_cmd(join({"sub", "--sub-id", "9", "--json", "-t", "sid/+", "-t", "sync/sid"}, hp)));
        REQUIRE(sync_subscriber(sub, mosquitto_pub_cmd(hp), "sync/sid"));
        REQUIRE(run(mosquitto_pub_cmd(join({"-V", "mqttv5", "-t", "sid/y", "-m", "b"}, hp))).exit_code == 0);
        json record;
        for (const auto& line : read_lines(sub, 3, "")) {
            const auto j = json::parse(line);
            if (j["topic"] == "sid/y") {
                record = j;
                break;
            }
        }
        REQUIRE(record.is_object());
        CHECK(record["subscription_ids"] == json::parse("[9]"));
        CHECK(record["filters"] == json::parse(R"(["sid/+"])"));
        sub.signal(SIGINT);
        CHECK(sub.wait(10s).exit_code == 0);
    }
}
