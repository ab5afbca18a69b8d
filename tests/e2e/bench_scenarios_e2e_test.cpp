// SPDX-License-Identifier: MIT
// `mq bench` topic templates (%i, %c), shared subscriptions, --count and the
// client ramp-up (--connect-rate) on real runs (issue 5, cli-contract.md §8).
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../unit/tools/report_check.hpp"
#include "e2e_broker.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using mq::test::run_mq;

namespace {

json bench_json(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
    args.insert(args.begin(), "bench");
    args.push_back("--json");
    const auto r = run_mq(args, {}, timeout);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    auto j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

}  // namespace

TEST_CASE("bench --count ends the window after N messages over all publishers") {
    // Open loop: exactly N sent and delivered, the window is N / rate long.
    const auto open = bench_json({"e2e", "--count", "1500", "--rate", "3000", "--warmup", "200ms", "-q", "1"});
    INFO(open.dump());
    CHECK(open["counts"]["sent"] == 1500);
    CHECK(open["counts"]["received"] == 1500);
    CHECK(open["counts"]["lost"] == 0);
    CHECK(open["window_s"].get<double>() == doctest::Approx(0.5));
    CHECK(open["rates"]["sent"].get<double>() == doctest::Approx(3000.0));
    CHECK(open["settings"]["count"] == 1500);
    CHECK(open["latency_us"]["intended"]["count"] == 1500);
    // Closed loop, split over three publishers: the window ends at the last send, well before 20 s.
    const auto closed = bench_json({"e2e", "--count", "10000", "--publishers", "3", "-q", "1", "--warmup", "0s"});
    INFO(closed.dump());
    CHECK(closed["counts"]["sent"] == 10000);
    CHECK(closed["counts"]["received"] == 10000);
    CHECK(closed["window_s"].get<double>() > 0);
    CHECK(closed["window_s"].get<double>() < 10);
    CHECK(closed["rates"]["sent"].get<double>() ==
          doctest::Approx(10000.0 / closed["window_s"].get<double>()).epsilon(0.01));
    // A cap that comes first ends the window, and says so.
    const auto capped =
        bench_json({"e2e", "--count", "100000", "--rate", "1000", "--duration", "500ms", "--warmup", "0s"});
    INFO(capped.dump());
    CHECK(capped["counts"]["sent"].get<int>() <= 510);
    CHECK(capped["notes"].dump().find("--count 100000") != std::string::npos);
    // Fewer messages than publishers, or a count for bench sub, is a usage error.
    CHECK(run_mq({"bench", "e2e", "--count", "2", "--publishers", "3"}).exit_code == 64);
    CHECK(run_mq({"bench", "sub", "--count", "10"}).exit_code == 64);
}

TEST_CASE("bench at a --rate the generator cannot reach stops at the window's end and says the run is invalid") {
    // bench-method.md §3.2: a late publisher sends at once and never skips, but
    // the window ends on the clock. Before, an overloaded run worked off its
    // backlog for many times the window and starved the subscriber on its loop.
    const auto started = std::chrono::steady_clock::now();
    const auto r = bench_json(
        {"e2e", "--rate", "50000000", "--warmup", "0s", "--duration", "2s", "--drain", "1s", "-q", "0"}, 40s);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(r.dump());
    CHECK(took < 10s);  // connect + 2 s window + 1 s drain, with room for a busy machine
    CHECK(r["valid"] == false);
    CHECK(r["invalid_reasons"].dump().find("offered rate") != std::string::npos);
    const auto sent = r["counts"]["sent"].get<std::uint64_t>();
    CHECK(sent > 0);
    // The subscriber shares the loop and still reads while the publisher is late.
    CHECK(r["counts"]["received"].get<std::uint64_t>() > 0);
    CHECK(r["counts"]["received"].get<std::uint64_t>() + r["counts"]["lost"].get<std::uint64_t>() == sent);
}

TEST_CASE("bench topic template %i and %c: a topic per publisher and per message, one wildcard filter") {
    mq::test::e2e_broker broker;
    // A spy subscriber sees the topics the bench publishes.
    mq::test::process spy(mq::test::mq_cmd(
        {"sub", "-h", "127.0.0.1", "-p", broker.port_text(), "-t", "tpl/#", "-C", "40", "--json"}));
    REQUIRE(mq::test::wait_subscribed(spy, broker, "tpl/probe"));
    const auto s = bench_json({"e2e", "-h", "127.0.0.1", "-p", broker.port_text(), "--topic", "tpl/%i/%c",
                               "--publishers", "2", "--count", "400", "--rate", "2000", "--warmup", "0s", "-q",
                               "1"});
    INFO(s.dump());
    CHECK(s["settings"]["topic"] == "tpl/%i/%c");
    CHECK(s["counts"]["received"] == 400);  // the subscribers' tpl/+/+ matched every topic
    CHECK(s["counts"]["lost"] == 0);
    const auto r = spy.wait(10s);
    std::set<std::string> topics;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        const auto m = json::parse(line, nullptr, false);
        if (m.is_object() && m.value("topic", "") != "tpl/probe") topics.insert(m.value("topic", ""));
    }
    INFO(r.out);
    CHECK(topics.size() >= 30);  // all different: one per message
    CHECK(topics.count("tpl/0/0") == 1);
    CHECK(topics.count("tpl/1/0") == 1);
    CHECK(topics.count("tpl/0/1") == 1);
    // A placeholder that is not a whole level cannot be matched by "+".
    const auto bad = run_mq({"bench", "e2e", "--topic", "tpl/x%i"});
    CHECK(bad.exit_code == 64);
    CHECK(bad.err.find("whole topic level") != std::string::npos);
    CHECK(run_mq({"bench", "e2e", "--topic", "tpl/%z"}).exit_code == 64);
}

