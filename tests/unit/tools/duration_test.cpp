// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "common/duration.hpp"

using namespace mq::tools;
using namespace std::chrono_literals;

TEST_CASE("durations with units and bare seconds") {
    CHECK(parse_duration("250ms") == std::chrono::nanoseconds(250ms));
    CHECK(parse_duration("1.5s") == std::chrono::nanoseconds(1500ms));
    CHECK(parse_duration("5m") == std::chrono::nanoseconds(5min));
    CHECK(parse_duration("1h") == std::chrono::nanoseconds(1h));
    CHECK(parse_duration("30") == std::chrono::nanoseconds(30s));
    CHECK(parse_duration("0.25") == std::chrono::nanoseconds(250ms));
    CHECK(parse_duration("10us") == std::chrono::nanoseconds(10us));
    CHECK(parse_duration("0") == std::chrono::nanoseconds(0));
}

TEST_CASE("bad durations are rejected") {
    for (const char* s : {"", "-1s", "1x", "s", "1.", ".5", "1 s", "1e3", "99999999999999999999h"}) {
        CAPTURE(s);
        CHECK_FALSE(parse_duration(s));
    }
}

TEST_CASE("sizes in bytes KiB MiB GiB") {
    CHECK(parse_size("1024") == 1024u);
    CHECK(parse_size("64KiB") == 65536u);
    CHECK(parse_size("16MiB") == 16u * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1024ull * 1024 * 1024);
    CHECK(parse_size("1.5KiB") == 1536u);
    CHECK(parse_size("2KB") == 2000u);
    for (const char* s : {"", "1.5", "1TiB", "KiB", "-1", "99999999999999999999"}) {
        CAPTURE(s);
        CHECK_FALSE(parse_size(s));
    }
}

TEST_CASE("counts with k and M") {
    CHECK(parse_count("100") == 100u);
    CHECK(parse_count("10k") == 10000u);
    CHECK(parse_count("2M") == 2000000u);
    CHECK(parse_count("1.5k") == 1500u);
    for (const char* s : {"", "1.5", "1.0001k", "3G", "k", "-3"}) {
        CAPTURE(s);
        CHECK_FALSE(parse_count(s));
    }
}
