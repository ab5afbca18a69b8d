// SPDX-License-Identifier: MIT
// mq sub roll-call and --fail-on (cli-contract.md §5.5) against mq broker.
// Devices report with retained messages, so the subscriber needs no sync.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "e2e_broker.hpp"

using namespace mq::test;
namespace fs = std::filesystem;

namespace {

struct list_file {
    explicit list_file(const std::string& text) {
        std::random_device rd;
        path = (fs::temp_directory_path() / ("mq-rollcall-" + std::to_string(rd()))).string();
        std::ofstream(path) << text;
    }
    ~list_file() {
        std::error_code ec;
        fs::remove(path, ec);
    }
    list_file(const list_file&) = delete;
    list_file& operator=(const list_file&) = delete;
    std::string path;
};

void report(const e2e_broker& b, const std::string& topic, const std::string& payload) {
    REQUIRE(run_mq({"pub", "-p", b.port_text(), "-r", "-q", "1", "-t", topic, "-m", payload}).exit_code == 0);
}

}  // namespace

TEST_CASE("e2e roll-call passes when every listed topic reported, and names the missing ones otherwise") {
    e2e_broker broker;
    report(broker, "fleet/a/status", R"({"ok":true})");
    report(broker, "fleet/b/status", R"({"ok":false})");
    const list_file topics("# the fleet\nfleet/a/status\nfleet/b/status\nfleet/c/status\n");

    // c never reported: the idle timeout ends the run, 124, missing on stderr.
    auto r = run_mq({"sub", "-p", broker.port_text(), "--expect-topics", topics.path, "--idle-timeout", "500ms", "-v"});
    CHECK(r.exit_code == 124);
    CHECK(r.err.find(R"({"type":"rollcall","expected":3,"seen":2,"missing":["fleet/c/status"]})") !=
          std::string::npos);
    // With a predicate, b's report does not count either.
    r = run_mq({"sub", "-p", broker.port_text(), "--expect-topics", topics.path, "--expect", "payload.ok == true",
                "-W", "2"});
    CHECK(r.exit_code == 124);
    CHECK(r.out == "{\"ok\":true}\n");
    CHECK(r.err.find(R"("seen":1,"missing":["fleet/b/status","fleet/c/status"])") != std::string::npos);

    report(broker, "fleet/c/status", R"({"ok":true})");
    r = run_mq({"sub", "-p", broker.port_text(), "--expect-topics", topics.path, "-W", "10"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("rollcall") == std::string::npos);
}

TEST_CASE("e2e roll-call by ids through a topic template") {
    e2e_broker broker;
    report(broker, "dev/d1/status", "up");
    report(broker, "dev/d2/status", "up");
    report(broker, "dev/d9/status", "not on the list");
    const list_file ids("d1\nd2\nd3\n");
    auto r = run_mq({"sub", "-p", broker.port_text(), "--expect-ids", ids.path, "--topic-template",
                     "dev/{id}/status", "--idle-timeout", "500ms"});
    CHECK(r.exit_code == 124);
    CHECK(r.err.find(R"({"type":"rollcall","expected":3,"seen":2,"missing":["d3"]})") != std::string::npos);
    report(broker, "dev/d3/status", "up");
    CHECK(run_mq({"sub", "-p", broker.port_text(), "--expect-ids", ids.path, "--topic-template", "dev/{id}/status",
                  "-W", "10"})
              .exit_code == 0);
    // Usage and file errors exit before connecting.
    CHECK(run_mq({"sub", "-p", broker.port_text(), "--expect-ids", ids.path}).exit_code == 64);
    CHECK(run_mq({"sub", "-p", broker.port_text(), "--expect-ids", ids.path, "--topic-template", "dev/x{id}"})
              .exit_code == 64);
    CHECK(run_mq({"sub", "-p", broker.port_text(), "--expect-topics", "/nonexistent/list"}).exit_code == 66);
    const list_file bad("ok/1\nbad/+\n");
    r = run_mq({"sub", "-p", broker.port_text(), "--expect-topics", bad.path});
    CHECK(r.exit_code == 65);
    CHECK(r.err.find(bad.path + ":2:") != std::string::npos);
}

TEST_CASE("e2e --fail-on prints the offending message and exits 1") {
    e2e_broker broker;
    report(broker, "plant/t1", R"({"temp":20})");
    report(broker, "plant/t2", R"({"temp":95})");
    const auto r = run_mq({"sub", "-p", broker.port_text(), "-t", "plant/#", "-v", "--fail-on", "payload.temp > 90",
                           "--idle-timeout", "2s"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("plant/t2 {\"temp\":95}\n") != std::string::npos);
    // No message matches: the run ends normally at idle (no goal: 0).
    CHECK(run_mq({"sub", "-p", broker.port_text(), "-t", "plant/t1", "--fail-on", "payload.temp > 90",
                  "--idle-timeout", "500ms"})
              .exit_code == 0);
    CHECK(run_mq({"sub", "-p", broker.port_text(), "-t", "plant/#", "--fail-on", "temp >>> 3"}).exit_code == 64);
}
