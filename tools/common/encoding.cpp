// SPDX-License-Identifier: MIT
#include "common/encoding.hpp"

#include <array>

namespace mq::tools {
namespace {

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_b64_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto b64_table = make_b64_table();

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void base64_encode(std::span<const std::uint8_t> in, std::string& out) {
    // Sized once and written through a pointer: mq sub --json encodes every
    // binary payload here, and a push_back per character showed in profiles.
    const std::size_t at = out.size();
    out.resize(at + (in.size() + 2) / 3 * 4);
    char* o = out.data() + at;
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
        *o++ = b64_alphabet[(v >> 18) & 63];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = b64_alphabet[(v >> 6) & 63];
        *o++ = b64_alphabet[v & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return;
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (rest == 2) v |= std::uint32_t{in[i + 1]} << 8;
    *o++ = b64_alphabet[(v >> 18) & 63];
    *o++ = b64_alphabet[(v >> 12) & 63];
    *o++ = rest == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
    *o = '=';
}

bool base64_decode(std::string_view in, std::vector<std::uint8_t>& out) {
    out.clear();
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    if (in.size() % 4 == 1) return false;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const auto v = b64_table[static_cast<unsigned char>(c)];
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
        }
    }
    return true;
}

void hex_encode(std::span<const std::uint8_t> in, std::string& out, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    out.reserve(out.size() + in.size() * 2);
    for (auto b : in) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
}

bool hex_decode(std::string_view in, std::vector<std::uint8_t>& out) {
    out.clear();
    if (in.size() % 2 != 0) return false;
    out.reserve(in.size() / 2);
    for (std::size_t i = 0; i < in.size(); i += 2) {
        const int hi = hex_value(in[i]);
        const int lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return true;
}

void json_quote(std::string_view s, std::string& out) {
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    // Copy runs that need no escape in one append: payloads are mostly plain
    // text and a per-character push_back was mq sub --json's top cost.
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default: {
            static constexpr char digits[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

}  // namespace mq::tools
