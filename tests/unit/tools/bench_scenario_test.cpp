// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "bench/scenario.hpp"

using mq::tools::bench::expand_topic;

TEST_CASE("bench topic template expands run, publisher and subscriber") {
    CHECK(expand_topic("mq-bench/{run}/{pub}", 0x5f3a9c01u, "7", "0") == "mq-bench/5f3a9c01/7");
    CHECK(expand_topic("mq-bench/{run}/{pub}", 1u, "+", "0") == "mq-bench/00000001/+");
    CHECK(expand_topic("a/{sub}/{pub}/{pub}", 0u, "1", "2") == "a/2/1/1");
    CHECK(expand_topic("plain/topic", 0u, "1", "2") == "plain/topic");
    CHECK(expand_topic("{unknown}/{pu", 0u, "1", "2") == "{unknown}/{pu");
}
