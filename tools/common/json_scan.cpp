// SPDX-License-Identifier: MIT
#include "common/json_scan.hpp"

#include <array>
#include <cstring>
#include <limits>

namespace mq::tools::json {
namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// True when all eight bytes at `p` are printable ASCII other than '"' and
// '\\' (SWAR: a byte of x is zero iff (x - 0x01) & ~x has its top bit set).
bool plain8(const char* p) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
    const std::uint64_t quote = has_zero(v ^ (ones * '"'));
    const std::uint64_t backslash = has_zero(v ^ (ones * '\\'));
    const std::uint64_t control = (v - ones * 0x20) & ~v & highs;  // a byte below 0x20
    return ((v & highs) | quote | backslash | control) == 0;
}

char* put_utf8(char* w, std::uint32_t cp) noexcept {
    if (cp < 0x80) {
        *w++ = static_cast<char>(cp);
    } else if (cp < 0x800) {
        *w++ = static_cast<char>(0xC0 | (cp >> 6));
        *w++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = static_cast<char>(0xE0 | (cp >> 12));
        *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        *w++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        *w++ = static_cast<char>(0xF0 | (cp >> 18));
        *w++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        *w++ = static_cast<char>(0x80 | (cp & 0x3F));
    }
    return w;
}

// Bytes that need no attention inside a string: printable ASCII but '"' and '\\'.
constexpr auto plain_byte = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return t;
}();

}  // namespace

bool scanner::fail(std::string_view what) noexcept {
    if (error_.empty()) {
        try {
            error_.assign(what);
            error_ += " at column ";
            error_ += std::to_string(pos_ + 1);
        } catch (...) {
            // Out of memory for the message: keep a non-empty error all the same.
            error_.assign(1, '!');
        }
    }
    return false;
}

void scanner::skip_ws() noexcept {
    while (pos_ < text_.size() && is_ws(text_[pos_])) ++pos_;
}

bool scanner::expect(char c, std::string_view what) noexcept {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
        ++pos_;
        return true;
    }
    return fail(what);
}

kind scanner::peek() noexcept {
    skip_ws();
    if (failed() || pos_ >= text_.size()) return kind::end;
    switch (text_[pos_]) {
        case '{': return kind::object;
        case '[': return kind::array;
        case '"': return kind::string;
        case 't':
        case 'f': return kind::boolean;
        case 'n': return kind::null;
        default: return kind::number;  // validated when read
    }
}

bool scanner::at_end() noexcept {
    skip_ws();
    return !failed() && pos_ == text_.size();
}

bool scanner::enter_object() noexcept {
    if (failed() || !expect('{', "expected an object")) return false;
    if (++depth_ > max_depth_) return fail("nesting too deep");
    had_item_.reset(depth_);
    return true;
}

bool scanner::next_member(std::string_view& key, std::string& buf) noexcept {
    if (failed()) return false;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        --depth_;
        return false;
    }
    if (had_item_.test(depth_) && !expect(',', "expected ',' or '}' in an object")) return false;
    had_item_.set(depth_);
    skip_ws();
    if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a string key");
    if (!scan_string(key, &buf)) return false;
    return expect(':', "expected ':' after a key");
}

bool scanner::enter_array() noexcept {
    if (failed() || !expect('[', "expected an array")) return false;
    if (++depth_ > max_depth_) return fail("nesting too deep");
    had_item_.reset(depth_);
    return true;
}

bool scanner::next_element() noexcept {
    if (failed()) return false;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        --depth_;
        return false;
    }
    if (had_item_.test(depth_) && !expect(',', "expected ',' or ']' in an array")) return false;
    had_item_.set(depth_);
    skip_ws();
    if (pos_ >= text_.size()) return fail("unterminated array");
    return true;
}

bool scanner::read_string(std::string_view& out, std::string& buf, std::string_view* raw) noexcept {
    if (failed()) return false;
    skip_ws();
    if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a string");
    const std::size_t start = pos_;
    if (!scan_string(out, &buf)) return false;
    if (raw) *raw = text_.substr(start, pos_ - start);
    return true;
}

// Cursor on the opening quote. Plain runs are checked in place; at the first
// escape (when `buf` is given) the value is built in `buf`, sized once to the
// bytes left (decoding only ever shrinks) and written through a pointer.
bool scanner::scan_string(std::string_view& out, std::string* buf) noexcept {
    const std::size_t start = ++pos_;
    char* w = nullptr;        // write position in buf once copying
    std::size_t run = start;  // start of the bytes not yet copied to buf
    const char* const data = text_.data();
    const std::size_t size = text_.size();
    while (pos_ < size) {
        // Eight plain bytes at a time, then one at a time, up to a special byte.
        while (pos_ + 8 <= size && plain8(data + pos_)) pos_ += 8;
        while (pos_ < size && plain_byte[static_cast<unsigned char>(data[pos_])]) ++pos_;
        if (pos_ >= size) break;
        const auto c = static_cast<unsigned char>(data[pos_]);
        if (c == '"') {
            if (w) {
                std::memcpy(w, data + run, pos_ - run);
                w += pos_ - run;
                buf->resize(static_cast<std::size_t>(w - buf->data()));
                out = *buf;
            } else {
                out = text_.substr(start, pos_ - start);
            }
            ++pos_;
            return true;
        }
        if (c == '\\') {
            if (buf && !w) {
                try {
                    buf->resize(size - start);
                } catch (...) {
                    return fail("out of memory");
                }
                w = buf->data();
            }
            if (w) {
                std::memcpy(w, data + run, pos_ - run);
                w += pos_ - run;
            }
            if (!scan_escape(w)) return false;
            run = pos_;
        } else if (c < 0x20) {
            return fail("control character in a string");
        } else if (!scan_utf8()) {
            return false;
        }
    }
    return fail("unterminated string");
}

