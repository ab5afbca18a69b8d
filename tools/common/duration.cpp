// SPDX-License-Identifier: MIT
#include "common/duration.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "common/exit_codes.hpp"

namespace mq::tools {
namespace {

// "digits[.digits]" followed by a unit suffix. The number is kept as an exact
// whole part plus a fraction so "1.5s" does not go through binary floating point
// for the whole part.
struct decimal {
    std::uint64_t whole = 0;
    long double fraction = 0.0L;  // in [0, 1)
    bool has_fraction = false;
    std::string_view unit;
};

std::optional<decimal> split_number(std::string_view text) noexcept {
    decimal d;
    std::size_t i = 0;
    bool any_digit = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (d.whole > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        d.whole = d.whole * 10 + digit;
        any_digit = true;
        ++i;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        d.has_fraction = true;
        long double scale = 0.1L;
        bool frac_digit = false;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            d.fraction += static_cast<long double>(text[i] - '0') * scale;
            scale /= 10.0L;
            frac_digit = true;
            ++i;
        }
        if (!frac_digit) return std::nullopt;  // "1." is a typo, not a number
    }
    if (!any_digit) return std::nullopt;
    d.unit = text.substr(i);
    return d;
}

// whole * mult + fraction * mult, rounded, with overflow checks.
std::optional<std::uint64_t> scale(const decimal& d, std::uint64_t mult) noexcept {
    if (mult != 0 && d.whole > std::numeric_limits<std::uint64_t>::max() / mult) return std::nullopt;
    std::uint64_t v = d.whole * mult;
    const long double extra = std::round(d.fraction * static_cast<long double>(mult));
    const auto add = static_cast<std::uint64_t>(extra);
    if (v > std::numeric_limits<std::uint64_t>::max() - add) return std::nullopt;
    return v + add;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) noexcept {
    auto d = split_number(text);
    if (!d) return std::nullopt;
    std::uint64_t mult = 0;
    const std::string_view u = d->unit;
    if (u.empty() || u == "s") mult = 1'000'000'000ULL;
    else if (u == "ms") mult = 1'000'000ULL;
    else if (u == "us") mult = 1'000ULL;
    else if (u == "ns") mult = 1ULL;
    else if (u == "m" || u == "min") mult = 60ULL * 1'000'000'000ULL;
    else if (u == "h") mult = 3600ULL * 1'000'000'000ULL;
    else if (u == "d") mult = 86400ULL * 1'000'000'000ULL;
    else return std::nullopt;
    auto v = scale(*d, mult);
    if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(*v));
}

std::optional<std::uint64_t> parse_size(std::string_view text) noexcept {
    auto d = split_number(text);
    if (!d) return std::nullopt;
    std::uint64_t mult = 0;
    const std::string_view u = d->unit;
    if (u.empty() || u == "B") mult = 1;
    else if (u == "KiB" || u == "K" || u == "k") mult = 1024ULL;
    else if (u == "MiB" || u == "M") mult = 1024ULL * 1024ULL;
    else if (u == "GiB" || u == "G") mult = 1024ULL * 1024ULL * 1024ULL;
    else if (u == "KB" || u == "kB") mult = 1000ULL;
    else if (u == "MB") mult = 1000ULL * 1000ULL;
    else if (u == "GB") mult = 1000ULL * 1000ULL * 1000ULL;
    else return std::nullopt;
    if (mult == 1 && d->has_fraction) return std::nullopt;  // half a byte
    return scale(*d, mult);
}

std::optional<std::uint64_t> parse_count(std::string_view text) noexcept {
    auto d = split_number(text);
    if (!d) return std::nullopt;
    std::uint64_t mult = 0;
    const std::string_view u = d->unit;
    if (u.empty()) mult = 1;
    else if (u == "k" || u == "K") mult = 1000ULL;
    else if (u == "M") mult = 1'000'000ULL;
    else return std::nullopt;
    // The count must come out whole: "1.5" is not a count, "1.5k" is 1500.
    const long double frac = d->fraction * static_cast<long double>(mult);
    if (std::fabs(frac - std::round(frac)) > 1e-9L) return std::nullopt;
    return scale(*d, mult);
}

std::chrono::nanoseconds duration_option(std::string_view text, std::string_view name) {
    auto d = parse_duration(text);
    if (!d) throw std::system_error(tool_error::usage, fmt::format("{}: invalid duration '{}'", name, text));
    return *d;
}

}  // namespace mq::tools
