// SPDX-License-Identifier: MIT
// mq pub / mq sub against a real broker: stdout bytes and exit codes.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Lines of `text` that do not mention the sync topic.
std::vector<std::string> data_lines(const std::string& text, const std::string& sync) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        if (!line.empty() && line.find(sync) == std::string::npos) out.push_back(line);
        pos = nl + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("e2e pub sub round trip of JSON messages with QoS 1 and 2") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    process sub(mq_cmd({"sub", "-p", broker.port_text(), "-t", "e2e/rt/#", "-q", "2", "--json"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/rt/sync"));
    CHECK(run_mq({"pub", "-p", broker.port_text(), "-t", "e2e/rt/a", "-q", "1", "-m", R"({"n":1})",
                  "--content-type", "application/json", "--user-property", "k=v", "--user-property", "k=w"})
              .exit_code == 0);
    CHECK(run_mq({"pub", "-p", broker.port_text(), "-t", "e2e/rt/b", "-q", "2", "-m", "two"}).exit_code == 0);
    const auto lines = read_data_lines(sub, 2, "e2e/rt/sync");
    REQUIRE(lines.size() == 2);
    const auto a = json::parse(lines[0]);
    CHECK(a["type"] == "message");
    CHECK(a["topic"] == "e2e/rt/a");
    CHECK(a["qos"] == 1);
    CHECK(a["payload"] == R"({"n":1})");
    CHECK(a["payload_encoding"] == "utf8");
    CHECK(a["properties"]["content_type"] == "application/json");
    CHECK(a["properties"]["user_properties"] == json::parse(R"([["k","v"],["k","w"]])"));
    CHECK(a["filters"] == json::parse(R"(["e2e/rt/#"])"));
    CHECK(a["ts"].get<std::string>().size() == 30);
    const auto b = json::parse(lines[1]);
    CHECK(b["topic"] == "e2e/rt/b");
    CHECK(b["qos"] == 2);
    CHECK(b["payload"] == "two");
    sub.signal(SIGINT);  // no goal: interrupted run exits 0
    CHECK(sub.wait(10s).exit_code == 0);
}

TEST_CASE("e2e sub -C exits 0 at the Nth message with byte-exact output") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/c/1", "-r", "-q", "1", "-m", "one"}).exit_code == 0);
    temp_dir dir;
    std::ofstream(dir.file("nul.bin"), std::ios::binary) << std::string("t\0o", 3);  // argv cannot carry NUL
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/c/2", "-r", "-q", "1", "-f", dir.file("nul.bin")}).exit_code == 0);
    auto r = run_mq({"sub", "-p", p, "-t", "e2e/c/1", "-t", "e2e/c/2", "-C", "2", "-F", "%t=%p|%l"}, {}, 10s);
    CHECK(r.exit_code == 0);
    auto lines = data_lines(r.out, "\x01");
    std::sort(lines.begin(), lines.end());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "e2e/c/1=one|3");
    CHECK(lines[1] == std::string("e2e/c/2=t\0o|3", 13));
    // -N and -0 change the delimiter only.
    r = run_mq({"sub", "-p", p, "-t", "e2e/c/1", "-C", "1", "-0"}, {}, 10s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::string("one\0", 4));
    r = run_mq({"sub", "-p", p, "-t", "e2e/c/1", "-C", "1", "-N", "-v"}, {}, 10s);
    CHECK(r.out == "e2e/c/1 one");
    // -R skips retained messages, so only -W ends this run.
    r = run_mq({"sub", "-p", p, "-t", "e2e/c/1", "-R", "-C", "1", "-W", "500ms"}, {}, 10s);
    CHECK(r.exit_code == 124);
    CHECK(r.out.empty());
    // Clean up the retained messages.
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/c/1", "-r", "-n", "-q", "1"}).exit_code == 0);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/c/2", "-r", "-n", "-q", "1"}).exit_code == 0);
}

TEST_CASE("e2e sub -W exits 124 and -E exits 0 after SUBACK") {
    e2e_broker broker;
    auto r = run_mq({"sub", "-p", broker.port_text(), "-t", "e2e/none", "-W", "300ms"}, {}, 10s);
    CHECK(r.exit_code == 124);
    CHECK(r.out.empty());
    r = run_mq({"sub", "-p", broker.port_text(), "-t", "e2e/none", "-E"}, {}, 10s);
    CHECK(r.exit_code == 0);
    r = run_mq({"sub", "-p", broker.port_text(), "-t", "e2e/none", "--wait-first", "200ms"}, {}, 10s);
    CHECK(r.exit_code == 124);
    r = run_mq({"sub", "-p", broker.port_text(), "-t", "e2e/none", "--duration", "200ms"}, {}, 10s);
    CHECK(r.exit_code == 0);
    r = run_mq({"sub", "-p", broker.port_text(), "-t", "e2e/none", "--idle-timeout", "200ms", "-C", "1"}, {}, 10s);
    CHECK(r.exit_code == 124);
}

TEST_CASE("e2e sub --idle-timeout restarts on every message: a steady stream keeps it running") {
    // mq sub moves the idle deadline per message and re-arms its timer only
    // when the old deadline passes; ending at the first deadline would cut
    // this stream short.
    e2e_broker broker;
    const std::string p = broker.port_text();
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/idle/#", "--idle-timeout", "700ms"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/idle/sync"));
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 6; ++i) {
        REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/idle/t", "-m", "m" + std::to_string(i)}).exit_code == 0);
        std::this_thread::sleep_for(300ms);
    }
    const auto r = sub.wait(10s);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(r.exit_code == 0);  // ended by --idle-timeout
    CHECK(took >= 1800ms);    // six messages 300 ms apart, each inside the 700 ms
    for (int i = 0; i < 6; ++i) CHECK(r.out.find("m" + std::to_string(i) + "\n") != std::string::npos);
}

