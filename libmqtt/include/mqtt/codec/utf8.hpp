// SPDX-License-Identifier: MIT
#pragma once
#include <string_view>

#include <mqtt/codec/reason.hpp>

namespace mqtt {

enum class utf8_status : unsigned char {
    ok,
    invalid,         // not well-formed RFC 3629, surrogates, overlong [MQTT-1.5.4-1]
    null_character,  // U+0000 [MQTT-1.5.4-2]
    control,         // U+0001..U+001F or U+007F..U+009F (allowed, but a policy may refuse)
};

/// Validates an MQTT UTF-8 string. With `reject_controls`, control characters
/// [MQTT-1.5.4-?] (spec says "SHOULD NOT") are reported as `control`.
/// U+FEFF (BOM) and non-characters such as U+FFFF are accepted [MQTT-1.5.4-3].
utf8_status check_utf8(std::string_view s, bool reject_controls = false) noexcept;

}  // namespace mqtt
