// SPDX-License-Identifier: MIT
// `mq broker --log-format json` (architecture.md §6): every stderr line is one
// JSON object with ts, level, component, client_id and msg, also when clients
// send hostile bytes (control characters, quotes, invalid UTF-8) that end up
// in log messages. Checked with nlohmann::json, which rejects invalid UTF-8.
#include <doctest/doctest.h>

#include <signal.h>

#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "raw_client.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        out.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("e2e broker --log-format json: each stderr line is a JSON object with ts, level and msg") {
    process broker(mq_cmd({"--log-format", "json", "--log-level", "debug", "broker", "--listen",
                           "mqtt://127.0.0.1:0", "--sys-interval", "0", "--connect-timeout", "300ms"}));
    const auto ready = broker.read_line(10s);
    REQUIRE(ready);
    const auto port = json::parse(*ready).at("listeners").at(0).at("port").get<std::uint16_t>();
    {
        // A well-behaved client, one with quotes and a backslash in its id, an abnormal close with a Will.
        raw_client ok(port);
        REQUIRE(ok.connect("json-ok"));
        ok.send_hex("e0 00");
        CHECK(ok.wait_closed());
        raw_client odd(port);
        REQUIRE(odd.connect("q\"uo\\te"));
        raw_client wide(port);
        REQUIRE(wide.connect("js\xc3\xb6n-\xe2\x82\xac-\xf0\x9d\x84\x9e"));  // "jsön-€-𝄞"
        mqtt::connect w;
        w.client_id = "with-will";
        w.keep_alive = 30;
        w.will_msg = mqtt::will{"will/x", {'x'}, mqtt::qos::at_most_once, false, {}};
        raw_client willing(port);
        REQUIRE(willing.connect(w));
        willing.close();
        // Hostile CONNECTs: a control-character id (0x85), an ESC sequence in the username,
        // an invalid UTF-8 id (0x81), garbage, a truncated packet, and one that never completes.
        const std::vector<std::string> hostile = {
            "10 11 00 04 4d 51 54 54 05 02 00 3c 00 00 04 61 01 1b 0a",              // id "a\x01\x1b\n"
            "10 15 00 04 4d 51 54 54 05 82 00 3c 00 00 01 75 00 05 1b 5b 32 4a 0a",  // username ESC[2J\n
            "10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 c0 af",                    // id c0 af
            "10 10 00 04 4d 51 54 54 05 02 00 3c 00 00 03 ed a0 80",                 // id: a surrogate
            "ff ff ff ff ff",
            "30 05 00 01 ff",
            "10 20 00 04",
        };
        for (const auto& h : hostile) {
            CAPTURE(h);
            raw_client c(port);
            c.send_hex(h);
            c.wait_closed(3000ms);
        }
        odd.close();
        wide.close();
    }
    std::this_thread::sleep_for(200ms);
    broker.signal(SIGTERM);
    const auto r = broker.wait(10s);
    CHECK(r.exit_code == 0);
    const auto lines = split_lines(r.err);
    MESSAGE(lines.size(), " log lines");
    CHECK(lines.size() >= 5);
    const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    const std::set<std::string> levels = {"error", "warn", "info", "debug", "trace"};
    bool saw_client_id = false, saw_utf8_id = false;
    for (const auto& line : lines) {
        CAPTURE(line);
        json j;
        REQUIRE_NOTHROW(j = json::parse(line));
        REQUIRE(j.is_object());
        REQUIRE(j.contains("ts"));
        REQUIRE(j.contains("level"));
        REQUIRE(j.contains("msg"));
        CHECK(std::regex_match(j.at("ts").get<std::string>(), iso));
        CHECK(levels.count(j.at("level").get<std::string>()) == 1);
        CHECK(j.at("msg").is_string());
        CHECK_FALSE(j.at("msg").get<std::string>().empty());
        CHECK(j.at("component").is_string());
        CHECK(j.at("client_id").is_string());
        if (j.at("client_id") == "q\"uo\\te") saw_client_id = true;
        if (j.at("client_id") == "js\xc3\xb6n-\xe2\x82\xac-\xf0\x9d\x84\x9e") saw_utf8_id = true;
    }
    CHECK(saw_client_id);  // quotes and backslashes survive the escaping
    CHECK(saw_utf8_id);    // multi-byte UTF-8 passes through unchanged
}
