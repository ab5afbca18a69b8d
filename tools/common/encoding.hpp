// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools {

/// Standard base64 (RFC 4648 §4) with '=' padding, appended to `out`.
void base64_encode(std::span<const std::uint8_t> in, std::string& out);
/// Decodes padded or unpadded standard base64; false on any other character.
bool base64_decode(std::string_view in, std::vector<std::uint8_t>& out);
/// Hex digits, lower or upper case, appended to `out`.
void hex_encode(std::span<const std::uint8_t> in, std::string& out, bool upper = false);
/// Decodes an even number of hex digits; false otherwise.
bool hex_decode(std::string_view in, std::vector<std::uint8_t>& out);
/// Appends `s` as a JSON string literal (quotes included), escaping '"', '\\'
/// and control characters. `s` must be valid UTF-8; bytes are copied as is.
void json_quote(std::string_view s, std::string& out);

inline std::string_view as_text(std::span<const std::uint8_t> b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace mq::tools
