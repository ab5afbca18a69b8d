// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mqtt {

/// Exact number of bytes encode() will append, or 0 when the packet cannot be
/// represented (string over 65,535 bytes, remaining length over max_varint).
std::size_t encoded_size(const packet& p, protocol_version version) noexcept;

/// Appends the wire form of `p`. For 3.1.1, v5-only content (properties, ack
/// reason codes, AUTH) is dropped; AUTH itself cannot be encoded for 3.1.1.
/// Errors (out left unchanged): codec_error::string_too_long, packet_too_large,
/// auth_on_v311. Semantic checks (topic rules, packet ids) are the caller's.
[[nodiscard]] std::error_code encode(const packet& p, protocol_version version,
                                     std::vector<std::uint8_t>& out);

}  // namespace mqtt