TEST_CASE("bench shared: subscribers in one $share group, loss counted per (publisher, group)") {
    const auto s = bench_json({"shared", "--count", "3000", "--rate", "3000", "--warmup", "200ms", "-q", "1"});
    INFO(s.dump());
    CHECK(s["scenario"] == "shared");
    CHECK(s["settings"]["publishers"] == 10);
    CHECK(s["settings"]["subscribers"] == 2);
    // Each message reaches one member: expected = sent, not sent x members.
    CHECK(s["counts"]["expected"] == 3000);
    CHECK(s["counts"]["received"] == 3000);
    CHECK(s["counts"]["lost"] == 0);
    CHECK(s["counts"]["duplicates"] == 0);
    CHECK(s["rates"]["delivered_ratio"] == 1.0);
    const auto& sh = s["shared"];
    REQUIRE(sh.is_object());
    CHECK(sh["group"] == "mq-bench");
    CHECK(sh["members"] == 2);
    CHECK(sh["min_share"].get<double>() > 0.1);  // both members got work
    CHECK(sh["min_share"].get<double>() + sh["max_share"].get<double>() == doctest::Approx(1.0).epsilon(0.01));
    // The same with a named group on e2e; without a group every subscriber gets every message.
    const auto named = bench_json({"e2e", "--subscribers", "3", "--share", "g1", "--count", "900", "--rate", "3000",
                                   "--warmup", "0s"});
    CHECK(named["shared"]["group"] == "g1");
    CHECK(named["counts"]["expected"] == 900);
    CHECK(named["counts"]["received"] == 900);
    const auto plain = bench_json({"e2e", "--subscribers", "3", "--count", "900", "--rate", "3000", "--warmup", "0s"});
    CHECK(plain["shared"].is_null());
    CHECK(plain["counts"]["expected"] == 2700);
    CHECK(plain["counts"]["received"] == 2700);
    CHECK(run_mq({"bench", "e2e", "--shared-group", "a/b"}).exit_code == 64);
}

