// SPDX-License-Identifier: MIT
// mq bench pre-flight (bench-method.md §6): the local port range and --source-ip.
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "bench/resources.hpp"
#include "bench/source_ips.hpp"
#include "report_check.hpp"

using namespace mq::tools::bench;

TEST_CASE("bench pre-flight: clients per source address against the local port range") {
    const port_range linux_default{32768, 60999};
    CHECK(linux_default.size() == 28232);
    CHECK_FALSE(check_port_range(28232, 1, linux_default).has_value());
    const auto short_by_one = check_port_range(28233, 1, linux_default);
    REQUIRE(short_by_one.has_value());
    // Says what to raise: the sysctl, or how many source addresses are needed.
    CHECK(short_by_one->find("28233 connections from 1 source address need 28233 local ports each") !=
          std::string::npos);
    CHECK(short_by_one->find("net.ipv4.ip_local_port_range (32768 60999) has 28232") != std::string::npos);
    CHECK(short_by_one->find("sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"") != std::string::npos);
    CHECK(short_by_one->find("at least 2 source addresses with --source-ip") != std::string::npos);
    // 100k clients need four addresses with the default range (bench-method §6).
    CHECK(check_port_range(100000, 3, linux_default).has_value());
    CHECK(check_port_range(100000, 3, linux_default)->find("at least 4 source") != std::string::npos);
    CHECK_FALSE(check_port_range(100000, 4, linux_default).has_value());
    CHECK(check_port_range(1, 1, port_range{5, 4}).has_value());  // an empty range

    mq::test::report::scratch_dir dir;
    REQUIRE(dir.ok());
    std::ofstream(dir.file("range")) << "1024\t65535\n";
    const auto r = read_port_range(dir.file("range"));
    REQUIRE(r.has_value());
    CHECK(r->low == 1024);
    CHECK(r->size() == 64512);
    CHECK_FALSE(read_port_range(dir.file("missing")).has_value());
    // This machine's own range reads (Linux).
    CHECK(read_port_range().has_value());
}

TEST_CASE("bench --source-ip lists and IPv4 blocks") {
    std::string err;
    auto l = parse_source_ips("127.0.0.2,127.0.0.3,::1", err);
    REQUIRE(l.has_value());
    CHECK(*l == std::vector<std::string>{"127.0.0.2", "127.0.0.3", "::1"});
    auto b = parse_source_ips("10.0.0.0/29", err);
    REQUIRE(b.has_value());
    REQUIRE(b->size() == 6);  // .1 .. .6: not the network or broadcast address
    CHECK(b->front() == "10.0.0.1");
    CHECK(b->back() == "10.0.0.6");
    CHECK(parse_source_ips("127.0.0.8/31", err)->size() == 2);
    CHECK(parse_source_ips("127.0.0.9/32", err)->front() == "127.0.0.9");
    CHECK(parse_source_ips("127.0.0.1,10.1.0.0/30", err)->size() == 3);
    CHECK_FALSE(parse_source_ips("127.0.0.1,,127.0.0.2", err).has_value());
    CHECK_FALSE(parse_source_ips("localhost", err).has_value());
    CHECK(err.find("'localhost' is not an IP address") != std::string::npos);
    CHECK_FALSE(parse_source_ips("10.0.0.0/8", err).has_value());  // too many
    CHECK_FALSE(parse_source_ips("10.0.0.0/33", err).has_value());
    CHECK_FALSE(parse_source_ips("10.0.0.0/x", err).has_value());
    CHECK_FALSE(parse_source_ips("", err).has_value());
    // IPv6: listed one by one; blocks are IPv4 only.
    CHECK(*parse_source_ips("::1,fd00::2", err) == std::vector<std::string>{"::1", "fd00::2"});
    CHECK_FALSE(parse_source_ips("fd00::/120", err).has_value());
    CHECK(err.find("blocks are IPv4 only") != std::string::npos);
    CHECK_FALSE(parse_source_ips("::1::2", err).has_value());
}

TEST_CASE("bench --source-ip: one family, the target's") {
    std::string host = "::1";
    CHECK_FALSE(match_source_family({"::1"}, host).has_value());
    host = "127.0.0.1";
    CHECK_FALSE(match_source_family({"127.0.0.2", "127.0.0.3"}, host).has_value());
    const auto v6_to_v4 = match_source_family({"::1"}, host);
    REQUIRE(v6_to_v4.has_value());
    CHECK(*v6_to_v4 == "--source-ip: ::1 is an IPv6 address but the target 127.0.0.1 is IPv4");
    host = "::1";
    CHECK(match_source_family({"127.0.0.2"}, host).has_value());
    const auto mixed = match_source_family({"::1", "127.0.0.2"}, host);
    REQUIRE(mixed.has_value());
    CHECK(mixed->find("different families") != std::string::npos);
    // A host name becomes its first address of the sources' family (getaddrinfo;
    // "localhost" has 127.0.0.1 everywhere, ::1 only where /etc/hosts lists it).
    host = "localhost";
    CHECK_FALSE(match_source_family({"127.0.0.2"}, host).has_value());
    CHECK(host == "127.0.0.1");
}
