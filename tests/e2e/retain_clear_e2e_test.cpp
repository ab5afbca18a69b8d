// SPDX-License-Identifier: MIT
// mq retain-clear (cli-contract.md §7) against a real broker: stdout bytes,
// exit codes, and what a fresh subscriber still sees afterwards.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {

void retain(const std::string& port, const std::string& topic, const std::string& payload) {
    REQUIRE(run_mq({"pub", "-p", port, "-t", topic, "-r", "-q", "1", "-m", payload}).exit_code == 0);
}

// What a fresh subscriber receives as retained under `filter`: "topic payload"
// lines, sorted (the broker's delivery order is unspecified).
std::string retained_under(const std::string& port, const std::string& filter) {
    const auto r = run_mq({"sub", "-p", port, "-t", filter, "--retained-only", "--idle-timeout", "300ms", "-v"}, {},
                          10s);
    CHECK(r.exit_code == 0);
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += l;
    return out;
}

}  // namespace

TEST_CASE("e2e retain-clear --dry-run lists exact bytes and clears nothing") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    retain(p, "rc/a/1", "one");
    retain(p, "rc/a/2", "second");
    retain(p, "rc/a/keep/x", "kept");
    retain(p, "rc/other", "o");
    auto r = run_mq({"retain-clear", "-p", p, "-t", "rc/a/#", "-T", "rc/a/keep/#", "--dry-run", "--idle-timeout",
                     "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "rc/a/1\nrc/a/2\n");
    CHECK(r.err.empty());  // no progress line when stderr is not a terminal
    r = run_mq({"retain-clear", "-p", p, "-t", "rc/a/#", "-T", "rc/a/keep/#", "--dry-run", "--json",
                "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "{\"type\":\"retained\",\"topic\":\"rc/a/1\",\"payload_len\":3,\"action\":\"would_clear\"}\n"
          "{\"type\":\"retained\",\"topic\":\"rc/a/2\",\"payload_len\":6,\"action\":\"would_clear\"}\n"
          "{\"type\":\"retained\",\"topic\":\"rc/a/keep/x\",\"payload_len\":4,\"action\":\"kept\"}\n");
    CHECK(retained_under(p, "rc/#") == "rc/a/1 one\nrc/a/2 second\nrc/a/keep/x kept\nrc/other o\n");
}

TEST_CASE("e2e retain-clear clears, verifies, keeps exclusions and leaves other topics") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    for (int i = 0; i < 30; ++i) retain(p, "rc2/n/" + std::to_string(100 + i), "v");  // more than -M 20 in flight
    retain(p, "rc2/n/keep", "k");
    retain(p, "rc2/x", "x");
    auto r = run_mq({"retain-clear", "-p", p, "-t", "rc2/n/#", "-T", "rc2/n/keep", "--json", "--idle-timeout",
                     "300ms"});
    CHECK(r.exit_code == 0);
    std::string expected;
    for (int i = 0; i < 30; ++i)
        expected += "{\"type\":\"retained\",\"topic\":\"rc2/n/" + std::to_string(100 + i) +
                    "\",\"payload_len\":1,\"action\":\"cleared\"}\n";
    expected += "{\"type\":\"retained\",\"topic\":\"rc2/n/keep\",\"payload_len\":1,\"action\":\"kept\"}\n";
    CHECK(r.out == expected);
    CHECK(retained_under(p, "rc2/#") == "rc2/n/keep k\nrc2/x x\n");
    // Nothing left to clear: empty output, exit 0.
    r = run_mq({"retain-clear", "-p", p, "-t", "rc2/n/#", "-T", "rc2/n/keep", "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    // Text output, two filters.
    r = run_mq({"retain-clear", "-p", p, "-t", "rc2/x", "-t", "rc2/n/keep", "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "rc2/n/keep\nrc2/x\n");
    CHECK(retained_under(p, "rc2/#").empty());
}

TEST_CASE("e2e retain-clear --max exceeded exits 1 and clears nothing") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    retain(p, "rc3/1", "a");
    retain(p, "rc3/2", "b");
    retain(p, "rc3/3", "c");
    auto r = run_mq({"retain-clear", "-p", p, "-t", "rc3/+", "--max", "2", "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("--max 2") != std::string::npos);
    CHECK(retained_under(p, "rc3/#") == "rc3/1 a\nrc3/2 b\nrc3/3 c\n");
    // Exclusions are not counted against --max.
    r = run_mq({"retain-clear", "-p", p, "-t", "rc3/+", "-T", "rc3/3", "--max", "2", "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "rc3/1\nrc3/2\n");
    CHECK(retained_under(p, "rc3/#") == "rc3/3 c\n");
}

TEST_CASE("e2e retain-clear refuses wildcard-only filters without --all; leading wildcards skip $ topics") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    retain(p, "rc4/t", "t");
    retain(p, "$rc4/t", "dollar");
    for (const char* f : {"#", "+/#", "+", "+/+"}) {
        CAPTURE(f);
        const auto r = run_mq({"retain-clear", "-p", p, "-t", f, "--dry-run"});
        CHECK(r.exit_code == 64);
        CHECK(r.out.empty());
        CHECK(r.err.find("--all") != std::string::npos);
    }
    CHECK(run_mq({"retain-clear", "-p", p, "-t", "$share/g/rc4/#"}).exit_code == 64);
    CHECK(run_mq({"retain-clear", "-p", p, "-t", "rc4/#/x"}).exit_code == 64);
    CHECK(run_mq({"retain-clear", "-p", p}).exit_code == 64);
    auto r = run_mq({"retain-clear", "-p", p, "-t", "#", "--all", "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "rc4/t\n");  // neither $rc4/t nor the broker's $SYS topics
    CHECK(retained_under(p, "$rc4/#") == "$rc4/t dollar\n");
    // Named explicitly, a $ topic is cleared.
    r = run_mq({"retain-clear", "-p", p, "-t", "$rc4/#", "--idle-timeout", "300ms"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "$rc4/t\n");
    CHECK(retained_under(p, "$rc4/#").empty());
}

TEST_CASE("e2e retain-clear -W bounds the whole command with 124") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    retain(p, "rc5/t", "t");
    // The idle timeout alone would take 5 s.
    const auto r = run_mq({"retain-clear", "-p", p, "-t", "rc5/#", "--idle-timeout", "5s", "-W", "300ms"}, {}, 10s);
    CHECK(r.exit_code == 124);
    CHECK(r.out.empty());
    CHECK(retained_under(p, "rc5/#") == "rc5/t t\n");
}