TEST_CASE("bench ramps clients up at --connect-rate in e2e too") {
    // 20 clients at 20/s take about a second to connect before the warm-up starts.
    const auto t0 = std::chrono::steady_clock::now();
    const auto slow = bench_json({"fan-in", "--publishers", "19", "--connect-rate", "20", "--warmup", "0s",
                                  "--duration", "300ms", "--rate", "1000"});
    const double slow_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto t1 = std::chrono::steady_clock::now();
    const auto fast = bench_json({"fan-in", "--publishers", "19", "--connect-rate", "100000", "--warmup", "0s",
                                  "--duration", "300ms", "--rate", "1000"});
    const double fast_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    INFO("slow " << slow_s << " s, fast " << fast_s << " s");
    CHECK(slow_s - fast_s >= 0.7);
    CHECK(slow["settings"]["connect_rate"] == 20);
    CHECK(slow["connect"]["ok"] == 20);
    CHECK(fast["connect"]["ok"] == 20);
}

namespace {

// Local IPv4 addresses of the established TCP connections to `port` (/proc/net/tcp).
std::set<std::string> sources_to(std::uint16_t port) {
    std::set<std::string> out;
    std::ifstream f("/proc/net/tcp");
    std::string line;
    std::getline(f, line);  // header
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string slot, local, remote, state;
        in >> slot >> local >> remote >> state;
        if (state != "01" || remote.size() < 13) continue;  // ESTABLISHED
        if (std::stoul(remote.substr(9), nullptr, 16) != port) continue;
        const unsigned long a = std::stoul(local.substr(0, 8), nullptr, 16);  // little-endian on x86
        out.insert(std::to_string(a & 0xFF) + "." + std::to_string((a >> 8) & 0xFF) + "." +
                   std::to_string((a >> 16) & 0xFF) + "." + std::to_string(a >> 24));
    }
    return out;
}

}  // namespace

TEST_CASE("bench --source-ip spreads the connections over several loopback source addresses") {
    mq::test::e2e_broker broker;
    mq::test::process bench(mq::test::mq_cmd(
        {"bench", "e2e", "-h", "127.0.0.1", "-p", broker.port_text(), "--source-ip", "127.0.0.2,127.0.0.3",
         "--publishers", "2", "--subscribers", "2", "--rate", "1000", "--warmup", "1s", "--duration", "1s",
         "--json"}));
    std::set<std::string> seen;
    for (int i = 0; i < 30 && seen.size() < 2; ++i) {
        std::this_thread::sleep_for(100ms);
        seen = sources_to(broker.port());
    }
    const auto r = bench.wait(30s);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(seen == std::set<std::string>{"127.0.0.2", "127.0.0.3"});
    const auto s = json::parse(r.out);
    CHECK(s["settings"]["source_ips"] == json::array({"127.0.0.2", "127.0.0.3"}));
    CHECK(s["counts"]["lost"] == 0);
    CHECK(s["counts"]["received"].get<int>() >= 1900);  // 2 subscribers x ~1000
    CHECK(run_mq({"bench", "e2e", "--source-ip", "127.0.0.2", "-A", "127.0.0.3"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "--source-ip", "not-an-ip"}).exit_code == 64);
}

TEST_CASE("bench pre-flight refuses more clients than one source address has local ports") {
    std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned low = 0, high = 0;
    REQUIRE(static_cast<bool>(f >> low >> high));
    const std::string clients = std::to_string(high - low + 1 + 100);
    const auto r = run_mq({"bench", "conn", "-h", "127.0.0.1", "-p", "1", "--clients", clients}, {}, 20s);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("ip_local_port_range") != std::string::npos);
    CHECK(r.err.find("--source-ip") != std::string::npos);
    CHECK(r.out.empty());
    // Two source addresses pass this check (what comes next depends on the descriptor limit).
    const auto two = run_mq({"bench", "conn", "-h", "127.0.0.1", "-p", "1", "--clients", clients, "--source-ip",
                             "127.0.0.1,127.0.0.2", "--connect-rate", "1000000", "--hold", "0s"},
                            {}, 60s);
    CHECK(two.err.find("ip_local_port_range") == std::string::npos);
}

