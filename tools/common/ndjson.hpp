// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

/// Deepest nesting accepted in a line (hardening I05).
inline constexpr std::size_t ndjson_max_depth = 64;

/// Values used when a line does not carry the field (`-t`, `-q`, `-r`).
struct publish_defaults {
    std::string_view topic;
    mqtt::qos level = mqtt::qos::at_most_once;
    bool retain = false;
};

enum class ndjson_status : std::uint8_t { message, skip, bad };

/// Parses §5.2 lines (`mq sub --json` output) into PUBLISH packets in one
/// validating pass (json_scan.hpp). One parser is reused for every line (its
/// buffers are); not thread-safe.
class ndjson_parser {
public:
    ndjson_parser();
    ~ndjson_parser();
    ndjson_parser(const ndjson_parser&) = delete;
    ndjson_parser& operator=(const ndjson_parser&) = delete;

    /// Parses one line (no newline; a trailing '\r' and surrounding whitespace
    /// are allowed), in place: nothing past `line` is read. Returns `message`
    /// with `out` filled (topic, payload, qos, retain, properties; buffers
    /// reused), `skip` for blank lines and valid records whose `type` is not
    /// "message", or `bad` with `error` set to the reason (invalid JSON or
    /// UTF-8 with its column, depth > 64, bad qos/retain/topic/encoding, no
    /// payload, no topic and no default).
    ndjson_status parse(std::string_view line, const publish_defaults& defaults, mqtt::publish& out,
                        std::string& error);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// True if JSON text nests deeper than `max_depth` ('[' and '{' outside strings).
bool json_too_deep(std::string_view text, std::size_t max_depth) noexcept;

}  // namespace mq::tools
