// SPDX-License-Identifier: MIT
#pragma once
#include <array>
#include <cstdint>

namespace mq::tools::bench {

/// What one received sequence number was, bench-method.md §5.
enum class arrival : std::uint8_t {
    in_order,   // above the highest seen so far
    reordered,  // below the highest, not seen before (still delivered)
    duplicate,  // already seen
    late,       // older than the 65,536-number window: duplicate or reorder cannot be told
};

/// Loss, duplicate and order accounting for one stream (publisher, subscriber):
/// the highest sequence seen plus a sliding bitmap of the last 65,536 numbers.
class loss_tracker {
public:
    static constexpr std::uint64_t window = 65536;

    arrival observe(std::uint64_t seq) noexcept;

    /// Distinct sequence numbers known to be delivered (in order + reordered).
    std::uint64_t unique() const noexcept { return unique_; }
    std::uint64_t duplicates() const noexcept { return duplicates_; }
    std::uint64_t reordered() const noexcept { return reordered_; }
    std::uint64_t late() const noexcept { return late_; }
    /// Expected minus received (late arrivals counted as received); never negative.
    std::uint64_t lost(std::uint64_t expected) const noexcept;
    bool empty() const noexcept { return !any_; }
    std::uint64_t highest() const noexcept { return highest_; }

private:
    bool test(std::uint64_t seq) const noexcept;
    void set(std::uint64_t seq) noexcept;
    void clear_range(std::uint64_t from, std::uint64_t to) noexcept;  // (from, to]

    std::array<std::uint64_t, window / 64> bits_{};
    std::uint64_t highest_ = 0;
    bool any_ = false;
    std::uint64_t unique_ = 0, duplicates_ = 0, reordered_ = 0, late_ = 0;
};

}  // namespace mq::tools::bench
