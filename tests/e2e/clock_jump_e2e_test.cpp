// SPDX-License-Identifier: MIT
// hardening.md S12: the wall clock jumps (+1 day, then -1 hour) while `mq sub`,
// `mq pub` and `mq bench` run. libfaketime (Debian `faketime`, a test peer) is
// preloaded into mq with FAKETIME_DONT_FAKE_MONOTONIC=1, so only CLOCK_REALTIME
// moves; its offset is read from a file on every call (FAKETIME_NO_CACHE=1),
// which the test rewrites mid-run. Keepalive, -W, --idle-timeout and bench
// pacing run on the monotonic clock and must not notice; the receive times
// printed (--json `ts`, -F %U) must follow the faked wall clock
// (cli-contract.md §5.4: "only ts and %I/@ follow the wall clock").
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "hostile_peer.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr const char* libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
constexpr double day_s = 86400.0;
constexpr double hour_s = 3600.0;

/// One faked wall clock: a libfaketime offset file and the environment that points mq at it.
class fake_clock {
public:
    explicit fake_clock(const temp_dir& dir, const std::string& name) : file_(dir.file(name)) { set("+0"); }

    /// Rewrites the offset ("+1d", "-1h"): the next clock_gettime(CLOCK_REALTIME) in mq sees it.
    void set(const std::string& offset) const {
        const std::string tmp = file_ + ".tmp";
        std::ofstream(tmp) << offset << '\n';
        ::rename(tmp.c_str(), file_.c_str());  // atomic: mq never reads a half-written file
    }

    std::vector<std::pair<std::string, std::string>> env() const {
        return {{"LD_PRELOAD", libfaketime},
                {"FAKETIME_TIMESTAMP_FILE", file_},
                {"FAKETIME_NO_CACHE", "1"},
                {"FAKETIME_DONT_FAKE_MONOTONIC", "1"},
                // Under ASan the runtime must come first in the library list; the preload
                // only wraps libc's clock functions, so the order check is relaxed.
                {"ASAN_OPTIONS", asan_options()}};
    }

private:
    // The caller's ASan settings (CI's) kept, the link-order check added.
    static std::string asan_options() {
        const char* cur = std::getenv("ASAN_OPTIONS");
        return (cur != nullptr && *cur != '\0' ? std::string(cur) + ":" : std::string()) +
               "verify_asan_link_order=0";
    }

    std::string file_;
};

double real_now_s() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Seconds since the epoch of a `ts` field, "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
double parse_rfc3339(const std::string& ts) {
    std::tm tm{};
    REQUIRE(::strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
    const auto dot = ts.find('.');
    REQUIRE(dot != std::string::npos);
    return static_cast<double>(::timegm(&tm)) + std::stod("0" + ts.substr(dot, 10));
}

/// The `ts` of the next --json record on `topic` (other records, e.g. sync messages, skipped).
double next_json_ts(process& sub, const std::string& topic) {
    for (int i = 0; i < 20; ++i) {
        const auto line = sub.read_line(3s);
        REQUIRE(line.has_value());
        const auto j = json::parse(*line);
        if (j.at("topic") == topic) return parse_rfc3339(j.at("ts").get<std::string>());
    }
    FAIL("no record on " << topic);
    return 0;
}

void publish(const e2e_broker& broker, const std::string& topic) {
    REQUIRE(run_mq({"pub", "-p", broker.port_text(), "-t", topic, "-m", "x", "-q", "1"}).exit_code == 0);
}

}  // namespace

TEST_CASE("e2e S12 mq sub under a wall-clock jump: -W and keepalive hold, --json ts follows the jump") {
    REQUIRE_MESSAGE(::access(libfaketime, R_OK) == 0, "install Debian's faketime (scripts/install-deps.sh)");
    e2e_broker broker;
    temp_dir dir;
    fake_clock wall(dir, "sub.rc");
    const auto start = std::chrono::steady_clock::now();
    // -k 1: the broker closes a connection silent for 1.5 s [MQTT-3.1.2-22], so the idle
    // stretches below only survive if PINGREQs keep going through both jumps.
    process sub(
        mq_cmd({"sub", "-p", broker.port_text(), "-t", "e2e/s12/sub/#", "--json", "-k", "1", "-W", "7s"}),
        wall.env());
    REQUIRE(wait_subscribed(sub, broker, "e2e/s12/sub/sync"));
    while (sub.read_line(100ms)) {
    }
    publish(broker, "e2e/s12/sub/a");
    CHECK(std::abs(next_json_ts(sub, "e2e/s12/sub/a") - real_now_s()) < 30);

    wall.set("+1d");                      // a -W or keepalive deadline on the wall clock would expire now
    std::this_thread::sleep_for(1800ms);  // > 1.5 x keepalive with nothing but PINGs
    publish(broker, "e2e/s12/sub/b");
    const double b = next_json_ts(sub, "e2e/s12/sub/b");
    CHECK(b - real_now_s() > day_s - 30);
    CHECK(b - real_now_s() < day_s + 30);

    wall.set("-1h");  // ... and one on the wall clock would now be an hour away
    std::this_thread::sleep_for(1800ms);
    publish(broker, "e2e/s12/sub/c");
    const double c = next_json_ts(sub, "e2e/s12/sub/c");
    CHECK(real_now_s() - c > hour_s - 30);
    CHECK(real_now_s() - c < hour_s + 30);

    // -W 7s is measured from the process start on the monotonic clock: exit 124 on time.
    const auto r = sub.wait(15s);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.err);
    CHECK(r.exit_code == 124);
    CHECK(elapsed > 6.5);
    CHECK(elapsed < 10.0);
}

