// SPDX-License-Identifier: MIT
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/fail_if.hpp"

using namespace mq::tools::bench;

namespace {
nlohmann::json summary(double p99_us, unsigned lost, double delivered, bool valid = true) {
    return {{"scenario", "e2e"},
            {"valid", valid},
            {"rates", {{"delivered", delivered}, {"delivered_ratio", 1.0}}},
            {"counts", {{"lost", lost}, {"ack_failures", {{"0x10", 2}, {"0x97", 1}}}}},
            {"latency_us",
             {{"intended", {{"p50", 40.0}, {"p99", p99_us}, {"p99.9", 900.0}}}, {"ack", {{"p99", 7.0}}}}},
            {"cpu", {{"broker_us_per_msg", 3.5}}}};
}
bool all_passed(const std::vector<gate_result>& r) {
    for (const auto& g : r) {
        if (!g.passed) return false;
    }
    return true;
}
}  // namespace

TEST_CASE("fail-if parses the issue example with units") {
    std::string err;
    const auto g = parse_gates("p99>5ms,lost>0,rate<10000", err);
    REQUIRE(g.has_value());
    REQUIRE(g->size() == 3);
    CHECK((*g)[0].latency_short);
    CHECK((*g)[0].value == doctest::Approx(5000.0));  // µs
    CHECK((*g)[0].op == gate_op::gt);
    CHECK((*g)[1].metric == "counts.lost");
    CHECK((*g)[2].metric == "rates.delivered");
    CHECK((*g)[2].op == gate_op::lt);
    CHECK(needs_latency((*g)[0]));
    CHECK_FALSE(needs_latency((*g)[1]));
}

TEST_CASE("fail-if operators, paths and count suffixes") {
    std::string err;
    const auto g =
        parse_gates("rates.delivered<=50k, cpu.broker_us_per_msg>=2500ns,delivered_ratio!=1,p99.9==1s", err);
    REQUIRE(g.has_value());
    CHECK((*g)[0].op == gate_op::le);
    CHECK((*g)[0].value == doctest::Approx(50000.0));
    CHECK((*g)[1].value == doctest::Approx(2.5));
    CHECK((*g)[2].metric == "rates.delivered_ratio");
    CHECK((*g)[2].op == gate_op::ne);
    CHECK((*g)[3].metric == "p99.9");
    CHECK((*g)[3].value == doctest::Approx(1e6));
}

TEST_CASE("fail-if bad syntax is refused with a message") {
    std::string err;
    for (const char* bad : {"p99", "p99>>5ms", "p99>", ">5", "p99>5parsecs", "lost>0ms", "p99>5ms,,lost>0",
                            "lo$t>0", "rate<abc", "p99=>5"}) {
        CAPTURE(bad);
        err.clear();
        CHECK_FALSE(parse_gates(bad, err).has_value());
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("fail-if evaluation trips when a condition holds") {
    std::string err;
    const auto g = *parse_gates("p99>5ms,lost>0,rate<10000", err);
    CHECK(all_passed(evaluate_gates(g, summary(88.0, 0, 20000))));
    const auto slow = evaluate_gates(g, summary(6000.0, 0, 20000));
    CHECK_FALSE(slow[0].passed);
    CHECK(slow[0].actual == doctest::Approx(6000.0));
    CHECK(slow[1].passed);
    CHECK_FALSE(evaluate_gates(g, summary(88.0, 3, 20000))[1].passed);
    CHECK_FALSE(evaluate_gates(g, summary(88.0, 0, 9000))[2].passed);
}

TEST_CASE("fail-if an invalid run fails every gate and a missing metric fails") {
    std::string err;
    const auto g = *parse_gates("lost>0", err);
    CHECK_FALSE(evaluate_gates(g, summary(1, 0, 1, false))[0].passed);
    const auto m = *parse_gates("rates.nonsense>0", err);
    const auto r = evaluate_gates(m, summary(1, 0, 1));
    CHECK_FALSE(r[0].passed);
    CHECK_FALSE(r[0].actual.has_value());
}

TEST_CASE("fail-if objects count as the sum of their values and pub uses ack latency") {
    std::string err;
    const auto g = *parse_gates("counts.ack_failures>2,p99>10", err);
    auto s = summary(88.0, 0, 1);
    auto r = evaluate_gates(g, s);
    CHECK(r[0].actual == doctest::Approx(3.0));
    CHECK_FALSE(r[0].passed);
    CHECK_FALSE(r[1].passed);  // intended p99 88 > 10
    s["scenario"] = "pub";
    r = evaluate_gates(g, s);
    CHECK(r[1].passed);  // ack p99 7 <= 10
}
