// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// Seeded generators of topic names and filters over a tiny alphabet, so that
// random names and filters collide often: levels are "a", "b", "c", "" and
// "$x" ('$' topics and empty levels included), filters add '+' and '#'.
namespace mq_test {

inline constexpr std::string_view name_levels[] = {"a", "b", "c", "", "$x"};

inline std::size_t pick(std::mt19937& rng, std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng);
}

/// A valid topic name of 1..max_levels levels (never the empty string).
inline std::string random_name(std::mt19937& rng, std::size_t max_levels = 5) {
    for (;;) {
        const std::size_t n = 1 + pick(rng, max_levels);
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            if (i != 0) out += '/';
            out += name_levels[pick(rng, std::size(name_levels))];
        }
        if (!out.empty()) return out;
    }
}

/// A valid (non-shared) topic filter of 1..max_levels levels.
inline std::string random_filter(std::mt19937& rng, std::size_t max_levels = 5) {
    for (;;) {
        const std::size_t n = 1 + pick(rng, max_levels);
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            if (i != 0) out += '/';
            const std::size_t r = pick(rng, 10);
            if (r < 3) {
                out += '+';
            } else if ((r == 3 || r == 4) && i + 1 == n) {
                out += '#';
            } else {
                out += name_levels[pick(rng, std::size(name_levels))];
            }
        }
        if (!out.empty()) return out;
    }
}

}  // namespace mq_test
