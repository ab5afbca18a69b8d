// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>

namespace mq::tools::bench {

/// Open-loop schedule of bench-method.md §3.2: R messages per second in total,
/// split over P publishers (r = R/P each). Message n of publisher i is due at
/// t0 + i/R + n/r = t0 + (i + n*P)/R, so the publishers' phases are staggered
/// and the aggregate stream is evenly spaced at 1/R. Times are nanoseconds.
class pacing {
public:
    /// Preconditions: rate > 0, publishers >= 1.
    pacing(double aggregate_rate, std::uint32_t publishers) noexcept;

    /// Intended send time of message `n` of publisher `i` (0-based), relative to t0.
    std::int64_t offset_ns(std::uint32_t i, std::uint64_t n) const noexcept;
    /// Absolute intended time.
    std::int64_t intended_ns(std::int64_t t0_ns, std::uint32_t i, std::uint64_t n) const noexcept {
        return t0_ns + offset_ns(i, n);
    }
    /// Spacing of one publisher's messages, 1/r, in ns.
    double interval_ns() const noexcept;
    /// Number of messages of publisher i due at or before t0 + elapsed (0 before its first).
    std::uint64_t due_by(std::uint32_t i, std::int64_t elapsed_ns) const noexcept;
    /// A send more than one interval after its intended time is an overrun.
    bool is_overrun(std::int64_t send_lag_ns) const noexcept;

    double aggregate_rate() const noexcept { return rate_; }
    std::uint32_t publishers() const noexcept { return publishers_; }

private:
    double rate_;
    std::uint32_t publishers_;
};

/// A message belongs to the measurement window when its intended send time
/// lies in [start, end) (bench-method.md §7).
constexpr bool in_window(std::int64_t intended_ns, std::int64_t start_ns, std::int64_t end_ns) noexcept {
    return intended_ns >= start_ns && intended_ns < end_ns;
}

}  // namespace mq::tools::bench
