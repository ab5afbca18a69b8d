// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mqtt {

enum class varint_status : std::uint8_t { ok, need_more, too_long, not_minimal };

/// Decodes a Variable Byte Integer [MQTT-1.5.5]. On ok, `value` and `used` are set.
/// need_more: the input ends inside the integer. too_long: a fifth byte would be
/// needed. not_minimal: a trailing 0x00 continuation byte [MQTT-1.5.5-1].
varint_status decode_varint(std::span<const std::uint8_t> in, std::uint32_t& value,
                            std::size_t& used) noexcept;

/// Bytes needed to encode `value` (1..4); value must be <= max_varint.
constexpr std::size_t varint_size(std::uint32_t value) noexcept {
    return value < 128u ? 1 : value < 16'384u ? 2 : value < 2'097'152u ? 3 : 4;
}

/// Appends the minimal encoding of `value` (<= max_varint).
void encode_varint(std::uint32_t value, std::vector<std::uint8_t>& out);

}  // namespace mqtt
