// SPDX-License-Identifier: MIT
#include "bench/pacing.hpp"

#include <cmath>

namespace mq::tools::bench {

pacing::pacing(double aggregate_rate, std::uint32_t publishers) noexcept
    : rate_(aggregate_rate), publishers_(publishers == 0 ? 1 : publishers) {}

std::int64_t pacing::offset_ns(std::uint32_t i, std::uint64_t n) const noexcept {
    // Computed from the slot index, never by accumulating intervals, so rounding
    // never drifts however long the run.
    const long double slot = static_cast<long double>(i) + static_cast<long double>(n) * publishers_;
    return static_cast<std::int64_t>(std::llround(slot * 1e9L / static_cast<long double>(rate_)));
}

double pacing::interval_ns() const noexcept {
    return 1e9 * publishers_ / rate_;
}

std::uint64_t pacing::due_by(std::uint32_t i, std::int64_t elapsed_ns) const noexcept {
    const std::int64_t first = offset_ns(i, 0);
    if (elapsed_ns < first) return 0;
    // Slots are at (i + n*P)/R: n <= (elapsed*R/1e9 - i)/P.
    const long double slots = static_cast<long double>(elapsed_ns) * static_cast<long double>(rate_) / 1e9L;
    auto n = static_cast<std::uint64_t>(std::floor((slots - i) / publishers_));
    // Guard the floating-point edge: make the answer agree with offset_ns exactly.
    while (offset_ns(i, n + 1) <= elapsed_ns) ++n;
    while (n > 0 && offset_ns(i, n) > elapsed_ns) --n;
    return n + 1;
}

bool pacing::is_overrun(std::int64_t send_lag_ns) const noexcept {
    return static_cast<double>(send_lag_ns) > interval_ns();
}

}  // namespace mq::tools::bench
