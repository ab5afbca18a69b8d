// SPDX-License-Identifier: MIT
// `mq bench` over several runs (issue 5, bench-method.md §3.2, §13, §8.1-8.2):
// two brokers side by side (--compare, --pairs), rate sweeps and their knee, and
// IPv6 source addresses (--source-ip ::1).
#include <signal.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using mq::test::run_mq;

namespace {

// `mq broker --listen URL` as its own process; the port from its readiness line.
struct broker_process {
    mq::test::process proc;
    int port = 0;
    explicit broker_process(const std::string& listen) : proc(mq::test::mq_cmd({"broker", "--listen", listen})) {
        if (const auto line = proc.read_line(10s)) {
            const auto j = json::parse(*line, nullptr, false);
            if (j.is_object() && j.contains("listeners")) port = j["listeners"][0]["port"].get<int>();
        }
    }
    ~broker_process() {
        proc.signal(SIGTERM);
        (void)proc.wait(5s);
    }
    broker_process(const broker_process&) = delete;
    broker_process& operator=(const broker_process&) = delete;
    std::string pid() const { return std::to_string(proc.pid()); }
};

// Local addresses of the established IPv6 connections to `port` (/proc/net/tcp6,
// each address four little-endian 32-bit words in hex).
std::set<std::string> v6_sources_to(int port) {
    std::set<std::string> out;
    std::ifstream f("/proc/net/tcp6");
    std::string line;
    std::getline(f, line);  // header
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string slot, local, remote, state;
        in >> slot >> local >> remote >> state;
        if (state != "01" || remote.size() < 37) continue;  // ESTABLISHED
        if (std::stoi(remote.substr(33), nullptr, 16) != port) continue;
        out.insert(local.substr(0, 32));
    }
    return out;
}

}  // namespace

TEST_CASE("bench --compare runs two brokers alternately in pairs and reports B/A per metric") {
    broker_process a("mqtt://127.0.0.1:0"), b("mqtt://127.0.0.1:0");
    REQUIRE(a.port != 0);
    REQUIRE(b.port != 0);
    const std::string url_a = "mqtt://127.0.0.1:" + std::to_string(a.port);
    const std::string url_b = "mqtt://127.0.0.1:" + std::to_string(b.port);
    const auto r = run_mq({"bench", "e2e", "-L", url_a, "--broker-pid", a.pid(), "--compare", url_b, "--compare-pid",
                           b.pid(), "--pairs", "2", "-q", "1", "--rate", "1000", "--warmup", "200ms", "--duration",
                           "1s", "--json"},
                          {}, 120s);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    const auto c = json::parse(r.out, nullptr, false);
    REQUIRE(c.is_object());
    INFO(c.dump().substr(0, 4000));
    CHECK(c["type"] == "compare");
    CHECK(c["pairs"] == 2);
    CHECK(c["pairs_done"] == 2);
    CHECK(c["targets"]["A"]["url"] == url_a);
    CHECK(c["targets"]["B"]["url"] == url_b);
    CHECK(c["targets"]["B"]["broker_pid"] == b.proc.pid());
    // Alternation: every pair runs in the order of the first, one run of each
    // target, each against its own broker with a fresh run id.
    const json& runs = c["runs"];
    REQUIRE(runs.size() >= 4);
    REQUIRE(runs.size() <= 8);  // a noisy pair is repeated once
    REQUIRE(runs.size() % 2 == 0);
    const std::string first = c["order"][0], second = c["order"][1];
    CHECK(first != second);
    std::set<std::string> ids;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        CHECK(runs[i]["target"] == (i % 2 == 0 ? first : second));
        if (i % 2 == 1) CHECK(runs[i]["pair"] == runs[i - 1]["pair"]);
        const std::string url = runs[i]["target"] == "A" ? url_a : url_b;
        CHECK(runs[i]["summary"]["settings"]["url"] == url);
        CHECK(runs[i]["summary"]["counts"]["lost"] == 0);
        ids.insert(runs[i]["run_id"].get<std::string>());
    }
    CHECK(ids.size() == runs.size());
    CHECK(c["pair_runs"].size() == 2);
    // Per metric: both targets' median within min..max, and the ratio B/A. Both
    // brokers deliver the offered 1000 msg/s, so the ratio is about 1.
    const json& d = c["metrics"]["rates.delivered"];
    for (const char* t : {"A", "B", "ratio"}) {
        REQUIRE(d[t].is_object());
        CHECK(d[t]["n"] == 2);
        CHECK(d[t]["min"].get<double>() <= d[t]["median"].get<double>());
        CHECK(d[t]["median"].get<double>() <= d[t]["max"].get<double>());
    }
    CHECK(d["A"]["median"].get<double>() == doctest::Approx(1000).epsilon(0.05));
    CHECK(d["ratio"]["median"].get<double>() == doctest::Approx(1.0).epsilon(0.05));
    // --broker-pid and --compare-pid: each target's broker CPU, and its ratio.
    CHECK(c["metrics"]["cpu.broker_us_per_msg"]["A"]["n"] == 2);
    CHECK(c["metrics"]["cpu.broker_us_per_msg"]["B"]["n"] == 2);
    CHECK(c["metrics"]["cpu.broker_us_per_msg"]["ratio"].is_object());
    CHECK(c["metrics"].contains("latency_us.intended.p99"));
    CHECK(c.contains("noisy"));
}

