// SPDX-License-Identifier: MIT
#include <mqtt/codec/varint.hpp>

namespace mqtt {

varint_status decode_varint(std::span<const std::uint8_t> in, std::uint32_t& value,
                            std::size_t& used) noexcept {
    std::uint32_t result = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i >= in.size()) return varint_status::need_more;
        const std::uint8_t b = in[i];
        result |= static_cast<std::uint32_t>(b & 0x7fu) << (7 * i);
        if ((b & 0x80u) == 0) {
            // A last byte of 0 after continuation bytes means the value had a
            // shorter encoding [MQTT-1.5.5-1].
            if (i > 0 && b == 0) return varint_status::not_minimal;
            value = result;
            used = i + 1;
            return varint_status::ok;
        }
    }
    return varint_status::too_long;
}

void encode_varint(std::uint32_t value, std::vector<std::uint8_t>& out) {
    do {
        std::uint8_t b = static_cast<std::uint8_t>(value & 0x7fu);
        value >>= 7;
        if (value != 0) b = static_cast<std::uint8_t>(b | 0x80u);
        out.push_back(b);
    } while (value != 0);
}

}  // namespace mqtt
