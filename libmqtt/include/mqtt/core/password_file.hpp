// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/// The broker's password file (cli-contract.md §9): one entry a line,
///
///     username:$pbkdf2-sha512$ITERATIONS$SALT$HASH
///
/// with SALT (16 bytes) and HASH (64 bytes, PBKDF2-HMAC-SHA512) in standard
/// base64 with padding; blank lines and lines starting with '#' are comments.
/// This class only parses, edits and prints the text; hashing lives in net
/// (OpenSSL), so core stays free of it.
namespace mqtt::core {

inline constexpr std::string_view pbkdf2_scheme = "pbkdf2-sha512";
inline constexpr std::size_t password_salt_size = 16;
inline constexpr std::size_t password_hash_size = 64;
inline constexpr std::uint32_t password_max_iterations = 100'000'000;

struct password_entry {
    std::string username;
    std::uint32_t iterations = 0;
    std::vector<std::uint8_t> salt;  // password_salt_size bytes
    std::vector<std::uint8_t> hash;  // password_hash_size bytes
};

/// Where and why parsing failed: `line` is 1-based.
struct file_error {
    std::size_t line = 0;
    std::string message;
};

/// Standard base64 (RFC 4648 section 4) with padding.
std::string base64_encode(std::span<const std::uint8_t> bytes);
/// nullopt on any character outside the alphabet, bad padding or length.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

/// "username:$pbkdf2-sha512$N$SALT$HASH" for `e` (no newline).
std::string format_password_entry(const password_entry& e);

class password_file {
public:
    /// Parses the whole file. On the first bad line returns nullopt and fills
    /// `err`: missing ':', empty username or one with control characters,
    /// unknown scheme, bad iteration count, bad base64, wrong salt/hash size,
    /// duplicate user. Never throws on content.
    static std::optional<password_file> parse(std::string_view text, file_error& err);

    /// The entry of `username`, or null.
    const password_entry* find(std::string_view username) const;
    /// Adds `e` or replaces the entry with the same username (in place).
    void set(password_entry e);
    /// Removes `username`'s entry; false if there was none.
    bool remove(std::string_view username);
    std::size_t size() const noexcept { return entries_.size(); }
    /// The file text: comments and order kept, one '\n' after every line.
    std::string text() const;

private:
    struct line {
        std::string raw;            // comment or blank line (when entry < 0)
        std::ptrdiff_t entry = -1;  // index into entries_
    };
    std::vector<line> lines_;
    std::vector<password_entry> entries_;
    std::unordered_map<std::string, std::size_t> by_name_;
};

}  // namespace mqtt::core
