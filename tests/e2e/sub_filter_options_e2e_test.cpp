// SPDX-License-Identifier: MIT
// `mq sub` per-filter QoS and v5 subscription options (cli-contract.md §5):
// `-q`, `--no-local`, `--retain-as-published` and `--retain-handling` given
// once apply to every filter, given once per `-t` the n-th applies to the
// n-th filter. Checked against a real broker (granted QoS, retained delivery,
// retain flag) and byte by byte in the SUBSCRIBE a fake broker receives.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "hostile_peer.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Parsed NDJSON records of `text`, sorted by topic.
std::vector<json> records_by_topic(const std::string& text) {
    std::vector<json> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        if (nl > pos) out.push_back(json::parse(text.substr(pos, nl - pos)));
        pos = nl + 1;
    }
    std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) { return a["topic"] < b["topic"]; });
    return out;
}

// The (filter, options byte) pairs of a v5 SUBSCRIBE body [MQTT-3.8.3].
std::vector<std::pair<std::string, std::uint8_t>> subscribe_entries(const raw_packet& p) {
    std::vector<std::pair<std::string, std::uint8_t>> out;
    std::size_t i = 2;  // packet identifier
    std::size_t props = 0, mult = 1;
    while (i < p.body.size()) {  // property length (variable byte integer)
        props += (p.body[i] & 0x7fu) * mult;
        mult *= 128;
        if ((p.body[i++] & 0x80u) == 0) break;
    }
    i += props;
    while (i + 2 < p.body.size()) {
        const std::size_t len = (std::size_t{p.body[i]} << 8) | p.body[i + 1];
        i += 2;
        if (i + len >= p.body.size()) break;
        out.emplace_back(std::string(p.body.begin() + static_cast<std::ptrdiff_t>(i),
                                     p.body.begin() + static_cast<std::ptrdiff_t>(i + len)),
                         p.body[i + len]);
        i += len + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("e2e sub -q once per -t: the broker grants and delivers a different QoS per filter") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    // Retained QoS 2 messages: delivered at min(2, granted) [MQTT-3.8.4-8].
    for (const char* t : {"e2e/pf/a/x", "e2e/pf/b", "e2e/pf/c"})
        REQUIRE(run_mq({"pub", "-p", p, "-t", t, "-q", "2", "-r", "-m", t}).exit_code == 0);
    auto r = run_mq({"sub", "-p", p, "-t", "e2e/pf/a/#", "-q", "1", "-t", "e2e/pf/b", "-q", "2", "-t", "e2e/pf/c",
                     "-q", "0", "--json", "-C", "3", "-W", "10s", "--summary", "json"},
                    {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    const auto recs = records_by_topic(r.out);
    REQUIRE(recs.size() == 3);
    CHECK(recs[0]["topic"] == "e2e/pf/a/x");
    CHECK(recs[0]["qos"] == 1);
    CHECK(recs[1]["topic"] == "e2e/pf/b");
    CHECK(recs[1]["qos"] == 2);
    CHECK(recs[2]["topic"] == "e2e/pf/c");
    CHECK(recs[2]["qos"] == 0);
    // The SUBACK granted 1, 2, 0: the summary lists each filter's reason code.
    const auto summary = json::parse(r.err.substr(r.err.find("{\"type\":\"summary\"")));
    REQUIRE(summary["subscriptions"].size() == 3);
    CHECK(summary["subscriptions"][0]["reason_code"] == 1);
    CHECK(summary["subscriptions"][1]["reason_code"] == 2);
    CHECK(summary["subscriptions"][2]["reason_code"] == 0);
    // One -q applies to every filter, as in mosquitto_sub: -q after both -t.
    r = run_mq({"sub", "-p", p, "-t", "e2e/pf/b", "-t", "e2e/pf/c", "-q", "1", "--json", "-C", "2", "-W", "10s"}, {},
               15s);
    CHECK(r.exit_code == 0);
    for (const auto& rec : records_by_topic(r.out)) CHECK(rec["qos"] == 1);
    for (const char* t : {"e2e/pf/a/x", "e2e/pf/b", "e2e/pf/c"})
        CHECK(run_mq({"pub", "-p", p, "-t", t, "-q", "1", "-r", "-n"}).exit_code == 0);
}

TEST_CASE("e2e sub per-filter option counts other than 1 or one per -t exit 64 before connecting") {
    // Port 1 would refuse (69): 64 shows nothing was tried.
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {"-q", "1", "-q", "2", "-q", "0"},
             {"--retain-handling", "0", "--retain-handling", "2", "--retain-handling", "1"},
             {"--no-local=true", "--no-local=false", "--no-local=true"},
             {"--retain-as-published=maybe"},
             {"-q", "1", "-q", "3"}}) {
        std::vector<std::string> args{"sub", "-p", "1", "-t", "a", "-t", "b"};
        args.insert(args.end(), extra.begin(), extra.end());
        CAPTURE(extra.front());
        const auto r = run_mq(args, {}, 10s);
        CHECK(r.exit_code == 64);
        CHECK(r.err.find("mq: ") != std::string::npos);
    }
}

TEST_CASE("e2e sub --retain-handling per filter: 0 sends retained messages, 2 does not [MQTT-3.3.1-10]") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/rh/send", "-r", "-q", "1", "-m", "kept"}).exit_code == 0);
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/rh/never", "-r", "-q", "1", "-m", "hidden"}).exit_code == 0);
    auto r = run_mq({"sub", "-p", p, "-t", "e2e/rh/send", "-t", "e2e/rh/never", "--retain-handling", "0",
                     "--retain-handling", "2", "-v", "--idle-timeout", "700ms"},
                    {}, 15s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "e2e/rh/send kept\n");
    // One --retain-handling 2 covers both filters: nothing at all.
    r = run_mq({"sub", "-p", p, "-t", "e2e/rh/send", "-t", "e2e/rh/never", "--retain-handling", "2", "-v",
                "--idle-timeout", "500ms"},
               {}, 15s);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/rh/send", "-r", "-q", "1", "-n"}).exit_code == 0);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/rh/never", "-r", "-q", "1", "-n"}).exit_code == 0);
}

