// SPDX-License-Identifier: MIT
#include <mqtt/core/packet_id_pool.hpp>

#include <new>

namespace mqtt::core {

namespace {
constexpr std::uint64_t bit_of(std::uint16_t id) noexcept { return std::uint64_t{1} << (id & 63u); }
}  // namespace

packet_id_pool::packet_id_pool(const packet_id_pool& other)
    : bits_(other.bits_ ? std::make_unique<bitmap>(*other.bits_) : nullptr),
      cursor_(other.cursor_),
      used_(other.used_) {}

packet_id_pool& packet_id_pool::operator=(const packet_id_pool& other) {
    if (this != &other) *this = packet_id_pool(other);
    return *this;
}

packet_id_pool::bitmap& packet_id_pool::bits() {
    if (!bits_) bits_ = std::make_unique<bitmap>();  // zeroed: no id in use
    return *bits_;
}

std::optional<std::uint16_t> packet_id_pool::allocate() noexcept {
    if (used_ >= 65'535u) return std::nullopt;
    bitmap* b = nullptr;
    try {
        b = &bits();
    } catch (const std::bad_alloc&) {
        return std::nullopt;  // like a full pool: the message waits in the queue
    }
    auto& words = *b;
    std::uint16_t id = cursor_;
    for (std::uint32_t n = 0; n < 65'536u; ++n) {
        id = static_cast<std::uint16_t>(id + 1u);
        if (id == 0) continue;  // 0 is never a valid packet id [MQTT-2.2.1-3]
        if ((words[id >> 6] & bit_of(id)) == 0) {
            words[id >> 6] |= bit_of(id);
            ++used_;
            cursor_ = id;
            return id;
        }
    }
    return std::nullopt;
}

bool packet_id_pool::reserve(std::uint16_t id) noexcept {
    if (id == 0 || in_use(id)) return false;
    try {
        bits()[id >> 6] |= bit_of(id);
    } catch (const std::bad_alloc&) {
        return false;
    }
    ++used_;
    return true;
}

void packet_id_pool::release(std::uint16_t id) noexcept {
    if (id == 0 || !in_use(id)) return;
    (*bits_)[id >> 6] &= ~bit_of(id);
    --used_;
}

bool packet_id_pool::in_use(std::uint16_t id) const noexcept {
    return bits_ && ((*bits_)[id >> 6] & bit_of(id)) != 0;
}

void packet_id_pool::clear() noexcept {
    bits_.reset();  // the next id in use allocates it again
    used_ = 0;
}

}  // namespace mqtt::core