// Cursor on the backslash; writes the decoded character at `w` (advanced) if
// `w` is not null.
bool scanner::scan_escape(char*& w) noexcept {
    if (pos_ + 1 >= text_.size()) return fail("unterminated string");
    const char e = text_[pos_ + 1];
    char plain = 0;
    switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': break;
        default: return fail("invalid escape in a string");
    }
    if (plain != 0) {
        if (w) *w++ = plain;
        pos_ += 2;
        return true;
    }
    auto read_hex4 = [this](std::size_t at, std::uint32_t& cp) {
        if (at + 4 > text_.size()) return false;
        cp = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            const int v = hex_value(text_[at + i]);
            if (v < 0) return false;
            cp = cp << 4 | static_cast<std::uint32_t>(v);
        }
        return true;
    };
    std::uint32_t cp = 0;
    if (!read_hex4(pos_ + 2, cp)) return fail("invalid \\u escape");
    pos_ += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        // A high surrogate must be followed by an escaped low one (UTF-16 pair).
        std::uint32_t low = 0;
        if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u' || !read_hex4(pos_ + 2, low) ||
            low < 0xDC00 || low > 0xDFFF) {
            return fail("lone high surrogate in a \\u escape");
        }
        pos_ += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (w) w = put_utf8(w, cp);  // 6 escaped bytes give at most 3, 12 at most 4
    return true;
}

// Cursor on a byte >= 0x80: one well-formed UTF-8 sequence (no overlong forms,
// no surrogates, nothing above U+10FFFF; RFC 3629).
bool scanner::scan_utf8() noexcept {
    const auto b0 = static_cast<unsigned char>(text_[pos_]);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return fail("invalid UTF-8");
    }
    if (pos_ + len > text_.size()) return fail("invalid UTF-8");
    for (std::size_t i = 1; i < len; ++i) {
        const auto b = static_cast<unsigned char>(text_[pos_ + i]);
        const unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (b < min || b > max) return fail("invalid UTF-8");
    }
    pos_ += len;
    return true;
}

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool scanner::scan_number() noexcept {
    auto digits = [this] {
        const std::size_t from = pos_;
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
        return pos_ > from;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
        ++pos_;
    } else if (!digits()) {
        return fail("invalid value");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        if (!digits()) return fail("invalid number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        ++pos_;
        if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
        if (!digits()) return fail("invalid number");
    }
    return true;
}

bool scanner::scan_literal(std::string_view word) noexcept {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid value");
    pos_ += word.size();
    return true;
}

bool scanner::read_uint(std::uint64_t& out) noexcept {
    if (failed()) return false;
    skip_ws();
    const std::size_t start = pos_;
    if (!scan_number()) return false;
    const std::string_view num = text_.substr(start, pos_ - start);
    std::uint64_t v = 0;
    for (const char c : num) {
        if (!is_digit(c)) return fail("expected a non-negative integer");
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return fail("integer out of range");
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool scanner::read_bool(bool& out) noexcept {
    if (failed()) return false;
    skip_ws();
    if (text_.substr(pos_, 4) == "true") {
        pos_ += 4;
        out = true;
        return true;
    }
    if (text_.substr(pos_, 5) == "false") {
        pos_ += 5;
        out = false;
        return true;
    }
    return fail("expected true or false");
}

bool scanner::skip_value(std::string_view& raw) noexcept {
    if (failed()) return false;
    skip_ws();
    const std::size_t start = pos_;
    if (!scan_value(depth_)) return false;
    raw = text_.substr(start, pos_ - start);
    return true;
}

// Validates one value; containers recurse, bounded by max_depth_.
bool scanner::scan_value(std::size_t depth) noexcept {
    skip_ws();
    if (pos_ >= text_.size()) return fail("expected a value");
    const char c = text_[pos_];
    if (c == '"') {
        std::string_view ignored;
        return scan_string(ignored, nullptr);
    }
    if (c == 't') return scan_literal("true");
    if (c == 'f') return scan_literal("false");
    if (c == 'n') return scan_literal("null");
    if (c != '{' && c != '[') return scan_number();
    if (depth + 1 > max_depth_) return fail("nesting too deep");
    const char close = c == '{' ? '}' : ']';
    ++pos_;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == close) {
        ++pos_;
        return true;
    }
    for (;;) {
        if (c == '{') {
            skip_ws();
            std::string_view ignored;
            if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a string key");
            if (!scan_string(ignored, nullptr) || !expect(':', "expected ':' after a key")) return false;
        }
        if (!scan_value(depth + 1)) return false;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == close) {
            ++pos_;
            return true;
        }
        if (!expect(',', c == '{' ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array"))
            return false;
    }
}

void minify(std::string_view raw, std::vector<std::uint8_t>& out) {
    out.reserve(out.size() + raw.size());
    bool in_string = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (in_string) {
            out.push_back(static_cast<std::uint8_t>(c));
            if (c == '\\' && i + 1 < raw.size()) out.push_back(static_cast<std::uint8_t>(raw[++i]));
            else if (c == '"') in_string = false;
        } else if (!is_ws(c)) {
            out.push_back(static_cast<std::uint8_t>(c));
            if (c == '"') in_string = true;
        }
    }
}

}  // namespace mq::tools::json
