// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>

namespace mqtt {

/// Limits applied while splitting and decoding. They are checked before memory
/// is allocated for the thing they bound.
struct limits {
    /// Whole packet, fixed header included. The protocol maximum is 268,435,460.
    std::uint32_t max_packet_size = 268'435'460;
    /// Bytes of any UTF-8 string or binary field.
    std::uint32_t max_string_length = 65'535;
    /// User Property pairs in one property block (the Will's counted separately).
    std::uint32_t max_user_properties = 65'535;
    /// Levels ('/'-separated) of a topic name or filter.
    std::uint32_t max_topic_levels = 65'535;
    /// Decode as the server side: rejects properties a client may not send
    /// (Subscription Identifier in PUBLISH [MQTT-3.3.4-6]).
    bool from_client = false;
};

/// The largest value the 4-byte Variable Byte Integer can hold [MQTT-1.5.5].
inline constexpr std::uint32_t max_varint = 268'435'455;

}  // namespace mqtt