TEST_CASE("e2e sub --retain-as-published per filter keeps the retain flag on one filter only [MQTT-3.3.1-12]") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    // Disjoint filters: overlapping ones may be delivered as one copy with merged options.
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/rap/keep/#", "-t", "e2e/rap/clear/#", "--retain-as-published=true",
                        "--retain-as-published=false", "--json"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/rap/keep/sync"));
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/rap/keep/m", "-r", "-q", "1", "-m", "k"}).exit_code == 0);
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/rap/clear/m", "-r", "-q", "1", "-m", "c"}).exit_code == 0);
    std::vector<json> got;
    for (int i = 0; i < 100 && got.size() < 2; ++i) {
        if (auto line = sub.read_line(100ms); line && line->find("sync") == std::string::npos && !line->empty())
            got.push_back(json::parse(*line));
    }
    sub.signal(SIGINT);
    CHECK(sub.wait(10s).exit_code == 0);
    REQUIRE(got.size() == 2);
    std::sort(got.begin(), got.end(), [](const json& a, const json& b) { return a["topic"] < b["topic"]; });
    CHECK(got[0]["topic"] == "e2e/rap/clear/m");
    CHECK(got[0]["retain"] == false);  // live delivery clears the flag without RAP [MQTT-3.3.1-12]
    CHECK(got[1]["topic"] == "e2e/rap/keep/m");
    CHECK(got[1]["retain"] == true);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/rap/keep/m", "-r", "-q", "1", "-n"}).exit_code == 0);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/rap/clear/m", "-r", "-q", "1", "-n"}).exit_code == 0);
}

TEST_CASE("e2e sub per-filter options arrive in the SUBSCRIBE options byte of each filter [MQTT-3.8.3-1]") {
    raw_packet subscribe;
    hostile_peer peer([&subscribe](hostile_peer::connection& c) {
        if (!c.expect(1) || !c.send(connack_v5_ok())) return;
        auto s = c.expect(8);
        if (!s) return;
        subscribe = *s;
        c.send(suback_for(*s, {0x01, 0x02, 0x00}));
    });
    const auto r = run_mq({"sub", "-p", peer.port_text(), "-t", "a", "-t", "b/#", "-t", "c", "-q", "1", "-q", "2",
                           "-q", "0", "--no-local=true", "--no-local=false", "--no-local=true",
                           "--retain-as-published=false", "--retain-as-published=true",
                           "--retain-as-published=false", "--retain-handling", "1", "--retain-handling", "2",
                           "--retain-handling", "0", "-E"},
                          {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    (void)peer.finish();
    const auto entries = subscribe_entries(subscribe);
    REQUIRE(entries.size() == 3);
    // bits 0-1 QoS, 2 No Local, 3 Retain As Published, 4-5 Retain Handling
    CHECK(entries[0] == std::pair<std::string, std::uint8_t>{"a", 0x01 | 0x04 | 0x10});
    CHECK(entries[1] == std::pair<std::string, std::uint8_t>{"b/#", 0x02 | 0x08 | 0x20});
    CHECK(entries[2] == std::pair<std::string, std::uint8_t>{"c", 0x00 | 0x04});
    // A bare --no-local sets No Local on every filter.
    raw_packet again;
    hostile_peer peer2([&again](hostile_peer::connection& c) {
        if (!c.expect(1) || !c.send(connack_v5_ok())) return;
        auto s = c.expect(8);
        if (!s) return;
        again = *s;
        c.send(suback_for(*s, {0x00, 0x00}));
    });
    CHECK(run_mq({"sub", "-p", peer2.port_text(), "-t", "a", "-t", "b", "--no-local", "-E"}, {}, 15s).exit_code == 0);
    (void)peer2.finish();
    const auto e2 = subscribe_entries(again);
    REQUIRE(e2.size() == 2);
    CHECK(e2[0].second == 0x04);
    CHECK(e2[1].second == 0x04);
}
