// SPDX-License-Identifier: MIT
#include "bench/loss_tracker.hpp"

namespace mq::tools::bench {

bool loss_tracker::test(std::uint64_t seq) const noexcept {
    const std::uint64_t pos = seq % window;
    return (bits_[pos / 64] >> (pos % 64)) & 1u;
}

void loss_tracker::set(std::uint64_t seq) noexcept {
    const std::uint64_t pos = seq % window;
    bits_[pos / 64] |= std::uint64_t{1} << (pos % 64);
}

void loss_tracker::clear_range(std::uint64_t from, std::uint64_t to) noexcept {
    if (to - from >= window) {
        bits_.fill(0);
        return;
    }
    // The ring positions of numbers the window slides over now belong to new numbers.
    for (std::uint64_t s = from + 1; s <= to; ++s) {
        const std::uint64_t pos = s % window;
        if (pos % 64 == 0 && to - s >= 63) {
            bits_[pos / 64] = 0;
            s += 63;
            continue;
        }
        bits_[pos / 64] &= ~(std::uint64_t{1} << (pos % 64));
    }
}

arrival loss_tracker::observe(std::uint64_t seq) noexcept {
    if (!any_ || seq > highest_) {
        if (any_) {
            clear_range(highest_, seq);
        } else {
            bits_.fill(0);
        }
        // Numbers below the first one seen are still inside the window; they have not
        // arrived, so their bits stay clear and a later arrival counts as reordered.
        any_ = true;
        highest_ = seq;
        set(seq);
        ++unique_;
        return arrival::in_order;
    }
    if (highest_ - seq >= window) {
        ++late_;
        return arrival::late;
    }
    if (test(seq)) {
        ++duplicates_;
        return arrival::duplicate;
    }
    set(seq);
    ++unique_;
    ++reordered_;
    return arrival::reordered;
}

std::uint64_t loss_tracker::lost(std::uint64_t expected) const noexcept {
    const std::uint64_t got = unique_ + late_;
    return got >= expected ? 0 : expected - got;
}

}  // namespace mq::tools::bench
