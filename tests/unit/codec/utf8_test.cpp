// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <mqtt/codec/utf8.hpp>

using mqtt::check_utf8;
using mqtt::utf8_status;

namespace {

std::string bytes(std::initializer_list<unsigned> list) {
    std::string s;
    for (unsigned b : list) s.push_back(static_cast<char>(b));
    return s;
}

// Plain encoder for any 21-bit value, surrogates included, so the tests can
// build both valid and invalid strings.
std::string encode_cp(std::uint32_t cp) {
    std::string s;
    auto put = [&s](std::uint32_t b) { s.push_back(static_cast<char>(b & 0xFFU)); };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0U | (cp >> 6));
        put(0x80U | (cp & 0x3FU));
    } else if (cp < 0x10000) {
        put(0xE0U | (cp >> 12));
        put(0x80U | ((cp >> 6) & 0x3FU));
        put(0x80U | (cp & 0x3FU));
    } else {
        put(0xF0U | (cp >> 18));
        put(0x80U | ((cp >> 12) & 0x3FU));
        put(0x80U | ((cp >> 6) & 0x3FU));
        put(0x80U | (cp & 0x3FU));
    }
    return s;
}

bool is_control(std::uint32_t cp) {
    return (cp >= 0x01 && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F);
}

// Independent reference: decode by bit pattern, then reject by value
// (overlong, surrogate, out of range), as RFC 3629 section 3 describes it.
utf8_status reference_check(std::string_view s, bool reject_controls) {
    bool control = false;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b0 < 0x80) {
            len = 1;
            cp = b0;
        } else if ((b0 & 0xE0U) == 0xC0U) {
            len = 2;
            cp = b0 & 0x1FU;
        } else if ((b0 & 0xF0U) == 0xE0U) {
            len = 3;
            cp = b0 & 0x0FU;
        } else if ((b0 & 0xF8U) == 0xF0U) {
            len = 4;
            cp = b0 & 0x07U;
        } else {
            return utf8_status::invalid;
        }
        if (i + len > s.size()) return utf8_status::invalid;
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0U) != 0x80U) return utf8_status::invalid;
            cp = (cp << 6) | (b & 0x3FU);
        }
        constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return utf8_status::invalid;
        }
        if (cp == 0) return utf8_status::null_character;
        if (is_control(cp)) control = true;
        i += len;
    }
    return control && reject_controls ? utf8_status::control : utf8_status::ok;
}

}  // namespace

TEST_CASE("MQTT-1.5.4-1 well-formed UTF-8 is accepted at every length boundary") {
    CHECK(check_utf8("") == utf8_status::ok);
    CHECK(check_utf8("sport/tennis/player1") == utf8_status::ok);
    for (std::uint32_t cp :
         {0x20U, 0x7EU, 0xA0U, 0x7FFU, 0x800U, 0xD7FFU, 0xE000U, 0xFFFDU, 0x10000U, 0x10FFFFU}) {
        CAPTURE(cp);
        CHECK(check_utf8(encode_cp(cp)) == utf8_status::ok);
        CHECK(check_utf8(encode_cp(cp), true) == utf8_status::ok);
    }
    CHECK(check_utf8("Grüße, 世界, 😀 and ASCII after it") == utf8_status::ok);
}

TEST_CASE("MQTT-1.5.4-1 every scalar value is accepted and every surrogate refused") {
    // Exhaustive over U+0001..U+10FFFF, checked with and without the policy.
    std::size_t wrong = 0;
    for (std::uint32_t cp = 1; cp <= 0x10FFFF; ++cp) {
        const std::string s = encode_cp(cp);
        const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        const utf8_status lax = surrogate ? utf8_status::invalid : utf8_status::ok;
        const utf8_status strict = surrogate        ? utf8_status::invalid
                                   : is_control(cp) ? utf8_status::control
                                                    : utf8_status::ok;
        if (check_utf8(s) != lax || check_utf8(s, true) != strict) ++wrong;
    }
    CHECK(wrong == 0);
}

