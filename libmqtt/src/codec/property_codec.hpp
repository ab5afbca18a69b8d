// SPDX-License-Identifier: MIT
#pragma once
// Wire form of property blocks (MQTT 5.0 section 2.2.2). Internal to the codec.
#include <cstddef>
#include <vector>

#include <mqtt/codec/properties.hpp>

#include "wire.hpp"

namespace mqtt::detail {

/// Reads Property Length and the block; validates type, placement, duplicates,
/// values and limits [MQTT-2.2.2-1] [MQTT-2.2.2-2].
void read_properties(reader& r, property_context ctx, properties& out);

/// Bytes of the properties themselves, without the Property Length prefix;
/// SIZE_MAX when a value cannot be represented.
std::size_t properties_body_size(const properties& p) noexcept;
/// Property Length plus body.
std::size_t properties_size(const properties& p) noexcept;
void write_properties(std::vector<std::uint8_t>& out, const properties& p);

}  // namespace mqtt::detail
