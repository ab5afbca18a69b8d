// SPDX-License-Identifier: MIT
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mq::tools::bench {

/// Log-linear (HDR-style) histogram of nanosecond values, bench-method.md §9.
/// Values below 256 are exact; above, each power of two is split into 128
/// sub-buckets, so a reported value is at most 1/128 (0.8 %) above the true
/// one. Values of 2^40 ns (about 18 minutes) and more land in the last bucket
/// and are counted as overflow. count/min/max/sum are exact.
class histogram {
public:
    static constexpr unsigned sub_bucket_bits = 7;
    static constexpr std::size_t bucket_count = 4352;
    static constexpr std::uint64_t overflow_threshold = std::uint64_t{1} << 40;

    histogram();

    /// Records `n` occurrences of `value_ns`.
    void record(std::uint64_t value_ns, std::uint64_t n = 1) noexcept;
    /// Records a signed duration; negative values (clock skew) count as 0.
    void record_signed(std::int64_t value_ns) noexcept;

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t overflow() const noexcept { return overflow_; }
    /// Exact minimum and maximum; 0 when empty.
    std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
    std::uint64_t max() const noexcept { return max_; }
    /// Exact sum (saturating) and mean; mean is 0 when empty.
    std::uint64_t sum() const noexcept { return sum_; }
    double mean() const noexcept;

    /// Nearest-rank percentile, q in [0, 1]: upper bound of the first bucket whose
    /// cumulative count reaches ceil(q*N), capped at the exact max. 0 when empty.
    std::uint64_t percentile(double q) const noexcept;

    /// Adds `other` bucket-wise (exact, associative, commutative).
    void merge(const histogram& other) noexcept;
    void reset() noexcept;

    /// Bucket index of a value and the largest value a bucket holds.
    static std::size_t bucket_of(std::uint64_t value_ns) noexcept;
    static std::uint64_t bucket_upper(std::size_t index) noexcept;

    /// Sparse serialised form of §9:
    /// {"format":"mq-hist","version":1,"unit":"ns","sub_bucket_bits":7,...,"buckets":[[i,n],...]}.
    nlohmann::json to_json() const;
    /// Parses to_json() output. nullopt with `error` set on a wrong format,
    /// different sub-bucket bits, out-of-range index or counts that do not add up.
    static std::optional<histogram> from_json(const nlohmann::json& j, std::string& error);

    friend bool operator==(const histogram&, const histogram&) = default;

private:
    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t overflow_ = 0;
};

}  // namespace mq::tools::bench
