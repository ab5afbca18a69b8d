// SPDX-License-Identifier: MIT
#include <string>
#include <system_error>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/merge.hpp"
#include "bench/report.hpp"

using namespace mq::tools::bench;

namespace {
run_result machine_run(std::uint64_t base, std::uint64_t lost) {
    run_result r;
    r.run_id = "0000abcd";
    r.settings.rate = 1000;
    r.settings.qos = 0;
    r.window_s = 10;
    r.sent = 10000;
    r.expected = 10000;
    r.received = 10000 - lost;
    r.lost = lost;
    for (std::uint64_t i = 0; i < 10000; ++i) r.intended.record(base + i * 7);
    return r;
}
}  // namespace

TEST_CASE("bench merge adds counters and merges histograms exactly") {
    const auto a = machine_run(40'000, 0);
    const auto b = machine_run(900'000, 5);
    const auto m = merge_dumps({make_hist_dump(a), make_hist_dump(b)});
    CHECK(m.warnings.empty());
    const auto& s = m.summary;
    CHECK(s["counts"]["sent"] == 20000);
    CHECK(s["counts"]["lost"] == 5);
    CHECK(s["settings"]["rate"] == 2000.0);  // concurrent generators: rates add
    CHECK(s["rates"]["delivered"] == doctest::Approx(19995.0 / 10));
    histogram both = a.intended;
    both.merge(b.intended);
    CHECK(s["latency_us"]["intended"]["count"] == 20000);
    CHECK(s["latency_us"]["intended"]["p99"].get<double>() ==
          doctest::Approx(static_cast<double>(both.percentile(0.99)) / 1000.0).epsilon(0.001));
    CHECK(s["merged_files"] == 2);
}

TEST_CASE("bench merge warns about different settings and refuses foreign files") {
    auto a = machine_run(40'000, 0);
    auto b = machine_run(40'000, 0);
    b.settings.qos = 1;
    const auto m = merge_dumps({make_hist_dump(a), make_hist_dump(b)});
    REQUIRE(m.warnings.size() == 1);
    CHECK(m.warnings[0].find("qos") != std::string::npos);
    try {
        (void)merge_dumps({nlohmann::json{{"type", "summary"}}});
        FAIL("expected an error");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == 65);
    }
}

TEST_CASE("bench merge adds wire bytes and keeps the broker's limits") {
    auto a = machine_run(40'000, 0);
    auto b = machine_run(40'000, 0);
    a.bytes_sent = 1000;
    a.bytes_received = 3000;
    b.bytes_sent = 500;
    b.bytes_received = 1500;
    broker_limits l;
    l.receive_maximum = 100;
    l.advertised = {"receive_maximum"};
    a.limits = l;
    b.limits = l;
    const auto m = merge_dumps({make_hist_dump(a), make_hist_dump(b)});
    CHECK(m.summary["counts"]["bytes_sent"] == 1500);
    CHECK(m.summary["counts"]["bytes_received"] == 4500);
    CHECK(m.summary["rates"]["bytes_received"] == doctest::Approx(450.0));  // 10 s window
    CHECK(m.summary["broker_limits"]["receive_maximum"] == 100);
}
