// SPDX-License-Identifier: MIT
// A small set of packet ids kept as a sorted vector.
//
// Why: the broker keeps one per session (inbound QoS 2 ids awaiting PUBREL).
// std::unordered_set is 56 bytes even when empty; this is 24 and allocates
// nothing until the first id (issue 4, memory per idle connection). The set
// holds at most Receive Maximum ids, so a binary search and a short move are
// cheaper than hashing.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace mqtt::core {

class id_set {
public:
    using const_iterator = std::vector<std::uint16_t>::const_iterator;

    /// Adds `id`; the bool is false when it was there already.
    std::pair<const_iterator, bool> insert(std::uint16_t id) {
        auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
        if (it != ids_.end() && *it == id) return {it, false};
        return {ids_.insert(it, id), true};
    }
    template <class It>
    void insert(It first, It last) {
        for (; first != last; ++first) insert(static_cast<std::uint16_t>(*first));
    }
    bool contains(std::uint16_t id) const noexcept { return std::binary_search(ids_.begin(), ids_.end(), id); }
    /// Number of ids removed (0 or 1).
    std::size_t erase(std::uint16_t id) noexcept {
        auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
        if (it == ids_.end() || *it != id) return 0;
        ids_.erase(it);
        if (ids_.empty()) std::vector<std::uint16_t>().swap(ids_);  // an idle session holds no block
        return 1;
    }
    std::size_t size() const noexcept { return ids_.size(); }
    bool empty() const noexcept { return ids_.empty(); }
    void clear() noexcept { std::vector<std::uint16_t>().swap(ids_); }
    const_iterator begin() const noexcept { return ids_.begin(); }
    const_iterator end() const noexcept { return ids_.end(); }

private:
    std::vector<std::uint16_t> ids_;
};

}  // namespace mqtt::core
