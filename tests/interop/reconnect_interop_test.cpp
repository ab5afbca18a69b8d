// SPDX-License-Identifier: MIT
// --reconnect across a broker restart: Debian's mosquitto with persistence is
// stopped (SIGTERM saves its state) while mq pub -q 1 --reconnect has messages
// to send, and restarted on the same port. The persistent subscriber session
// (mq sub -c --reconnect) receives every message at least once, in order of
// first arrival. (mq broker has no persistence yet: this runs against
// mosquitto, whose restart keeps the subscriber's session.)
#include <doctest/doctest.h>

#include <csignal>
#include <set>

#include "interop_fixture.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::interop;
using namespace std::chrono_literals;

namespace {

// Reads "rc/data N" lines until every number below `total` is in `got` or ~`seconds` passed.
void collect(process& sub, std::set<int>& got, int total, int seconds) {
    for (int i = 0; i < seconds * 10 && static_cast<int>(got.size()) < total; ++i) {
        auto line = sub.read_line(100ms);
        if (line && line->starts_with("rc/data ")) got.insert(std::stoi(line->substr(8)));
    }
}

}  // namespace

TEST_CASE("interop --reconnect: no QoS 1 message lost across a mosquitto restart") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_options opts;
    opts.persistence = true;
    mosquitto_fixture broker(opts);
    const std::string port = std::to_string(broker.port());
    process sub(mq_cmd({"sub", "-h", "127.0.0.1", "-p", port, "-i", "rc-sub", "-c", "-x", "600", "-q", "1",
                        "--reconnect", "-v", "-t", "rc/#"}));
    REQUIRE(sync_subscriber(sub, mq_cmd({"pub", "-h", "127.0.0.1", "-p", port}), "rc/sync"));

    process pub(mq_cmd({"pub", "-h", "127.0.0.1", "-p", port, "-i", "rc-pub", "-q", "1", "--reconnect", "-l", "-t",
                        "rc/data"}));
    std::string first;
    for (int i = 0; i < 50; ++i) first += std::to_string(i) + "\n";
    pub.write_stdin(first);
    std::set<int> got;
    collect(sub, got, 50, 10);
    REQUIRE(got.size() == 50);

    broker.restart();
    // Lines written while the broker was away or just back: the publisher
    // queues them until it has reconnected.
    std::string second;
    for (int i = 50; i < 100; ++i) second += std::to_string(i) + "\n";
    pub.write_stdin(second);
    pub.close_stdin();
    const auto pr = pub.wait(60s);
    CHECK_MESSAGE(pr.exit_code == 0, pr.err);
    collect(sub, got, 100, 60);
    CHECK(got.size() == 100);
    sub.signal(SIGTERM);
    const auto sr = sub.wait(10s);
    CHECK(sr.exit_code == 0);
    CHECK(sr.err.find("reconnected") != std::string::npos);
}

TEST_CASE("interop without --reconnect a lost connection exits 69") {
    REQUIRE(mosquitto_fixture::available());
    mosquitto_fixture broker;
    const std::string port = std::to_string(broker.port());
    process sub(mq_cmd({"sub", "-h", "127.0.0.1", "-p", port, "-t", "rc/#", "-v"}));
    REQUIRE(sync_subscriber(sub, mq_cmd({"pub", "-h", "127.0.0.1", "-p", port}), "rc/sync"));
    broker.stop();
    const auto r = sub.wait(10s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("lost") != std::string::npos);
}
