// SPDX-License-Identifier: MIT
// Client options with one user-visible assertion each (cli-contract.md §2.2,
// §4, §5): --no-local, -U, --print0, --raw, --require-subscribers,
// --session-expiry, mq pub -s and --repeat-delay, through the real binary.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Lines printed by `sub` until one equals `last` (included) or ~10 s passed.
std::vector<std::string> lines_until(process& sub, const std::string& last) {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) {
        auto line = sub.read_line(100ms);
        if (!line) continue;
        out.push_back(*line);
        if (*line == last) break;
    }
    return out;
}

bool contains(const std::vector<std::string>& lines, const std::string& s) {
    return std::find(lines.begin(), lines.end(), s) != lines.end();
}

}  // namespace

TEST_CASE("e2e sub -U drops a subscription the resumed session still had") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    // A persistent session subscribed to old/#.
    REQUIRE(run_mq({"sub", "-p", p, "-i", "e2e-u", "-c", "-x", "60", "-t", "e2e/u/old/#", "-E"}).exit_code == 0);
    for (const bool unsubscribe : {false, true}) {
        CAPTURE(unsubscribe);
        std::vector<std::string> args{"sub", "-p", p, "-i", "e2e-u", "-c", "-x", "60", "-t", "e2e/u/new/#", "-v"};
        if (unsubscribe) args.insert(args.end(), {"-U", "e2e/u/old/#"});
        process sub(mq_cmd(args));
        REQUIRE(wait_subscribed(sub, broker, "e2e/u/new/sync"));
        REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/u/old/x", "-m", "old"}).exit_code == 0);
        REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/u/new/end", "-m", "end"}).exit_code == 0);
        const auto lines = lines_until(sub, "e2e/u/new/end end");
        CHECK(contains(lines, "e2e/u/new/end end"));
        // Without -U the session's old/# still delivers; with it, nothing from old/.
        CHECK(contains(lines, "e2e/u/old/x old") == !unsubscribe);
        sub.signal(SIGINT);
        CHECK(sub.wait(10s).exit_code == 0);
    }
}

TEST_CASE("e2e --session-expiry keeps messages for an offline subscriber; 0 (default) does not") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    for (const char* expiry : {"60", "0"}) {
        CAPTURE(expiry);
        const std::string id = std::string("e2e-x-") + expiry, topic = std::string("e2e/x/") + expiry;
        REQUIRE(run_mq({"sub", "-p", p, "-i", id, "-c", "-x", expiry, "-q", "1", "-t", topic, "-E"}).exit_code == 0);
        REQUIRE(run_mq({"pub", "-p", p, "-t", topic, "-q", "1", "-m", "while away"}).exit_code == 0);
        const auto r = run_mq({"sub", "-p", p, "-i", id, "-c", "-x", expiry, "-q", "1", "-t", topic, "-C", "1", "-W",
                               "1s"},
                              {}, 10s);
        if (std::string(expiry) == "60") {
            CHECK(r.exit_code == 0);
            CHECK(r.out == "while away\n");
        } else {
            CHECK(r.exit_code == 124);
            CHECK(r.out.empty());
        }
    }
}

TEST_CASE("e2e sub --no-local: the session does not get back its own client's Will") {
    // The Will is published for the client id that set it; killed with
    // SIGKILL, the client leaves its session (-x 60) subscribed to the Will's
    // topic. Without No Local the Will waits in that session; with it, not
    // [MQTT-3.8.3-3].
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    for (const bool no_local : {false, true}) {
        CAPTURE(no_local);
        const std::string id = no_local ? "e2e-nl-on" : "e2e-nl-off";
        const std::string base = "e2e/nl/" + id;
        std::vector<std::string> args{"sub",         "-p",         p,        "-i", id,   "-c",        "-x", "60",
                                      "-q",          "1",          "-t",     base + "/#", "-v", "--will-topic",
                                      base + "/will", "--will-qos", "1",      "--will-payload", "own will"};
        if (no_local) args.push_back("--no-local");
        {
            process sub(mq_cmd(args));
            REQUIRE(wait_subscribed(sub, broker, base + "/sync"));
            sub.signal(SIGKILL);  // no DISCONNECT: the broker publishes the Will
            (void)sub.wait(5s);
        }
        std::this_thread::sleep_for(300ms);
        REQUIRE(run_mq({"pub", "-p", p, "-t", base + "/other", "-q", "1", "-m", "from another client"}).exit_code == 0);
        std::vector<std::string> resume{"sub", "-p", p, "-i", id, "-c", "-x", "0", "-q", "1", "-t", base + "/#",
                                        "-v", "--idle-timeout", "700ms"};
        if (no_local) resume.push_back("--no-local");
        const auto r = run_mq(resume, {}, 10s);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find(base + "/other from another client") != std::string::npos);
        CHECK((r.out.find(base + "/will own will") != std::string::npos) == !no_local);
    }
}