TEST_CASE("e2e sub json output piped into pub ndjson round trips") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    process first(mq_cmd({"sub", "-p", p, "-t", "e2e/nd1/#", "--json", "-q", "2"}));
    REQUIRE(wait_subscribed(first, broker, "e2e/nd1/sync"));
    const std::string bin("\x00\xff\x10\n", 4);
    temp_dir dir;
    std::ofstream(dir.file("payload.bin"), std::ios::binary) << bin;
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/nd1/bin", "-q", "2", "-f", dir.file("payload.bin")}).exit_code == 0);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/nd1/text", "-q", "1", "-m", "h\xc3\xa9llo", "--user-property",
                  "a=b", "--message-expiry", "100"})
              .exit_code == 0);
    const auto lines = read_data_lines(first, 2, "e2e/nd1/sync");
    REQUIRE(lines.size() == 2);
    first.signal(SIGTERM);
    CHECK(first.wait(10s).exit_code == 0);

    process second(mq_cmd({"sub", "-p", p, "-t", "e2e/nd2/#", "--json", "-q", "2"}));
    REQUIRE(wait_subscribed(second, broker, "e2e/nd2/sync"));
    std::string input = "{\"type\":\"summary\"}\n\n";  // skipped records and blank lines
    for (const auto& l : lines) {
        auto j = json::parse(l);
        j["topic"] = "e2e/nd2/" + j["topic"].get<std::string>().substr(8);
        input += j.dump() + "\r\n";
    }
    const auto pub = run_mq({"pub", "-p", p, "--ndjson"}, input);
    CHECK(pub.exit_code == 0);
    CHECK(pub.err.empty());
    auto again = read_data_lines(second, 2, "e2e/nd2/sync");
    REQUIRE(again.size() == 2);
    // Messages of different QoS may be delivered in either order: pair them by topic.
    auto by_topic = [](std::vector<std::string> v) {
        std::map<std::string, json> m;
        for (const auto& l : v) {
            auto j = json::parse(l);
            m[j["topic"].get<std::string>().substr(8)] = j;
        }
        return m;
    };
    const auto before = by_topic(lines);
    const auto after = by_topic(again);
    REQUIRE(before.size() == 2);
    REQUIRE(after.size() == 2);
    for (const auto& [suffix, a] : before) {
        CAPTURE(suffix);
        REQUIRE(after.count(suffix) == 1);
        const auto& b = after.at(suffix);
        CHECK(b["payload"] == a["payload"]);
        CHECK(b["payload_encoding"] == a["payload_encoding"]);
        CHECK(b["qos"] == a["qos"]);
        CHECK(b["properties"].value("user_properties", json()) == a["properties"].value("user_properties", json()));
    }
    CHECK(after.at("bin")["payload_encoding"] == "base64");
    CHECK(after.at("bin")["payload"] == "AP8QCg==");
    CHECK(after.at("text")["payload"] == "h\xc3\xa9llo");
    second.signal(SIGINT);
    CHECK(second.wait(10s).exit_code == 0);
}

TEST_CASE("e2e pub ndjson I01 bad lines warn and strict exits 65") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    const std::string input = "{\"topic\":\"e2e/i/1\",\"payload\":\"ok\"}\n{bad\n{\"topic\":\"e2e/i/2\",\"payload\":\"x\"}\n";
    auto r = run_mq({"pub", "-p", p, "--ndjson"}, input);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("line 2:") != std::string::npos);
    r = run_mq({"pub", "-p", p, "--ndjson", "--strict"}, input);
    CHECK(r.exit_code == 65);
    r = run_mq({"pub", "-p", p, "-t", "e2e/i/l", "-l", "--max-line", "4"}, "abc\nabcdefgh\nxy", 20s);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("line 2:") != std::string::npos);
}

TEST_CASE("e2e pub -l sends one message per line") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/l/#", "-v", "-q", "1"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/l/sync"));
    const auto r = run_mq({"pub", "-p", p, "-t", "e2e/l/x", "-q", "1", "-l"}, "one\r\n\ntwo\nthree");
    CHECK(r.exit_code == 0);
    const auto lines = read_data_lines(sub, 3, "e2e/l/sync");
    CHECK(lines == std::vector<std::string>{"e2e/l/x one", "e2e/l/x two", "e2e/l/x three"});
    sub.signal(SIGINT);
    CHECK(sub.wait(10s).exit_code == 0);
}

TEST_CASE("e2e S10 closed stdout ends sub with exit 0, a DISCONNECT and nothing on stderr") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/pipe", "-r", "-q", "1", "-m", "x"}).exit_code == 0);
    // `mq sub | head -1`: the reader goes away. A Will tells whether the sub sent
    // DISCONNECT (Will discarded [MQTT-3.1.2-10]) or just dropped the connection.
    process watcher(mq_cmd({"sub", "-p", p, "-t", "e2e/pipe-will", "-v"}));
    REQUIRE(wait_subscribed(watcher, broker, "e2e/pipe-will"));
    while (watcher.read_line(100ms)) {
    }
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/pipe", "-W", "10s", "--will-topic", "e2e/pipe-will",
                        "--will-payload", "gone"}));
    sub.close_stdout();
    const auto r = sub.wait(15s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_FALSE(watcher.read_line(700ms).has_value());  // no Will: the DISCONNECT was sent
    watcher.signal(SIGINT);
    CHECK(watcher.wait(10s).exit_code == 0);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/pipe", "-r", "-n", "-q", "1"}).exit_code == 0);
}
