// SPDX-License-Identifier: MIT
#include <string>

#include <doctest/doctest.h>

#include "bench/topic_template.hpp"

using mq::tools::bench::topic_template;

namespace {
topic_template parse_ok(const std::string& text) {
    std::string err;
    auto t = topic_template::parse(text, err);
    REQUIRE_MESSAGE(t.has_value(), err);
    return *t;
}
}  // namespace

TEST_CASE("bench topic template expands run, publisher and subscriber") {
    // The old {run} {pub} {sub} placeholders keep working ({sub} is always 0).
    CHECK(parse_ok("mq-bench/{run}/{pub}").topic(0x5f3a9c01u, 7, 0) == "mq-bench/5f3a9c01/7");
    CHECK(parse_ok("mq-bench/{run}/{pub}").filter(1u) == "mq-bench/00000001/+");
    CHECK(parse_ok("a/{sub}/{pub}/{pub}").topic(0u, 1, 0) == "a/0/1/1");
    CHECK(parse_ok("plain/topic").topic(0u, 1, 0) == "plain/topic");
    CHECK(parse_ok("plain/topic").filter(0u) == "plain/topic");
    CHECK(parse_ok("{unknown}/{pu").topic(0u, 1, 0) == "{unknown}/{pu");
}

TEST_CASE("bench topic template: %i client index, %c counter, %% and the subscribers' filter") {
    const auto t = parse_ok("dev/%i/m/%c");
    CHECK(t.topic(1u, 3, 0) == "dev/3/m/0");
    CHECK(t.topic(1u, 3, 41) == "dev/3/m/41");
    CHECK(t.filter(1u) == "dev/+/m/+");
    CHECK(t.per_message());
    CHECK_FALSE(t.filter_problem().has_value());
    CHECK_FALSE(parse_ok("dev/%i").per_message());
    // expand() reuses the string it is given.
    std::string out = "something long that is replaced";
    t.expand(out, 0u, 12, 9876543210ull);
    CHECK(out == "dev/12/m/9876543210");
    CHECK(t.max_size() >= out.size());
    CHECK(parse_ok("100%%/%i").topic(0u, 5, 0) == "100%/5");
    CHECK(parse_ok("%c").filter(0u) == "+");
    CHECK(parse_ok("r/{run}/%i").topic(0xabu, 2, 0) == "r/000000ab/2");
    // A placeholder sharing a level with text cannot become "+" in the filter.
    CHECK(parse_ok("dev/x%i").filter_problem().has_value());
    CHECK(parse_ok("dev/%i-%c/y").filter_problem().has_value());
    CHECK(parse_ok("{pub}x").filter_problem().has_value());
    std::string err;
    CHECK_FALSE(topic_template::parse("a/%q", err).has_value());
    CHECK(err.find("%q") != std::string::npos);
    CHECK_FALSE(topic_template::parse("a/%", err).has_value());
    CHECK_FALSE(topic_template::parse("a/+/b", err).has_value());
    CHECK_FALSE(topic_template::parse("a/#", err).has_value());
}
