// SPDX-License-Identifier: MIT
#include <mqtt/codec/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mqtt {
namespace {

constexpr std::uint64_t ones = 0x0101'0101'0101'0101ULL;
constexpr std::uint64_t highs = 0x8080'8080'8080'8080ULL;

// True when all 8 bytes are printable ASCII (0x20..0x7E): nothing to decode and
// nothing any policy can refuse, so the whole word is skipped. The subtraction
// trick reports "some byte below n" without false positives once no byte has
// its high bit set (bit-twiddling "hasless"/"haszero").
constexpr bool printable_ascii_word(std::uint64_t w) noexcept {
    if ((w & highs) != 0) return false;
    const bool has_below_space = ((w - ones * 0x20U) & ~w & highs) != 0;
    const std::uint64_t del = w ^ (ones * 0x7FU);
    const bool has_del = ((del - ones) & ~del & highs) != 0;
    return !has_below_space && !has_del;
}

constexpr bool is_continuation(unsigned char c) noexcept { return (c & 0xC0U) == 0x80U; }

}  // namespace

utf8_status check_utf8(std::string_view s, bool reject_controls) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    bool saw_control = false;
    std::size_t i = 0;
    while (i < n) {
        // Fast path: runs of printable ASCII, a word at a time.
        if (n - i >= 8) {
            std::uint64_t w = 0;
            std::memcpy(&w, p + i, sizeof w);
            if (printable_ascii_word(w)) {
                i += 8;
                continue;
            }
        }
        const unsigned char c = p[i];
        if (c < 0x80U) {
            // [MQTT-1.5.4-2] U+0000 is never allowed.
            if (c == 0) return utf8_status::null_character;
            // U+0001..U+001F and U+007F: allowed, but a policy may refuse them.
            if (c < 0x20U || c == 0x7FU) saw_control = true;
            ++i;
            continue;
        }
        // Multi-byte sequence. The ranges of the second byte follow RFC 3629
        // section 4 (Unicode Table 3-7); they exclude overlong forms (C0, C1,
        // E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
        // U+10FFFF (F4 90.., F5..FF) [MQTT-1.5.4-1].
        std::size_t len = 0;
        unsigned char lo = 0x80U;
        unsigned char hi = 0xBFU;
        if (c >= 0xC2U && c <= 0xDFU) {
            len = 2;
        } else if (c == 0xE0U) {
            len = 3;
            lo = 0xA0U;
        } else if (c == 0xEDU) {
            len = 3;
            hi = 0x9FU;
        } else if (c >= 0xE1U && c <= 0xEFU) {
            len = 3;
        } else if (c == 0xF0U) {
            len = 4;
            lo = 0x90U;
        } else if (c >= 0xF1U && c <= 0xF3U) {
            len = 4;
        } else if (c == 0xF4U) {
            len = 4;
            hi = 0x8FU;
        } else {
            return utf8_status::invalid;  // stray continuation, C0/C1, F5..FF
        }
        if (n - i < len) return utf8_status::invalid;  // truncated sequence
        const unsigned char c1 = p[i + 1];
        if (c1 < lo || c1 > hi) return utf8_status::invalid;
        for (std::size_t k = 2; k < len; ++k) {
            if (!is_continuation(p[i + k])) return utf8_status::invalid;
        }
        // U+0080..U+009F (C2 80..C2 9F) are the C1 controls.
        if (c == 0xC2U && c1 <= 0x9FU) saw_control = true;
        // U+FEFF and non-characters such as U+FFFF pass [MQTT-1.5.4-3].
        i += len;
    }
    return saw_control && reject_controls ? utf8_status::control : utf8_status::ok;
}

}  // namespace mqtt
