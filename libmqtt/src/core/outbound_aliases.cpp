// SPDX-License-Identifier: MIT
#include <mqtt/core/outbound_aliases.hpp>

#include <algorithm>

namespace mqtt::core {

outbound_aliases::outbound_aliases(std::uint16_t maximum) noexcept : maximum_(std::min(maximum, cap)) {}

outbound_aliases::choice outbound_aliases::assign(std::string_view topic) {
    if (maximum_ == 0 || topic.empty()) return {};
    ++clock_;
    if (auto it = by_topic_.find(topic); it != by_topic_.end()) {
        slots_[it->second - 1u].used = clock_;
        return {it->second, false};
    }
    std::size_t index = 0;
    if (slots_.size() < maximum_) {
        // A free slot left by forget() first, else a new one.
        const auto free =
            std::find_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.topic.empty(); });
        index = static_cast<std::size_t>(free - slots_.begin());
        if (free == slots_.end()) slots_.emplace_back();
    } else {
        // All taken: redefine the least recently used [MQTT-3.3.2-12].
        const auto lru = std::min_element(slots_.begin(), slots_.end(),
                                          [](const slot& a, const slot& b) { return a.used < b.used; });
        index = static_cast<std::size_t>(lru - slots_.begin());
        if (!lru->topic.empty()) by_topic_.erase(lru->topic);
    }
    auto& s = slots_[index];
    s.topic.assign(topic);
    s.used = clock_;
    const auto alias = static_cast<std::uint16_t>(index + 1);
    by_topic_.emplace(s.topic, alias);
    return {alias, true};
}

void outbound_aliases::forget(std::uint16_t alias) {
    if (alias == 0 || alias > slots_.size()) return;
    auto& s = slots_[alias - 1u];
    if (s.topic.empty()) return;
    by_topic_.erase(s.topic);
    s.topic.clear();
    s.used = 0;
}

}  // namespace mqtt::core