TEST_CASE("MQTT-1.5.4-1 overlong encodings are invalid") {
    for (const std::string& s :
         {bytes({0xC0, 0x80}), bytes({0xC0, 0xAF}), bytes({0xC1, 0xBF}), bytes({0xE0, 0x80, 0x80}),
          bytes({0xE0, 0x80, 0xAF}), bytes({0xE0, 0x9F, 0xBF}), bytes({0xF0, 0x80, 0x80, 0x80}),
          bytes({0xF0, 0x8F, 0xBF, 0xBF}), bytes({0xF8, 0x88, 0x80, 0x80, 0x80})}) {
        CAPTURE(s.size());
        CHECK(check_utf8(s) == utf8_status::invalid);
        CHECK(check_utf8("topic/" + s) == utf8_status::invalid);
    }
}

TEST_CASE("MQTT-1.5.4-1 surrogates D800 to DFFF are invalid") {
    CHECK(check_utf8(bytes({0xED, 0xA0, 0x80})) == utf8_status::invalid);  // U+D800
    CHECK(check_utf8(bytes({0xED, 0xBF, 0xBF})) == utf8_status::invalid);  // U+DFFF
    // A CESU-8 style surrogate pair for U+1F600 is not UTF-8 either.
    CHECK(check_utf8(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})) == utf8_status::invalid);
    CHECK(check_utf8(bytes({0xED, 0x9F, 0xBF})) == utf8_status::ok);  // U+D7FF
}

TEST_CASE("MQTT-1.5.4-1 code points above 10FFFF and bytes F5 to FF are invalid") {
    CHECK(check_utf8(bytes({0xF4, 0x90, 0x80, 0x80})) == utf8_status::invalid);  // U+110000
    CHECK(check_utf8(bytes({0xF4, 0xBF, 0xBF, 0xBF})) == utf8_status::invalid);
    for (unsigned lead = 0xF5; lead <= 0xFF; ++lead) {
        CAPTURE(lead);
        CHECK(check_utf8(bytes({lead, 0x80, 0x80, 0x80})) == utf8_status::invalid);
    }
}

TEST_CASE("MQTT-1.5.4-1 truncated sequences and stray continuation bytes are invalid") {
    for (const std::string& s :
         {bytes({0xC3}), bytes({0xE2, 0x82}), bytes({0xF0, 0x9F, 0x98}), bytes({0x80}),
          bytes({0xBF}), bytes({0xC3, 0x28}), bytes({0xE2, 0x28, 0xA1}), bytes({0xE2, 0x82, 0x28}),
          bytes({0xF0, 0x9F, 0x28, 0x80}), bytes({0xF0, 0x9F, 0x98, 0x28}),
          bytes({0xC3, 0xA9, 0xA9})}) {
        CAPTURE(s.size());
        CHECK(check_utf8(s) == utf8_status::invalid);
    }
    // A multi-byte character cut by the end of a long ASCII run.
    CHECK(check_utf8(std::string(15, 'a') + bytes({0xE2, 0x82})) == utf8_status::invalid);
    CHECK(check_utf8(std::string(15, 'a') + bytes({0xE2, 0x82, 0xAC})) == utf8_status::ok);
}

TEST_CASE("MQTT-1.5.4-2 the null character is reported as null_character") {
    CHECK(check_utf8(std::string_view("\0", 1)) == utf8_status::null_character);
    CHECK(check_utf8(std::string_view("abc\0def", 7)) == utf8_status::null_character);
    CHECK(check_utf8(std::string_view("abc\0def", 7), true) == utf8_status::null_character);
    // A control before it does not hide it, even under the policy.
    CHECK(check_utf8(std::string_view("\x01\0", 2), true) == utf8_status::null_character);
    // The overlong form C0 80 is not a null character: it is not UTF-8 at all.
    CHECK(check_utf8(bytes({0xC0, 0x80})) == utf8_status::invalid);
}

