// SPDX-License-Identifier: MIT
#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <nlohmann/json.hpp>

namespace mq::tools::bench {

namespace {
constexpr std::uint64_t sub_buckets = std::uint64_t{1} << histogram::sub_bucket_bits;  // 128
constexpr std::uint64_t exact_limit = 2 * sub_buckets;                                 // 256

std::uint64_t add_saturating(std::uint64_t a, std::uint64_t b) noexcept {
    const std::uint64_t s = a + b;
    return s < a ? UINT64_MAX : s;
}
}  // namespace

histogram::histogram() : buckets_(bucket_count, 0) {}

std::size_t histogram::bucket_of(std::uint64_t v) noexcept {
    if (v < exact_limit) return static_cast<std::size_t>(v);
    if (v >= overflow_threshold) return bucket_count - 1;
    const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 8;  // >= 1
    return static_cast<std::size_t>(exact_limit + sub_buckets * (e - 1) + ((v >> e) - sub_buckets));
}

std::uint64_t histogram::bucket_upper(std::size_t index) noexcept {
    if (index < exact_limit) return index;
    const std::uint64_t rel = index - exact_limit;
    const unsigned e = static_cast<unsigned>(rel / sub_buckets) + 1;
    const std::uint64_t m = rel % sub_buckets + sub_buckets;
    return ((m + 1) << e) - 1;
}

void histogram::record(std::uint64_t v, std::uint64_t n) noexcept {
    if (n == 0) return;
    buckets_[bucket_of(v)] += n;
    if (v >= overflow_threshold) overflow_ += n;
    count_ += n;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    // v * n may overflow for absurd inputs; saturate rather than wrap.
    const std::uint64_t add = (v != 0 && n > UINT64_MAX / v) ? UINT64_MAX : v * n;
    sum_ = add_saturating(sum_, add);
}

void histogram::record_signed(std::int64_t v) noexcept {
    record(v < 0 ? 0 : static_cast<std::uint64_t>(v));
}

double histogram::mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::uint64_t histogram::percentile(double q) const noexcept {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += buckets_[i];
        // The last bucket also holds the overflow: only the exact max bounds it.
        if (seen >= rank) return i == bucket_count - 1 ? max_ : std::min(bucket_upper(i), max_);
    }
    return max_;
}

void histogram::merge(const histogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    overflow_ += other.overflow_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ = add_saturating(sum_, other.sum_);
}

void histogram::reset() noexcept {
    *this = histogram{};
}

nlohmann::json histogram::to_json() const {
    nlohmann::json buckets = nlohmann::json::array();
    for (std::size_t i = 0; i < bucket_count; ++i) {
        if (buckets_[i] != 0) buckets.push_back(nlohmann::json::array({i, buckets_[i]}));
    }
    return {{"format", "mq-hist"},   {"version", 1},
            {"unit", "ns"},          {"sub_bucket_bits", sub_bucket_bits},
            {"count", count_},       {"min", min()},
            {"max", max_},           {"sum", sum_},
            {"overflow", overflow_}, {"buckets", std::move(buckets)}};
}

std::optional<histogram> histogram::from_json(const nlohmann::json& j, std::string& error) {
    auto fail = [&](std::string why) -> std::optional<histogram> {
        error = std::move(why);
        return std::nullopt;
    };
    if (!j.is_object() || j.value("format", "") != "mq-hist") return fail("not an mq-hist histogram");
    if (j.value("version", 0) != 1) return fail("unsupported mq-hist version");
    if (j.value("unit", "") != "ns") return fail("unit is not ns");
    if (j.value("sub_bucket_bits", 0u) != sub_bucket_bits) return fail("different sub_bucket_bits (need 7)");
    const auto u64 = [&](const char* key, std::uint64_t& out) {
        const auto it = j.find(key);
        if (it == j.end() || !it->is_number_unsigned()) return false;
        out = it->get<std::uint64_t>();
        return true;
    };
    histogram h;
    std::uint64_t mn = 0;
    if (!u64("count", h.count_) || !u64("min", mn) || !u64("max", h.max_) || !u64("sum", h.sum_) ||
        !u64("overflow", h.overflow_)) {
        return fail("count, min, max, sum and overflow must be unsigned integers");
    }
    h.min_ = h.count_ == 0 ? UINT64_MAX : mn;
    const auto it = j.find("buckets");
    if (it == j.end() || !it->is_array()) return fail("buckets must be an array");
    std::uint64_t total = 0;
    for (const auto& b : *it) {
        if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned()) {
            return fail("bucket entries must be [index,count]");
        }
        const auto idx = b[0].get<std::uint64_t>();
        if (idx >= bucket_count) return fail("bucket index out of range");
        const auto n = b[1].get<std::uint64_t>();
        h.buckets_[static_cast<std::size_t>(idx)] += n;
        total += n;
    }
    if (total != h.count_) return fail("bucket counts do not add up to count");
    return h;
}

}  // namespace mq::tools::bench
