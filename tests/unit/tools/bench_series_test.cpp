// SPDX-License-Identifier: MIT
// The per-second series of `mq bench` (bench-method.md §8 "Series").
#include <algorithm>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/report.hpp"
#include "bench/series.hpp"

using namespace mq::tools::bench;

namespace {
constexpr std::int64_t s = 1'000'000'000;
constexpr std::int64_t origin = 100 * s;  // the window start stamp

const second_slice* find_sec(const std::vector<second_slice>& v, std::int64_t sec) {
    const auto it = std::find_if(v.begin(), v.end(), [sec](const second_slice& x) { return x.sec == sec; });
    return it == v.end() ? nullptr : &*it;
}
}  // namespace

TEST_CASE("series recorder counts each event in the second it happens in") {
    second_recorder rec;
    rec.set_origin(origin);
    ++rec.at(origin - 1).sent;  // last nanosecond of the warm-up: second -1
    ++rec.at(origin - s).sent;  // first nanosecond of second -1
    ++rec.at(origin).sent;      // second 0
    ++rec.at(origin + s - 1).received;
    rec.latency(origin + s - 1, 250'000);
    ++rec.at(origin + s).received;  // second 1
    ++rec.at(origin + 3 * s + 5).errors;

    const auto got = rec.take_through(1);
    REQUIRE(got.size() == 3);
    const auto* m1 = find_sec(got, -1);
    const auto* z = find_sec(got, 0);
    const auto* one = find_sec(got, 1);
    REQUIRE(m1 != nullptr);
    REQUIRE(z != nullptr);
    REQUIRE(one != nullptr);
    CHECK(m1->counts.sent == 2);
    CHECK(z->counts.sent == 1);
    CHECK(z->counts.received == 1);
    CHECK(z->latency.count() == 1);
    CHECK(z->latency.max() == 250'000);
    CHECK(one->counts.received == 1);
    CHECK(one->latency.count() == 0);
    // Second 3 is still open: not handed over yet.
    const auto later = rec.take_through(3);
    REQUIRE(later.size() == 1);
    CHECK(later.front().sec == 3);
    CHECK(later.front().counts.errors == 1);
}

TEST_CASE("series recorder never adds to a second that was already handed over") {
    second_recorder rec;
    rec.set_origin(origin);
    ++rec.at(origin + s / 2).sent;
    REQUIRE(rec.take_through(0).size() == 1);
    // A stamp inside second 0 after the hand-over (a wall clock stepping back, a
    // slow hand-over): it lands in the first second still open.
    ++rec.at(origin + s / 2 + 1).sent;
    ++rec.at(origin + s + 1).sent;
    const auto got = rec.take_through(1);
    REQUIRE(got.size() == 1);
    CHECK(got.front().sec == 1);
    CHECK(got.front().counts.sent == 2);
    CHECK(rec.take_through(5).empty());
}

TEST_CASE("series record: JSON round trip, CSV columns, per-second latency") {
    series_point p;
    p.t = -1;
    p.span_s = 0.5;
    p.phase = "warmup";
    p.offered = 500;
    p.sent = 500;
    p.acked = 499;
    p.received = 498;
    p.duplicates = 1;
    p.reordered = 2;
    p.errors = 3;
    p.connections = 2;
    histogram h;
    for (std::uint64_t i = 1; i <= 100; ++i) h.record(i * 1000);  // 1..100 µs
    set_latency(p, h);
    REQUIRE(p.lat_p50_us.has_value());
    CHECK(*p.lat_p50_us == doctest::Approx(50.0).epsilon(0.01));
    CHECK(*p.lat_p99_us == doctest::Approx(99.0).epsilon(0.01));
    CHECK(*p.lat_max_us == doctest::Approx(100.0));
    p.gen_cpu = 0.25;

    const auto j = to_json(p);
    for (const char* key : {"t", "phase", "offered", "sent", "acked", "received", "duplicates", "reordered",
                            "connections", "errors", "lat_p50_us", "lat_p99_us", "lat_max_us", "gen_cpu",
                            "broker_cpu", "broker_rss_kb"}) {
        CAPTURE(key);
        CHECK(j.contains(key));
    }
    CHECK(j["broker_cpu"].is_null());
    const auto back = series_point_from_json(j);
    REQUIRE(back.has_value());
    CHECK(back->t == -1);
    CHECK(back->span_s == 0.5);
    CHECK(back->phase == "warmup");
    CHECK(back->received == 498);
    CHECK(back->errors == 3);
    CHECK(back->connections == std::optional<std::uint64_t>(2));
    CHECK(back->lat_p99_us == p.lat_p99_us);
    CHECK_FALSE(back->broker_cpu.has_value());

    const auto header = series_csv_header();
    const auto line = series_csv_line(p);
    CHECK(std::count(header.begin(), header.end(), ',') == std::count(line.begin(), line.end(), ','));
    CHECK(line.starts_with("-1,0.5,warmup,500,500,499,498,1,2,2,3,"));

    series_point empty;
    set_latency(empty, histogram{});
    CHECK_FALSE(empty.lat_p50_us.has_value());
    CHECK_FALSE(series_point_from_json(nlohmann::json::array()).has_value());
    CHECK_FALSE(series_point_from_json(nlohmann::json{{"phase", "measure"}}).has_value());
    CHECK_FALSE(series_point_from_json(nlohmann::json{{"t", 0}, {"span_s", 0}}).has_value());
}

TEST_CASE("the --json summary carries the histograms and the series a report needs") {
    run_result r;
    r.run_id = "0000abcd";
    r.settings.rate = 1000;
    r.window_s = 2;
    for (std::uint64_t i = 0; i < 500; ++i) r.intended.record(40'000 + i * 10);
    for (int t = -1; t < 2; ++t) {
        series_point p;
        p.t = t;
        p.phase = t < 0 ? "warmup" : "measure";
        p.received = 1000;
        r.series.push_back(p);
    }
    const auto s = make_summary(r);
    REQUIRE(s["series"].is_array());
    CHECK(s["series"].size() == 3);
    CHECK(s["series"][0]["phase"] == "warmup");
    std::string err;
    const auto h = histogram::from_json(s["histograms"]["intended"], err);
    REQUIRE_MESSAGE(h.has_value(), err);
    CHECK(*h == r.intended);
    // The documented keys stay as they were.
    CHECK(s["latency_us"]["intended"]["count"] == 500);
    CHECK(s["rates"].contains("delivered"));
}
