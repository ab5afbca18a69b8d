// SPDX-License-Identifier: MIT
#include <mqtt/core/password_file.hpp>

#include <array>
#include <charconv>

namespace mqtt::core {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool has_control(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

// Splits "a$b$c" on '$'.
std::vector<std::string_view> split_dollar(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find('$', start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) return out;
        start = pos + 1;
    }
}

// Parses one entry line; the message says what is wrong.
std::optional<password_entry> parse_entry(std::string_view text, std::string& why) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        why = "expected 'username:$pbkdf2-sha512$ITERATIONS$SALT$HASH'";
        return std::nullopt;
    }
    password_entry e;
    e.username = std::string(text.substr(0, colon));
    if (e.username.empty() || has_control(e.username)) {
        why = "empty username or control characters in it";
        return std::nullopt;
    }
    const auto parts = split_dollar(text.substr(colon + 1));
    // "" before the leading '$', scheme, iterations, salt, hash.
    if (parts.size() < 2 || !parts[0].empty()) {
        why = "hash must start with '$pbkdf2-sha512$'";
        return std::nullopt;
    }
    if (parts[1] != pbkdf2_scheme) {
        why = "unknown hash scheme '" + std::string(parts[1]) + "' (only pbkdf2-sha512)";
        return std::nullopt;
    }
    if (parts.size() != 5) {
        why = "expected $pbkdf2-sha512$ITERATIONS$SALT$HASH";
        return std::nullopt;
    }
    const auto it = parts[2];
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(it.data(), it.data() + it.size(), n);
    if (ec != std::errc{} || end != it.data() + it.size() || it.empty() || n == 0 ||
        n > password_max_iterations) {
        why = "bad iteration count '" + std::string(it) + "'";
        return std::nullopt;
    }
    e.iterations = static_cast<std::uint32_t>(n);
    auto salt = base64_decode(parts[3]);
    if (!salt || salt->size() != password_salt_size) {
        why = "salt must be " + std::to_string(password_salt_size) + " bytes of base64";
        return std::nullopt;
    }
    auto hash = base64_decode(parts[4]);
    if (!hash || hash->size() != password_hash_size) {
        why = "hash must be " + std::to_string(password_hash_size) + " bytes of base64";
        return std::nullopt;
    }
    e.salt = std::move(*salt);
    e.hash = std::move(*hash);
    return e;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v =
            (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(rest == 2 ? alphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::array<int, 4> v{};
        int pad = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=' && last && k >= 2) {
                ++pad;
                v[k] = 0;
                continue;
            }
            if (pad > 0) return std::nullopt;  // data after padding
            v[k] = b64_value(c);
            if (v[k] < 0) return std::nullopt;
        }
        const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                                (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
        out.push_back(static_cast<std::uint8_t>(w >> 16));
        if (pad < 2) out.push_back(static_cast<std::uint8_t>(w >> 8));
        if (pad < 1) out.push_back(static_cast<std::uint8_t>(w));
    }
    return out;
}

std::string format_password_entry(const password_entry& e) {
    return e.username + ":$" + std::string(pbkdf2_scheme) + "$" + std::to_string(e.iterations) + "$" +
           base64_encode(e.salt) + "$" + base64_encode(e.hash);
}

std::optional<password_file> password_file::parse(std::string_view text, file_error& err) {
    password_file f;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++line_no;
        auto nl = text.find('\n', pos);
        std::string_view raw =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        const auto first = raw.find_first_not_of(" \t");
        if (first == std::string_view::npos || raw[first] == '#') {
            f.lines_.push_back({std::string(raw), -1});
            continue;
        }
        std::string why;
        auto e = parse_entry(raw, why);
        if (!e) {
            err = {line_no, why};
            return std::nullopt;
        }
        if (f.by_name_.contains(e->username)) {
            err = {line_no, "duplicate user '" + e->username + "'"};
            return std::nullopt;
        }
        f.by_name_.emplace(e->username, f.entries_.size());
        f.lines_.push_back({{}, static_cast<std::ptrdiff_t>(f.entries_.size())});
        f.entries_.push_back(std::move(*e));
    }
    return f;
}

const password_entry* password_file::find(std::string_view username) const {
    const auto it = by_name_.find(std::string(username));
    return it == by_name_.end() ? nullptr : &entries_[it->second];
}

void password_file::set(password_entry e) {
    if (auto it = by_name_.find(e.username); it != by_name_.end()) {
        entries_[it->second] = std::move(e);
        return;
    }
    by_name_.emplace(e.username, entries_.size());
    lines_.push_back({{}, static_cast<std::ptrdiff_t>(entries_.size())});
    entries_.push_back(std::move(e));
}

bool password_file::remove(std::string_view username) {
    const auto it = by_name_.find(std::string(username));
    if (it == by_name_.end()) return false;
    const auto idx = static_cast<std::ptrdiff_t>(it->second);
    std::vector<line> kept;
    std::vector<password_entry> entries;
    by_name_.clear();
    for (auto& l : lines_) {
        if (l.entry == idx) continue;
        if (l.entry >= 0) {
            auto& e = entries_[static_cast<std::size_t>(l.entry)];
            by_name_.emplace(e.username, entries.size());
            l.entry = static_cast<std::ptrdiff_t>(entries.size());
            entries.push_back(std::move(e));
        }
        kept.push_back(std::move(l));
    }
    lines_ = std::move(kept);
    entries_ = std::move(entries);
    return true;
}

std::string password_file::text() const {
    std::string out;
    for (const auto& l : lines_) {
        out += l.entry >= 0 ? format_password_entry(entries_[static_cast<std::size_t>(l.entry)]) : l.raw;
        out += '\n';
    }
    return out;
}

}  // namespace mqtt::core