TEST_CASE("e2e sub --print0 ends each record with NUL, with -v too") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/p0", "-r", "-q", "1", "-m", "line\nbreak"}).exit_code == 0);
    const auto r = run_mq({"sub", "-p", p, "-t", "e2e/p0", "-C", "1", "-v", "--print0"}, {}, 10s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::string("e2e/p0 line\nbreak\0", 18));
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/p0", "-r", "-q", "1", "-n"}).exit_code == 0);
}

TEST_CASE("e2e sub on a terminal escapes control bytes as \\xNN; --raw prints them as they are") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    temp_dir dir;
    const std::string payload = dir.file("ctl.bin");
    { std::ofstream(payload, std::ios::binary) << std::string("a\x01\x1b[2Jb", 7); }
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/raw", "-r", "-q", "1", "-f", payload}).exit_code == 0);
    // script(1) gives mq a pseudo-terminal as stdout; its own stdout is the terminal's output.
    auto on_tty = [&](const std::string& extra) {
        const std::string cmd = std::string(MQ_BINARY) + " sub -p " + p + " -t e2e/raw -C 1 " + extra;
        return run_process_io({"/usr/bin/script", "-qec", cmd, "/dev/null"}, {}, 15s);
    };
    auto r = on_tty("");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("a\\x01\\x1b[2Jb") != std::string::npos);
    CHECK(r.out.find('\x1b') == std::string::npos);
    r = on_tty("--raw");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(std::string("a\x01\x1b[2Jb", 7)) != std::string::npos);
    // Not a terminal (a pipe): byte-exact without --raw.
    r = run_mq({"sub", "-p", p, "-t", "e2e/raw", "-C", "1"}, {}, 10s);
    CHECK(r.out == std::string("a\x01\x1b[2Jb\n", 8));
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/raw", "-r", "-q", "1", "-n"}).exit_code == 0);
}

namespace {

// Both brokers answer 0x10 No matching subscribers (sec-3.4.2.1): mq broker
// (hardening.md C04) and mosquitto when installed.
void check_require_subscribers(const std::string& p, bool qos2_tells) {
    auto r = run_mq({"pub", "-h", "127.0.0.1", "-p", p, "-t", "e2e/rs", "-q", "1", "-m", "x", "--require-subscribers"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no subscribers for 'e2e/rs'") != std::string::npos);
    // QoS 2: in the PUBREC. mosquitto routes a QoS 2 message on PUBREL, after
    // its PUBREC, so it answers 0x00 there.
    r = run_mq({"pub", "-h", "127.0.0.1", "-p", p, "-t", "e2e/rs", "-q", "2", "-m", "x", "--require-subscribers"});
    CHECK(r.exit_code == (qos2_tells ? 1 : 0));
    // Without the flag 0x10 is a success.
    CHECK(run_mq({"pub", "-h", "127.0.0.1", "-p", p, "-t", "e2e/rs", "-q", "1", "-m", "x"}).exit_code == 0);
    process sub(mq_cmd({"sub", "-h", "127.0.0.1", "-p", p, "-t", "e2e/rs", "-v"}));
    bool seen = false;
    for (int i = 0; i < 50 && !seen; ++i) {
        r = run_mq({"pub", "-h", "127.0.0.1", "-p", p, "-t", "e2e/rs", "-q", "1", "-m", "x", "--require-subscribers"});
        seen = r.exit_code == 0;
        if (!seen) std::this_thread::sleep_for(100ms);
    }
    CHECK(seen);
    sub.signal(SIGINT);
    (void)sub.wait(10s);
}

}  // namespace

TEST_CASE("e2e pub --require-subscribers exits 1 on PUBACK 0x10 and 0 when someone listens") {
    {
        e2e_broker broker;
        CAPTURE(broker.kind());
        check_require_subscribers(broker.port_text(), broker.kind() == "mq");
    }
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture m;
    check_require_subscribers(std::to_string(m.port()), false);
}

TEST_CASE("e2e pub -s sends all of stdin as one message, newlines and NUL included") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    const std::string input("first\nsecond\n\0third\n", 20);
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/s", "-r", "-q", "1", "-s"}, input).exit_code == 0);
    const auto r = run_mq({"sub", "-p", p, "-t", "e2e/s", "-C", "1", "-N"}, {}, 10s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == input);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/s", "-r", "-q", "1", "-n"}).exit_code == 0);
}

TEST_CASE("e2e pub --repeat 3 --repeat-delay 300ms sends three copies, spaced") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/rd/#", "-F", "%t %p %U"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/rd/sync"));
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(run_mq({"pub", "-p", p, "-t", "e2e/rd/m", "-q", "1", "-m", "again", "--repeat", "3", "--repeat-delay",
                    "300ms"})
                .exit_code == 0);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 600ms);  // two delays between three messages
    std::vector<double> at;
    for (int i = 0; i < 100 && at.size() < 3; ++i) {
        auto line = sub.read_line(100ms);
        if (line && line->starts_with("e2e/rd/m again ")) at.push_back(std::stod(line->substr(15)));
    }
    REQUIRE(at.size() == 3);
    CHECK(at[1] - at[0] >= 0.25);
    CHECK(at[2] - at[1] >= 0.25);
    sub.signal(SIGINT);
    CHECK(sub.wait(10s).exit_code == 0);
}