TEST_CASE("bench over TLS, WebSocket and WebSocket over TLS, with the connection options of mq pub") {
    mq::test::report::scratch_dir dir;
    REQUIRE(dir.ok());
    const std::string ca = dir.file("ca.pem");
    mq::test::process broker(mq::test::mq_cmd({"broker", "--listen", "mqtts://127.0.0.1:0", "--listen",
                                               "ws://127.0.0.1:0/mqtt", "--listen", "wss://127.0.0.1:0/mqtt",
                                               "--tls-ephemeral-ca", ca}));
    const auto ready = broker.read_line(10s);
    REQUIRE(ready.has_value());
    const auto r = json::parse(*ready, nullptr, false);
    REQUIRE(r.is_object());
    REQUIRE(r["listeners"].size() == 3);
    const std::string tls_port = std::to_string(r["listeners"][0]["port"].get<int>());
    const std::string ws_port = std::to_string(r["listeners"][1]["port"].get<int>());
    const std::string wss_port = std::to_string(r["listeners"][2]["port"].get<int>());

    struct target {
        std::vector<std::string> args;
        std::string url;
        bool tls;
    };
    const std::vector<target> targets = {
        {{"-L", "mqtts://127.0.0.1:" + tls_port, "--cafile", ca}, "mqtts://127.0.0.1:" + tls_port, true},
        {{"-h", "127.0.0.1", "-p", tls_port, "--tls", "--cafile", ca}, "mqtts://127.0.0.1:" + tls_port, true},
        {{"-L", "ws://127.0.0.1:" + ws_port + "/mqtt"}, "ws://127.0.0.1:" + ws_port + "/mqtt", false},
        {{"-h", "127.0.0.1", "-p", ws_port, "--ws"}, "ws://127.0.0.1:" + ws_port + "/mqtt", false},
        {{"-L", "wss://127.0.0.1:" + wss_port + "/mqtt", "--cafile", ca}, "wss://127.0.0.1:" + wss_port + "/mqtt",
         true},
    };
    for (const auto& t : targets) {
        CAPTURE(t.url);
        std::vector<std::string> args = {"e2e", "--publishers", "2", "--count", "1000", "--rate", "2000",
                                         "--warmup", "200ms", "-q", "1"};
        args.insert(args.end(), t.args.begin(), t.args.end());
        const auto s = bench_json(args);
        INFO(s.dump());
        CHECK(s["settings"]["url"] == t.url);
        CHECK(s["settings"]["tls"] == t.tls);
        CHECK(s["counts"]["sent"] == 1000);
        CHECK(s["counts"]["received"] == 1000);
        CHECK(s["counts"]["acked"] == 1000);
        CHECK(s["counts"]["lost"] == 0);
        CHECK(s["latency_us"]["intended"]["count"] == 1000);
        CHECK(s["rates"]["bytes_sent"].get<double>() > 0);
    }
    // conn holds TLS connections too.
    const auto c = bench_json({"conn", "--clients", "20", "--hold", "200ms", "-L", "mqtts://127.0.0.1:" + tls_port,
                               "--cafile", ca});
    CHECK(c["connect"]["ok"] == 20);
    // Without the CA the broker's certificate does not verify: the bench stops before the run.
    const auto untrusted = run_mq({"bench", "e2e", "-L", "mqtts://127.0.0.1:" + tls_port, "--duration", "1s"}, {}, 20s);
    CHECK(untrusted.exit_code != 0);
    CHECK(untrusted.out.empty());
    // The embedded broker is plain TCP only.
    CHECK(run_mq({"bench", "e2e", "--tls"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "--unix", "/tmp/x.sock"}).exit_code == 64);
    // Session options of mq pub have no meaning for bench clients.
    const auto session = run_mq({"bench", "e2e", "-i", "fixed-id"});
    CHECK(session.exit_code == 64);
    CHECK(session.err.find("--client-id does not apply to mq bench") != std::string::npos);
    CHECK(run_mq({"bench", "e2e", "--will-topic", "w"}).exit_code == 64);
    broker.signal(SIGTERM);
    (void)broker.wait(5s);
}
