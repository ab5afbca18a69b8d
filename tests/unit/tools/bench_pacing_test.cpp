// SPDX-License-Identifier: MIT
#include <algorithm>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "bench/pacing.hpp"

using mq::tools::bench::in_window;
using mq::tools::bench::pacing;

TEST_CASE("pacing message n of publisher i is due at t0 + i/R + n/r") {
    const pacing p(1000.0, 4);  // R = 1000/s, r = 250/s per publisher
    CHECK(p.offset_ns(0, 0) == 0);
    CHECK(p.offset_ns(1, 0) == 1'000'000);  // i/R = 1 ms
    CHECK(p.offset_ns(0, 1) == 4'000'000);  // n/r = 4 ms
    CHECK(p.offset_ns(3, 10) == 3'000'000 + 40'000'000);
    CHECK(p.intended_ns(500, 2, 0) == 2'000'500);
    CHECK(p.interval_ns() == doctest::Approx(4e6));
}

TEST_CASE("pacing aggregate stream is evenly spaced at 1/R with staggered phases") {
    const pacing p(30000.0, 3);
    std::vector<std::int64_t> all;
    for (std::uint32_t i = 0; i < 3; ++i) {
        for (std::uint64_t n = 0; n < 1000; ++n) all.push_back(p.offset_ns(i, n));
    }
    std::sort(all.begin(), all.end());
    for (std::size_t k = 1; k < all.size(); ++k) {
        const auto gap = all[k] - all[k - 1];
        CHECK(gap >= 33'333);
        CHECK(gap <= 33'334);
    }
}

TEST_CASE("pacing does not drift over long runs") {
    const pacing p(7.0, 1);                                     // interval not a whole number of ns
    CHECK(p.offset_ns(0, 7'000'000) == 1'000'000'000'000'000);  // exactly 10^6 s later
}

TEST_CASE("pacing due_by counts messages due up to a time") {
    const pacing p(1000.0, 2);  // publisher 1 at 1 ms, 3 ms, 5 ms ...
    CHECK(p.due_by(1, 0) == 0);
    CHECK(p.due_by(1, 999'999) == 0);
    CHECK(p.due_by(1, 1'000'000) == 1);
    CHECK(p.due_by(1, 2'999'999) == 1);
    CHECK(p.due_by(1, 3'000'000) == 2);
    CHECK(p.due_by(0, 0) == 1);
    CHECK(p.due_by(0, 1'000'000'000) == 501);
}

TEST_CASE("pacing a send later than one interval is an overrun") {
    const pacing p(1000.0, 1);
    CHECK_FALSE(p.is_overrun(999'999));
    CHECK_FALSE(p.is_overrun(1'000'000));
    CHECK(p.is_overrun(1'000'001));
}

TEST_CASE("pacing window membership is by intended time, half open") {
    CHECK(in_window(10, 10, 20));
    CHECK(in_window(19, 10, 20));
    CHECK_FALSE(in_window(20, 10, 20));
    CHECK_FALSE(in_window(9, 10, 20));
}