TEST_CASE("bench --compare: the human table and the usage errors") {
    broker_process a("mqtt://127.0.0.1:0"), b("mqtt://127.0.0.1:0");
    REQUIRE(a.port != 0);
    REQUIRE(b.port != 0);
    const auto r = run_mq({"bench", "e2e", "-p", std::to_string(a.port), "--compare",
                           "mqtt://127.0.0.1:" + std::to_string(b.port), "--pairs", "1", "--count", "2000",
                           "--warmup", "0s", "--require-idle", "100"},
                          {}, 60s);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("side by side  1 of 1 pairs") != std::string::npos);
    CHECK(r.out.find("B/A") != std::string::npos);
    CHECK(r.out.find("delivered msg/s") != std::string::npos);
    const std::string bu = "mqtt://127.0.0.1:" + std::to_string(b.port);
    const std::string ap = std::to_string(a.port);
    CHECK(run_mq({"bench", "e2e", "--compare", bu}).exit_code == 64);  // no target A: embedded broker
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--pairs", "2"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--compare-pid", "1"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--compare", "http://x"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--compare", bu, "--pairs", "0"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--compare", bu, "--rate", "100,200"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--compare", bu, "--series", "/tmp/x.csv"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-p", ap, "--require-idle", "150"}).exit_code == 64);
}

