// SPDX-License-Identifier: MIT
// --unix PATH (cli-contract.md §2.2): MQTT over a Unix domain socket, against
// mosquitto listening on one (`listener 0 PATH`, mosquitto 2.0).
#include <doctest/doctest.h>

#include <string>

#include "e2e_broker.hpp"

using namespace mq::test;

namespace {
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("e2e pub and sub over --unix reach a broker on a Unix socket") {
    if (!mosquitto_fixture::available()) {
        MESSAGE("mosquitto not installed: skipped");
        return;
    }
    temp_dir dir;
    const std::string sock = dir.file("mqtt.sock");
    mosquitto_options opts;
    opts.extra_lines = {"listener 0 " + sock};
    mosquitto_fixture broker(opts);

    // Retained, so the subscriber needs no synchronisation.
    auto r = run_mq({"pub", "--unix", sock, "-t", "unix/a", "-m", "over a socket file", "-q", "1", "-r"});
    REQUIRE(r.exit_code == 0);
    r = run_mq({"sub", "--unix", sock, "-t", "unix/#", "-C", "1", "-v", "-W", "10"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "unix/a over a socket file\n");
    // The same message through TCP: it is one broker.
    r = run_mq({"sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-t", "unix/#", "-C", "1", "-W", "10"});
    CHECK(r.out == "over a socket file\n");
    // rr subscribes, publishes and waits over the socket too (nobody answers: 124).
    r = run_mq({"rr", "--unix", sock, "-t", "unix/req", "-m", "x", "-W", "500ms"});
    CHECK(r.exit_code == 124);

    // A socket file nobody listens on: unavailable.
    r = run_mq({"pub", "--unix", dir.file("absent.sock"), "-t", "a", "-m", "x"});
    CHECK(r.exit_code == 69);
    CHECK(has(r.err, "unix:" + dir.file("absent.sock")));
}

TEST_CASE("e2e --unix conflicts with the TCP, TLS and WebSocket options (64)") {
    const std::vector<std::vector<std::string>> conflicts{
        {"-p", "1883"}, {"-h", "localhost"}, {"-L", "mqtt://localhost"}, {"--ws"}, {"--tls"},
        {"--cafile", "/etc/ssl/certs/ca-certificates.crt"}, {"-A", "127.0.0.1"}};
    for (const auto& extra : conflicts) {
        std::vector<std::string> args{"pub", "--unix", "/tmp/mq-no-such.sock", "-t", "a", "-m", "x"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto r = run_mq(args);
        CHECK_MESSAGE(r.exit_code == 64, extra.front());
        CHECK_MESSAGE(has(r.err, "--unix"), extra.front());
    }
    // An empty path is a usage error, not a connection attempt.
    CHECK(run_mq({"sub", "--unix", "", "-t", "a"}).exit_code == 64);
}