TEST_CASE("e2e S12 mq sub --idle-timeout is unaffected by wall-clock jumps and -F %U follows them") {
    REQUIRE(::access(libfaketime, R_OK) == 0);
    e2e_broker broker;
    temp_dir dir;
    fake_clock wall(dir, "idle.rc");
    process sub(mq_cmd({"sub", "-p", broker.port_text(), "-t", "e2e/s12/idle/#", "-F", "%U %t", "-k", "1",
                        "--idle-timeout", "2s", "-W", "20s"}),
                wall.env());
    REQUIRE(wait_subscribed(sub, broker, "e2e/s12/idle/sync"));
    // Each message restarts the idle clock; the jumps come between messages.
    auto unix_time_of = [&](const std::string& topic) {
        publish(broker, topic);
        for (int i = 0; i < 20; ++i) {
            const auto line = sub.read_line(3s);
            REQUIRE(line.has_value());
            if (line->ends_with(" " + topic)) return std::stod(line->substr(0, line->find(' ')));
        }
        FAIL("no line for " << topic);
        return 0.0;
    };
    wall.set("+1d");  // a wall-clock idle deadline would have passed a day ago
    std::this_thread::sleep_for(800ms);
    const double a = unix_time_of("e2e/s12/idle/a");
    CHECK(a - real_now_s() > day_s - 30);
    CHECK(a - real_now_s() < day_s + 30);
    wall.set("-1h");  // ... and would now be a day away
    std::this_thread::sleep_for(800ms);
    const double b = unix_time_of("e2e/s12/idle/b");
    CHECK(real_now_s() - b > hour_s - 30);
    CHECK(real_now_s() - b < hour_s + 30);
    const auto last = std::chrono::steady_clock::now();
    const auto r = sub.wait(15s);
    const double idle = std::chrono::duration<double>(std::chrono::steady_clock::now() - last).count();
    INFO(r.err);
    CHECK(r.exit_code == 0);  // ended by --idle-timeout, not -W (124)
    CHECK(idle > 1.5);
    CHECK(idle < 5.0);
}

TEST_CASE("e2e S12 mq pub -l keeps its connection and -W through wall-clock jumps") {
    REQUIRE(::access(libfaketime, R_OK) == 0);
    e2e_broker broker;
    temp_dir dir;
    fake_clock wall(dir, "pub.rc");
    const std::string p = broker.port_text();
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/s12/pub/#", "-v", "-q", "1"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/s12/pub/sync"));
    while (sub.read_line(100ms)) {
    }
    // -k 1 with long silences on stdin: only PINGREQs keep the connection, and -W 30s
    // expires at once if it were a wall-clock deadline after the +1 day jump.
    process pub(mq_cmd({"pub", "-p", p, "-t", "e2e/s12/pub/x", "-q", "1", "-l", "-k", "1", "-W", "30s"}),
                wall.env());
    pub.write_stdin("one\n");
    CHECK(sub.read_line(5s) == std::optional<std::string>("e2e/s12/pub/x one"));
    wall.set("+1d");
    std::this_thread::sleep_for(1800ms);
    pub.write_stdin("two\n");
    CHECK(sub.read_line(5s) == std::optional<std::string>("e2e/s12/pub/x two"));
    wall.set("-1h");
    std::this_thread::sleep_for(1800ms);
    pub.write_stdin("three\n");
    CHECK(sub.read_line(5s) == std::optional<std::string>("e2e/s12/pub/x three"));
    pub.close_stdin();
    const auto r = pub.wait(10s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    sub.signal(SIGINT);
    CHECK(sub.wait(10s).exit_code == 0);
}

TEST_CASE("e2e S12 mq bench paces and measures latency on the monotonic clock through wall-clock jumps") {
    REQUIRE(::access(libfaketime, R_OK) == 0);
    e2e_broker broker;
    temp_dir dir;
    fake_clock wall(dir, "bench.rc");
    // 200 msg/s for a 3 s window: 600 messages. A wall-clock pacer would burst to catch up
    // a day after +1d and stall for an hour after -1h; wall-clock stamps would put a day
    // into the latencies.
    process bench(mq_cmd({"bench", "e2e", "-h", "127.0.0.1", "-p", broker.port_text(), "--rate", "200",
                          "--warmup", "0s", "--duration", "3s", "--json"}),
                  wall.env());
    std::this_thread::sleep_for(1200ms);
    wall.set("+1d");
    std::this_thread::sleep_for(1000ms);
    wall.set("-1h");
    const auto r = bench.wait(20s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto s = json::parse(r.out);
    const int sent = s["counts"]["sent"].get<int>();
    CHECK(sent >= 540);
    CHECK(sent <= 610);
    CHECK(s["counts"]["received"] == s["counts"]["sent"]);
    CHECK(s["counts"]["lost"] == 0);
    const double max_us = s["latency_us"]["intended"]["max"].get<double>();
    CHECK(max_us > 0);
    CHECK(max_us < 2e6);  // at most 2 s, nowhere near a day or an hour
}
