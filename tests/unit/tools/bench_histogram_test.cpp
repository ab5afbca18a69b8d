// SPDX-License-Identifier: MIT
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/histogram.hpp"

using mq::tools::bench::histogram;

namespace {

std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double q) {
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return v[rank - 1];
}

void check_percentiles(const std::vector<std::uint64_t>& samples) {
    histogram h;
    for (const auto v : samples) h.record(v);
    REQUIRE(h.count() == samples.size());
    CHECK(h.min() == *std::min_element(samples.begin(), samples.end()));
    CHECK(h.max() == *std::max_element(samples.begin(), samples.end()));
    for (const double q : {0.0, 0.01, 0.1, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
        const std::uint64_t exact = exact_percentile(samples, q);
        const std::uint64_t got = h.percentile(q);
        CAPTURE(q);
        CAPTURE(exact);
        CAPTURE(got);
        // Reported value is the bucket's upper bound: never below the exact value,
        // and above it by less than 1/128 of it.
        CHECK(got >= exact);
        CHECK(static_cast<double>(got - exact) <= static_cast<double>(exact) / 128.0);
    }
}

}  // namespace

TEST_CASE("histogram buckets follow the log-linear layout of bench-method 9") {
    CHECK(histogram::bucket_of(0) == 0);
    CHECK(histogram::bucket_of(255) == 255);
    CHECK(histogram::bucket_of(256) == 256);
    CHECK(histogram::bucket_of(257) == 256);  // width 2 at e = 1
    CHECK(histogram::bucket_of(258) == 257);
    CHECK(histogram::bucket_of(511) == 383);
    CHECK(histogram::bucket_of(512) == 384);
    CHECK(histogram::bucket_of((std::uint64_t{1} << 40) - 1) == histogram::bucket_count - 1);
    CHECK(histogram::bucket_upper(256) == 257);
    CHECK(histogram::bucket_upper(383) == 511);
    // Every value lies within its bucket and the upper bound maps back to it.
    std::mt19937_64 rng(7);
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t v = rng() >> (24 + rng() % 40);
        const auto b = histogram::bucket_of(v);
        REQUIRE(histogram::bucket_upper(b) >= v);
        REQUIRE(histogram::bucket_of(histogram::bucket_upper(b)) == b);
        if (b > 0) REQUIRE(histogram::bucket_upper(b - 1) < v);
    }
}

TEST_CASE("histogram percentiles are within 1/128 of exact nearest-rank percentiles: uniform") {
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<std::uint64_t> d(1, 5'000'000);
    std::vector<std::uint64_t> s(50000);
    for (auto& v : s) v = d(rng);
    check_percentiles(s);
}

TEST_CASE("histogram percentiles are within 1/128 of exact nearest-rank percentiles: log-normal") {
    std::mt19937_64 rng(2);
    std::lognormal_distribution<double> d(11.0, 1.5);  // median ~60 us, long tail
    std::vector<std::uint64_t> s(50000);
    for (auto& v : s) v = static_cast<std::uint64_t>(d(rng));
    check_percentiles(s);
}

TEST_CASE("histogram percentiles are within 1/128 of exact nearest-rank percentiles: bimodal") {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> fast(50'000, 5'000), slow(40'000'000, 2'000'000);
    std::bernoulli_distribution pick_slow(0.02);
    std::vector<std::uint64_t> s(50000);
    for (auto& v : s) v = static_cast<std::uint64_t>(std::max(0.0, pick_slow(rng) ? slow(rng) : fast(rng)));
    check_percentiles(s);
}

TEST_CASE("histogram small values are exact and mean is exact") {
    histogram h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
    CHECK(h.percentile(0.5) == 50);
    CHECK(h.percentile(0.99) == 99);
    CHECK(h.percentile(1.0) == 100);
    CHECK(h.mean() == doctest::Approx(50.5));
    CHECK(h.sum() == 5050);
}

TEST_CASE("histogram values of 2^40 ns and more are counted as overflow") {
    histogram h;
    h.record(std::uint64_t{1} << 41);
    h.record(10);
    h.record_signed(-5);
    CHECK(h.overflow() == 1);
    CHECK(h.count() == 3);
    CHECK(h.min() == 0);
    CHECK(h.max() == std::uint64_t{1} << 41);
    CHECK(h.percentile(1.0) == std::uint64_t{1} << 41);
}

TEST_CASE("histogram empty reports zeros") {
    histogram h;
    CHECK(h.count() == 0);
    CHECK(h.min() == 0);
    CHECK(h.percentile(0.99) == 0);
    CHECK(h.mean() == 0.0);
}

TEST_CASE("histogram merge equals recording all samples in one histogram") {
    std::mt19937_64 rng(4);
    std::lognormal_distribution<double> d(10.0, 2.0);
    histogram a, b, c, all;
    for (int i = 0; i < 30000; ++i) {
        const auto v = static_cast<std::uint64_t>(d(rng));
        (i % 3 == 0 ? a : i % 3 == 1 ? b : c).record(v);
        all.record(v);
    }
    histogram ab_c = a;
    ab_c.merge(b);
    ab_c.merge(c);
    histogram c_ba = c;
    histogram ba = b;
    ba.merge(a);
    c_ba.merge(ba);
    CHECK(ab_c == all);
    CHECK(c_ba == all);
    CHECK(ab_c.percentile(0.999) == all.percentile(0.999));
    histogram empty;
    empty.merge(all);
    CHECK(empty == all);
}

TEST_CASE("histogram JSON round trip keeps every bucket and counter") {
    std::mt19937_64 rng(5);
    std::lognormal_distribution<double> d(12.0, 1.0);
    histogram h;
    for (int i = 0; i < 20000; ++i) h.record(static_cast<std::uint64_t>(d(rng)));
    h.record(std::uint64_t{1} << 42);
    const nlohmann::json j = h.to_json();
    CHECK(j["format"] == "mq-hist");
    CHECK(j["sub_bucket_bits"] == 7);
    CHECK(j["overflow"] == 1);
    // Sparse: far fewer entries than buckets, in index order.
    REQUIRE(j["buckets"].size() < histogram::bucket_count / 2);
    CHECK(std::is_sorted(j["buckets"].begin(), j["buckets"].end(),
                         [](const auto& x, const auto& y) { return x[0] < y[0]; }));
    std::string err;
    const auto back = histogram::from_json(nlohmann::json::parse(j.dump()), err);
    REQUIRE(back.has_value());
    CHECK(*back == h);
    const auto empty_back = histogram::from_json(histogram{}.to_json(), err);
    REQUIRE(empty_back.has_value());
    CHECK(*empty_back == histogram{});
}

TEST_CASE("histogram JSON with other sub-bucket bits or inconsistent counts is refused") {
    histogram h;
    h.record(1000);
    nlohmann::json j = h.to_json();
    std::string err;
    j["sub_bucket_bits"] = 5;
    CHECK_FALSE(histogram::from_json(j, err).has_value());
    CHECK(err.find("sub_bucket_bits") != std::string::npos);
    j = h.to_json();
    j["count"] = 2;
    CHECK_FALSE(histogram::from_json(j, err).has_value());
    j = h.to_json();
    j["buckets"] = nlohmann::json::array({nlohmann::json::array({99999, 1})});
    CHECK_FALSE(histogram::from_json(j, err).has_value());
    CHECK_FALSE(histogram::from_json(nlohmann::json::array(), err).has_value());
}
