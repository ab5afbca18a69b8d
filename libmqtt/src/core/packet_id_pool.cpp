// SPDX-License-Identifier: MIT
#include <mqtt/core/packet_id_pool.hpp>

namespace mqtt::core {

namespace {
constexpr std::uint64_t bit_of(std::uint16_t id) noexcept { return std::uint64_t{1} << (id & 63u); }
}  // namespace

std::optional<std::uint16_t> packet_id_pool::allocate() noexcept {
    if (used_ >= 65'535u) return std::nullopt;
    std::uint16_t id = cursor_;
    for (std::uint32_t n = 0; n < 65'536u; ++n) {
        id = static_cast<std::uint16_t>(id + 1u);
        if (id == 0) continue;  // 0 is never a valid packet id [MQTT-2.2.1-3]
        if ((bits_[id >> 6] & bit_of(id)) == 0) {
            bits_[id >> 6] |= bit_of(id);
            ++used_;
            cursor_ = id;
            return id;
        }
    }
    return std::nullopt;
}

bool packet_id_pool::reserve(std::uint16_t id) noexcept {
    if (id == 0 || in_use(id)) return false;
    bits_[id >> 6] |= bit_of(id);
    ++used_;
    return true;
}

void packet_id_pool::release(std::uint16_t id) noexcept {
    if (id == 0 || !in_use(id)) return;
    bits_[id >> 6] &= ~bit_of(id);
    --used_;
}

bool packet_id_pool::in_use(std::uint16_t id) const noexcept {
    return (bits_[id >> 6] & bit_of(id)) != 0;
}

void packet_id_pool::clear() noexcept {
    bits_.fill(0);
    used_ = 0;
}

}  // namespace mqtt::core
