// SPDX-License-Identifier: MIT
// A strict, allocation-light JSON (RFC 8259) scanner for one NDJSON line.
//
// Why not a DOM or simdjson: `mq pub --ndjson` reads ~100-byte lines at a
// million a second, where a single forward pass with no tape is as fast as
// SIMD, every byte is validated (a lazy parser stops at the last field it
// needs), nothing is read past the line (no padding contract), and mq starts
// without loading another C++ shared library (cold start, issue 3).
#pragma once
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools::json {

enum class kind : std::uint8_t { object, array, string, number, boolean, null, end };

/// A cursor over `text`. Every read validates what it consumes; on the first
/// error the scanner stops (all later reads fail) and error() says what and
/// where (1-based column).
class scanner {
public:
    /// `max_depth` (at most 127) bounds the nesting of objects and arrays.
    scanner(std::string_view text, std::size_t max_depth) noexcept
        : text_(text), max_depth_(max_depth < 127 ? max_depth : 127) {}

    /// Kind of the next value (after whitespace); `end` at the end of the text.
    kind peek() noexcept;

    /// Consumes '{'; then call next_member() until it returns false.
    bool enter_object() noexcept;
    /// Reads the next member's key (and the ':' after it). False at '}' (consumed)
    /// or on error (check failed()).
    bool next_member(std::string_view& key, std::string& buf) noexcept;
    /// Consumes '['; then call next_element() until it returns false.
    bool enter_array() noexcept;
    /// True when another element follows (the cursor is at it). False at ']'
    /// (consumed) or on error.
    bool next_element() noexcept;

    /// A string value. Points into the text when it has no escapes, else into
    /// `buf`; `raw`, if given, gets the token with its quotes.
    bool read_string(std::string_view& out, std::string& buf, std::string_view* raw = nullptr) noexcept;
    /// A number that is a non-negative integer (no fraction or exponent) within 64 bits.
    bool read_uint(std::uint64_t& out) noexcept;
    bool read_bool(bool& out) noexcept;
    /// Validates any value and returns its text (from its first to its last byte).
    bool skip_value(std::string_view& raw) noexcept;
    bool skip_value() noexcept {
        std::string_view ignored;
        return skip_value(ignored);
    }
    /// True when only whitespace is left.
    bool at_end() noexcept;

    bool failed() const noexcept { return !error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    /// Records a semantic error at the current position (first error wins).
    bool fail(std::string_view what) noexcept;

private:
    void skip_ws() noexcept;
    bool expect(char c, std::string_view what) noexcept;
    bool scan_string(std::string_view& out, std::string* buf) noexcept;
    bool scan_escape(char*& w) noexcept;
    bool scan_utf8() noexcept;
    bool scan_number() noexcept;
    bool scan_literal(std::string_view word) noexcept;
    bool scan_value(std::size_t depth) noexcept;

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
    std::size_t max_depth_;
    std::bitset<128> had_item_;  // per depth: the open container has an item already
    std::string error_;
};

/// Appends `raw` (a value skip_value() accepted) without the whitespace
/// between tokens.
void minify(std::string_view raw, std::vector<std::uint8_t>& out);

}  // namespace mq::tools::json