TEST_CASE("bench --rate R1,R2,... sweeps: a step per rate, one table, the knee at a rate the window cannot "
          "deliver, gates on every step") {
    // 2,000,000 msg/s from one publisher is far beyond this generator: most of
    // that step's sends are overruns, so it is invalid and the knee is at it or
    // before it. (A late publisher never skips, so a higher rate only makes the
    // step longer: it sends every message of the window.)
    const auto r = run_mq({"bench", "e2e", "--rate", "300,600,2000000", "--warmup", "200ms", "--duration", "1s",
                           "--drain", "1s", "--fail-if", "rates.offered>1000", "--json"},
                          {}, 120s);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 1);  // the gate holds on the last step
    const auto sw = json::parse(r.out, nullptr, false);
    REQUIRE(sw.is_object());
    INFO(sw.dump().substr(0, 3000));
    CHECK(sw["type"] == "sweep");
    CHECK(sw["gates_failed"] == true);
    const json& steps = sw["steps"];
    REQUIRE(steps.size() == 3);
    const double rates[] = {300, 600, 2000000};
    std::set<std::string> ids;
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(steps[i]["settings"]["rate"].get<double>() == rates[i]);
        CHECK(steps[i]["window_s"].get<double>() == doctest::Approx(1.0));
        ids.insert(steps[i]["run_id"].get<std::string>());
        // An invalid run fails every gate; a valid one fails this gate only above 1000 msg/s.
        const bool passed = steps[i]["gates"][0]["passed"];
        CHECK(passed == (i < 2 && steps[i]["valid"].get<bool>()));
    }
    CHECK(ids.size() == 3);
    CHECK(steps[2]["valid"] == false);
    REQUIRE(sw["knee"].is_object());
    const auto k = sw["knee"]["step"].get<std::size_t>();
    CHECK(k <= 2);
    CHECK(sw["knee"]["rate"] == steps[k]["settings"]["rate"]);
    for (std::size_t i = 0; i < k; ++i) {  // the steps before the knee were fine
        CHECK(steps[i]["valid"] == true);
        CHECK(steps[i]["rates"]["delivered_ratio"] == 1.0);
    }
    // The table: a row per step, the knee marked.
    const auto t = run_mq(
        {"bench", "e2e", "--rate", "300,2000000", "--warmup", "200ms", "--duration", "1s", "--drain", "1s"}, {}, 60s);
    CHECK(t.exit_code == 0);
    CHECK(t.out.find("rate sweep  2 steps") != std::string::npos);
    CHECK(t.out.find("2000000") != std::string::npos);
    CHECK(t.out.find("<- knee") != std::string::npos);
    CHECK(t.out.find("knee at ") != std::string::npos);
    CHECK(run_mq({"bench", "e2e", "--rate", "1000,500"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "--rate", "1000,max"}).exit_code == 64);
}

TEST_CASE("bench --source-ip ::1 binds the clients to IPv6 against a broker on [::1]") {
    broker_process broker("mqtt://[::1]:0");
    // Not a skip: a machine without ::1 cannot run this test and must say so.
    REQUIRE_MESSAGE(broker.port != 0,
                    "mq broker could not listen on [::1]: IPv6 loopback is unavailable here (see `ip -6 addr`)");
    const std::string port = std::to_string(broker.port);
    mq::test::process bench(mq::test::mq_cmd({"bench", "e2e", "-h", "::1", "-p", port, "--source-ip", "::1",
                                              "--publishers", "2", "--subscribers", "2", "--rate", "1000",
                                              "--warmup", "1s", "--duration", "1s", "--json"}));
    std::set<std::string> seen;
    for (int i = 0; i < 30 && seen.empty(); ++i) {
        std::this_thread::sleep_for(100ms);
        seen = v6_sources_to(broker.port);
    }
    const auto r = bench.wait(30s);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(seen == std::set<std::string>{"00000000000000000000000001000000"});  // ::1
    const auto s = json::parse(r.out);
    CHECK(s["settings"]["url"] == "mqtt://[::1]:" + port);
    CHECK(s["settings"]["source_ips"] == json::array({"::1"}));
    CHECK(s["counts"]["lost"] == 0);
    CHECK(s["counts"]["received"].get<int>() >= 1900);  // 2 subscribers x ~1000
    // Families that cannot meet, and what is not an address, are usage errors.
    const auto mixed = run_mq({"bench", "e2e", "-h", "::1", "-p", port, "--source-ip", "127.0.0.2"});
    CHECK(mixed.exit_code == 64);
    CHECK(mixed.err.find("is an IPv4 address but the target ::1 is IPv6") != std::string::npos);
    CHECK(run_mq({"bench", "e2e", "-h", "127.0.0.1", "-p", port, "--source-ip", "::1"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-h", "::1", "-p", port, "--source-ip", "::1,127.0.0.1"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-h", "::1", "-p", port, "--source-ip", "fd00::/120"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "-h", "::1", "-p", port, "--source-ip", "::1::2"}).exit_code == 64);
    CHECK(run_mq({"bench", "e2e", "--source-ip", "::1"}).exit_code == 64);  // the embedded broker is IPv4
}
