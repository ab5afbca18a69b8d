// SPDX-License-Identifier: MIT
// Summaries over several mq bench runs (bench-method.md §8.1 sweep, §8.2
// comparison): the knee rule, the rate list, per-pair ratios, noisy machines.
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/multi_run.hpp"

using namespace mq::tools::bench;
using nlohmann::json;

namespace {

json step(double rate, bool valid, json ratio) {
    return {{"type", "summary"},
            {"scenario", "e2e"},
            {"run_id", "0000000" + std::to_string(static_cast<int>(rate) % 10)},
            {"valid", valid},
            {"invalid_reasons", valid ? json::array() : json::array({"generator was CPU-bound"})},
            {"settings", {{"rate", rate}, {"qos", 0}, {"payload", 64}, {"url", "mqtt://x:1"}}},
            {"rates", {{"offered", rate}, {"sent", rate}, {"delivered", rate}, {"delivered_ratio", ratio}}},
            {"gates", json::array()}};
}

json run(double delivered, double us_per_msg, bool noisy = false, bool interrupted = false) {
    return {{"scenario", "e2e"},
            {"run_id", "1"},
            {"valid", true},
            {"noisy", noisy},
            {"interrupted", interrupted},
            {"rates", {{"delivered", delivered}}},
            {"cpu", {{"broker_us_per_msg", us_per_msg}, {"broker_rss_kb", nullptr}}},
            {"latency_us", nullptr},
            {"gates", json::array()}};
}

}  // namespace

TEST_CASE("sweep knee: the first step that is invalid or delivers less than it offers") {
    std::string why;
    CHECK_FALSE(find_knee({step(1000, true, 1.0), step(5000, true, 1.0)}, why).has_value());
    auto k = find_knee({step(1000, true, 1.0), step(5000, true, 0.97), step(20000, false, 0.5)}, why);
    REQUIRE(k.has_value());
    CHECK(*k == 1);
    CHECK(why.find("delivered ratio 0.970000") != std::string::npos);
    k = find_knee({step(1000, true, 1.0), step(5000, false, 1.0)}, why);
    REQUIRE(k.has_value());
    CHECK(*k == 1);
    CHECK(why == "invalid: generator was CPU-bound");
    // A step cut short by SIGINT is not a knee.
    json cut = step(5000, false, 0.3);
    cut["interrupted"] = true;
    CHECK_FALSE(find_knee({step(1000, true, 1.0), cut}, why).has_value());
    // `pub` has no subscribers here: validity alone decides.
    CHECK_FALSE(find_knee({step(1000, true, nullptr), step(2000, true, nullptr)}, why).has_value());

    const json sw = sweep_summary({step(1000, true, 1.0), step(5000, true, 0.5)}, false);
    CHECK(sw["type"] == "sweep");
    CHECK(sw["knee"]["step"] == 1);
    CHECK(sw["knee"]["rate"] == 5000.0);
    CHECK(sw["steps"].size() == 2);
    const std::string text = sweep_text(sw);
    CHECK(text.find("5000") != std::string::npos);
    CHECK(text.find("<- knee") != std::string::npos);
    CHECK(text.find("knee at 5000 msg/s") != std::string::npos);
    CHECK(sweep_text(sweep_summary({step(1000, true, 1.0), step(2000, true, 1.0)}, false)).find("no knee") !=
          std::string::npos);
}

TEST_CASE("sweep rate lists: increasing counts, at least two, no max") {
    std::string err;
    const auto r = parse_rate_list("1000,5000,20000", err);
    REQUIRE(r.has_value());
    CHECK(*r == std::vector<double>{1000, 5000, 20000});
    CHECK(*parse_rate_list("1k,5k", err) == std::vector<double>{1000, 5000});
    for (const char* bad : {"1000", "1000,", ",1000", "1000,max", "5000,1000", "1000,1000", "0,10", "1x,2x",
                            "1000,200000000"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_rate_list(bad, err).has_value());
        CHECK(err.rfind("--rate:", 0) == 0);
    }
}

TEST_CASE("compare: medians per target, the ratio B/A per pair, a repeat replaces its pair's first try") {
    compare_targets t{"mqtt://a:1", "mqtt://b:2", 10, 20};
    // Pair 0: A 100, B 200 (ratio 2). Pair 1 first try noisy, repeated: A 100, B 300 (ratio 3).
    // Pair 2: B first... kept order: A 200, B 200 (ratio 1).
    const std::vector<compare_run> runs = {{'A', 0, false}, {'B', 0, false}, {'A', 1, false}, {'B', 1, false},
                                           {'A', 1, true},  {'B', 1, true},  {'A', 2, false}, {'B', 2, false}};
    const std::vector<json> sums = {run(100, 5),  run(200, 10), run(999, 1, true), run(1, 1, true),
                                    run(100, 5), run(300, 20), run(200, 4),       run(200, 4)};
    const json c = compare_summary(t, 3, runs, sums, false);
    CHECK(c["type"] == "compare");
    CHECK(c["pairs_done"] == 3);
    CHECK(c["order"] == json::array({"A", "B"}));
    CHECK(c["noisy"] == false);  // the noisy try was replaced by a clean repeat
    CHECK(c["runs"].size() == 8);
    CHECK(c["pair_runs"][1]["repeated"] == true);
    const json& d = c["metrics"]["rates.delivered"];
    CHECK(d["A"]["median"] == 100.0);
    CHECK(d["A"]["max"] == 200.0);
    CHECK(d["B"]["median"] == 200.0);
    CHECK(d["B"]["min"] == 200.0);
    CHECK(d["B"]["max"] == 300.0);
    CHECK(d["ratio"]["median"] == 2.0);
    CHECK(d["ratio"]["min"] == 1.0);
    CHECK(d["ratio"]["max"] == 3.0);
    CHECK(c["metrics"]["cpu.broker_us_per_msg"]["ratio"]["median"] == 2.0);
    CHECK_FALSE(c["metrics"].contains("cpu.broker_rss_kb"));  // no run has it
    CHECK_FALSE(c["metrics"].contains("latency_us.intended.p99"));
    CHECK(c["targets"]["B"]["broker_pid"] == 20);
    const std::string text = compare_text(c);
    CHECK(text.find("3 of 3 pairs") != std::string::npos);
    CHECK(text.find("2 (1-3)") != std::string::npos);
    CHECK(text.find("pair 2:  repeated") != std::string::npos);

    // A noisy repeat is kept, noisy; an interrupted run does not count.
    const json n = compare_summary(t, 2, {{'B', 0, false}, {'A', 0, false}, {'B', 1, false}, {'A', 1, false}},
                                   {run(10, 1, true), run(10, 1), run(10, 1), run(5, 1, false, true)}, true);
    CHECK(n["order"] == json::array({"B", "A"}));
    CHECK(n["noisy"] == true);
    CHECK(n["pairs_done"] == 1);
    CHECK(n["valid"] == false);
    CHECK(n["interrupted"] == true);
}

TEST_CASE("median, and a machine busy beyond generator and broker is noisy") {
    CHECK_FALSE(median_of({}).has_value());
    CHECK(*median_of({3, 1, 2}) == 2);
    CHECK(*median_of({4, 1, 2, 3}) == 2.5);
    // 2 cores, 60 % busy = 1.2 cores; generator + broker 1.1: 0.1 others, not above 0.2.
    CHECK_FALSE(is_noisy(60, 0.6, 0.5, 2));
    CHECK(is_noisy(80, 0.6, 0.5, 2));  // 0.5 cores of others
    CHECK_FALSE(is_noisy(80, 0.6, 0.5, 0));
}
