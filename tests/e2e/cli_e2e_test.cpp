// SPDX-License-Identifier: MIT
// mq command-line behaviour that needs no broker: usage, version, usage errors.
#include <doctest/doctest.h>

#include "e2e_broker.hpp"

using namespace mq::test;

TEST_CASE("e2e mq alone prints usage on stderr and exits 64") {
    const auto r = run_mq({});
    CHECK(r.exit_code == 64);
    CHECK(r.out.empty());
    CHECK(r.err.find("Usage") != std::string::npos);
}

TEST_CASE("e2e version prints mq Boost and OpenSSL versions") {
    const auto r = run_mq({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("mq "));
    CHECK(r.out.find("Boost 1.81") != std::string::npos);
    CHECK(r.out.find("OpenSSL 3") != std::string::npos);
}

TEST_CASE("e2e help is --help only and goes to stdout") {
    const auto r = run_mq({"pub", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("-h,--host") != std::string::npos);
}

TEST_CASE("e2e H01 bad URL exits 64 and names the fix") {
    const auto r = run_mq({"pub", "-L", "mqtt://user:p@ss@127.0.0.1", "-t", "x", "-m", "y"});
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("%40") != std::string::npos);
    CHECK(run_mq({"pub", "-L", "mqtt://::1:1883", "-t", "x", "-m", "y"}).exit_code == 64);
    CHECK(run_mq({"pub", "-L", "http://host", "-t", "x", "-m", "y"}).exit_code == 64);
    CHECK(run_mq({"pub", "-p", "65536", "-t", "x", "-m", "y"}).exit_code == 64);
}

TEST_CASE("e2e H05 H06 H07 topic QoS and extra argument errors exit 64") {
    CHECK(run_mq({"pub", "-t", "a/#", "-m", "x"}).exit_code == 64);
    CHECK(run_mq({"pub", "-t", "", "-m", "x"}).exit_code == 64);
    CHECK(run_mq({"pub", "-t", std::string(70000, 'a'), "-m", "x"}).exit_code == 64);
    for (const char* q : {"3", "-1", "1.5", "0x1"}) {
        CAPTURE(q);
        CHECK(run_mq({"pub", "-t", "a", "-q", q, "-m", "x"}).exit_code == 64);
    }
    CHECK(run_mq({"sub", "-t", "x", "y"}).exit_code == 64);
    CHECK(run_mq({"sub", "-t", "x", "pub"}).exit_code == 64);
    CHECK(run_mq({"pub", "-t", "a", "-m", "x", "-n"}).exit_code == 64);  // two sources
    CHECK(run_mq({"sub", "-t", "a", "-F", "%k"}).exit_code == 64);
    CHECK(run_mq({"pub", "--no-such-option"}).exit_code == 64);
}

TEST_CASE("e2e a missing -f file exits 66") {
    const auto r = run_mq({"pub", "-t", "a", "-f", "/nonexistent/file"});
    CHECK(r.exit_code == 66);
}

TEST_CASE("e2e connection refused exits 69") {
    const auto port = pick_free_port();
    const auto r = run_mq({"pub", "-p", std::to_string(port), "-t", "a", "-m", "x"});
    CHECK(r.exit_code == 69);
    CHECK_FALSE(r.err.empty());
    CHECK(run_mq({"sub", "-p", std::to_string(port), "-t", "a"}).exit_code == 69);
}
