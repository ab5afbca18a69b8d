// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/packets.hpp>

namespace mqtt {

/// One complete frame inside a caller-owned buffer.
struct frame_view {
    std::uint8_t first_byte = 0;           // type nibble and flags
    std::span<const std::uint8_t> body;    // variable header + payload
    std::size_t total = 0;                 // bytes of the whole frame, fixed header included
    packet_type type() const noexcept { return static_cast<packet_type>(first_byte >> 4); }
};

/// Frame splitter. Returns a frame when `in` starts with a complete one.
/// nullopt with !ec: need more bytes. nullopt with ec: fatal (remaining length
/// over 4 bytes or not minimal, or the declared size exceeds max_packet_size;
/// checked on the fixed header, before any body is buffered). Never throws.
std::optional<frame_view> next_frame(std::span<const std::uint8_t> in, const limits& lim,
                                     std::error_code& ec) noexcept;

/// Decodes one frame. CONNECT carries its own version; every other packet is
/// decoded as `version`. On failure `ec` holds a codec_error and the returned
/// packet is unspecified. Never throws on any input (std::bad_alloc aside).
packet decode_frame(const frame_view& frame, protocol_version version, const limits& lim,
                    std::error_code& ec);

/// Protocol level of a CONNECT frame without decoding it, for answering an
/// unsupported version in the right CONNACK format; nullopt if unreadable.
std::optional<std::uint8_t> peek_connect_level(const frame_view& frame) noexcept;

}  // namespace mqtt
