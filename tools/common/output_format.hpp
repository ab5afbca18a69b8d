// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

/// A received message plus what the output needs besides the packet.
struct received_message {
    const mqtt::publish& msg;
    std::chrono::system_clock::time_point ts;
    /// Every subscribed filter matching the topic, in command-line order.
    std::span<const std::string> filters;
};

/// `--payload-encoding` of §5.2: auto is utf8 when valid UTF-8, else base64.
enum class payload_encoding : std::uint8_t { automatic, base64, hex, json };

/// RFC 3339 UTC time with exactly 9 fractional digits and 'Z'.
std::string rfc3339_ns(std::chrono::system_clock::time_point t);

/// Appends the §5.2 NDJSON record (no trailing newline) to `out`.
void append_ndjson(const received_message& m, payload_encoding enc, std::string& out);

/// Appends `payload` (raw) or `topic payload` (verbose) to `out`.
void append_plain(const received_message& m, bool verbose, std::string& out);

/// Replaces control bytes other than '\n' and '\t' by `\xNN` (TTY text mode).
std::string escape_controls(std::string_view s);

/// A compiled `-F` format (§5.3).
class format_string {
public:
    /// Compiles `spec`; nullopt with `error` set on an unknown specifier or a
    /// dangling '%', '@' or '\\' (the caller exits 64).
    static std::optional<format_string> compile(std::string_view spec, std::string& error);
    /// Appends the formatted message (no delimiter) to `out`.
    void render(const received_message& m, std::string& out) const;

    struct token {
        enum class kind : std::uint8_t { literal, field, time } type = kind::literal;
        std::string text;  // literal bytes
        char spec = 0;     // field letter or strftime letter
        bool left = false, zero = false;
        int width = -1, precision = -1;
    };

private:
    std::vector<token> tokens_;
};

}  // namespace mq::tools
