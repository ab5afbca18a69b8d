// SPDX-License-Identifier: MIT
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

namespace mqtt::core {

/// Packet identifiers 1..65535 in use by one side of a session [MQTT-2.2.1-3].
/// Allocation scans forward from the last id handed out, so ids are reused as
/// late as possible (a late ack for an old id cannot hit a fresh message).
/// The 65,535 ids of one direction of a session. The 8 KiB bitmap is
/// allocated at the first id in use: most broker sessions never send a QoS 1/2
/// message, and an idle connection should cost hundreds of bytes, not kilobytes.
class packet_id_pool {
public:
    packet_id_pool() = default;
    packet_id_pool(const packet_id_pool& other);
    packet_id_pool& operator=(const packet_id_pool& other);
    packet_id_pool(packet_id_pool&&) noexcept = default;
    packet_id_pool& operator=(packet_id_pool&&) noexcept = default;

    /// A free non-zero id, or nullopt when all 65,535 are in use.
    std::optional<std::uint16_t> allocate() noexcept;
    /// Marks `id` as used (resumed session state); false if 0 or already used.
    bool reserve(std::uint16_t id) noexcept;
    /// Frees `id`; freeing a free id is a no-op.
    void release(std::uint16_t id) noexcept;
    bool in_use(std::uint16_t id) const noexcept;
    std::uint32_t used() const noexcept { return used_; }
    void clear() noexcept;

private:
    using bitmap = std::array<std::uint64_t, 1024>;  // bit i set: id i in use (bit 0 unused)
    bitmap& bits();
    std::unique_ptr<bitmap> bits_;
    std::uint16_t cursor_ = 0;
    std::uint32_t used_ = 0;
};

}  // namespace mqtt::core