TEST_CASE("control characters are refused only under the reject_controls policy") {
    for (std::uint32_t cp : {0x01U, 0x09U, 0x0AU, 0x1BU, 0x1FU, 0x7FU, 0x80U, 0x85U, 0x9FU}) {
        CAPTURE(cp);
        const std::string s = "a/" + encode_cp(cp) + "/b";
        CHECK(check_utf8(s) == utf8_status::ok);
        CHECK(check_utf8(s, true) == utf8_status::control);
    }
    for (std::uint32_t cp : {0x20U, 0x7EU, 0xA0U, 0xADU}) {
        CAPTURE(cp);
        CHECK(check_utf8(encode_cp(cp), true) == utf8_status::ok);
    }
    // Malformed input after a control is still malformed.
    CHECK(check_utf8(bytes({0x01, 0xFF}), true) == utf8_status::invalid);
    CHECK(check_utf8(bytes({0x01, 0xFF})) == utf8_status::invalid);
}

TEST_CASE("MQTT-1.5.4-3 BOM FEFF and non-characters are accepted") {
    CHECK(check_utf8(bytes({0xEF, 0xBB, 0xBF}) + "topic") == utf8_status::ok);
    CHECK(check_utf8(bytes({0xEF, 0xBB, 0xBF}) + "topic", true) == utf8_status::ok);
    CHECK(check_utf8(bytes({0xEF, 0xBF, 0xBF})) == utf8_status::ok);        // U+FFFF
    CHECK(check_utf8(bytes({0xEF, 0xB7, 0x90})) == utf8_status::ok);        // U+FDD0
    CHECK(check_utf8(bytes({0xF4, 0x8F, 0xBF, 0xBE})) == utf8_status::ok);  // U+10FFFE
}

TEST_CASE("the ASCII fast path still finds a bad byte at every offset") {
    // The validator skips printable ASCII a word at a time; a problem byte at
    // any offset (word start, middle, end, tail) must still be seen.
    for (std::size_t len = 1; len <= 40; ++len) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            CAPTURE(len);
            CAPTURE(pos);
            std::string s(len, 'x');
            s[pos] = '\0';
            CHECK(check_utf8(s) == utf8_status::null_character);
            s[pos] = '\x7F';
            CHECK(check_utf8(s) == utf8_status::ok);
            CHECK(check_utf8(s, true) == utf8_status::control);
            s[pos] = '\x1F';
            CHECK(check_utf8(s, true) == utf8_status::control);
            s[pos] = static_cast<char>(0x80);
            CHECK(check_utf8(s) == utf8_status::invalid);
            s[pos] = static_cast<char>(0xFF);
            CHECK(check_utf8(s) == utf8_status::invalid);
        }
    }
}

TEST_CASE("MQTT-1.5.4-1 random byte strings agree with a reference decoder") {
    std::mt19937 rng(20'240'611);
    // Bias towards the bytes where the rules live.
    const unsigned interesting[] = {0x00, 0x01, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x80, 0x8F, 0x90,
                                    0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
                                    0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
    std::uniform_int_distribution<std::size_t> pick(0, std::size(interesting) - 1);
    std::uniform_int_distribution<unsigned> any_byte(0, 255);
    std::uniform_int_distribution<std::size_t> length(0, 20);
    std::uniform_int_distribution<std::uint32_t> scalar(1, 0x10FFFF);
    std::size_t mismatches = 0;
    std::size_t valid = 0;
    for (int round = 0; round < 100'000; ++round) {
        std::string s;
        const std::size_t n = length(rng);
        for (std::size_t i = 0; i < n; ++i) {
            switch (rng() % 4) {
                case 0: s.push_back(static_cast<char>(interesting[pick(rng)])); break;
                case 1: s.push_back(static_cast<char>(any_byte(rng))); break;
                case 2: s.push_back(static_cast<char>('a' + rng() % 26)); break;
                default: {
                    std::uint32_t cp = scalar(rng);
                    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFEFF;
                    s += encode_cp(cp);
                }
            }
        }
        for (bool policy : {false, true}) {
            const utf8_status expected = reference_check(s, policy);
            if (check_utf8(s, policy) != expected) ++mismatches;
            if (expected == utf8_status::ok && s.size() >= 8) ++valid;
        }
    }
    CHECK(mismatches == 0);
    CHECK(valid > 100);  // the generator does reach the accepting side
}
