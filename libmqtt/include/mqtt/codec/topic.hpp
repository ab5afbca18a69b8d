// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace mqtt {

/// Topic Name rules [MQTT-4.7.3-1] non-empty, [MQTT-3.3.2-2] no wildcards,
/// UTF-8 [MQTT-1.5.4-1/2], at most `max_levels` levels. Returns a codec_error
/// (topic_name_empty, topic_name_has_wildcard, invalid_utf8, null_character,
/// string_too_long, topic_name_invalid for too many levels) or no error.
std::error_code check_topic_name(std::string_view name,
                                 std::uint32_t max_levels = 65'535) noexcept;

/// Topic Filter rules [MQTT-4.7.1-1] [MQTT-4.7.1-2] (5.0 numbering) ('#' last and alone in its level, '+'
/// alone in its level), non-empty [MQTT-4.7.3-1], UTF-8, shared subscription
/// syntax [MQTT-4.8.2-1/2]. Returns codec_error::topic_filter_invalid, invalid_utf8,
/// null_character, or no error.
std::error_code check_topic_filter(std::string_view filter,
                                   std::uint32_t max_levels = 65'535) noexcept;

/// `$share/{group}/{filter}` split. `group` is non-empty without '/', '+', '#'.
struct shared_filter {
    std::string_view group;
    std::string_view filter;
};
/// nullopt when `filter` does not start with "$share/". Otherwise the parts, or
/// ec = topic_filter_invalid when the share syntax is wrong [MQTT-4.8.2-1/2].
std::optional<shared_filter> parse_shared(std::string_view filter, std::error_code& ec) noexcept;

/// Reference matcher: does `filter` (valid, not shared) match `name` (valid)?
/// '+' matches one level, '#' the parent and all below; a leading wildcard does
/// not match a name starting with '$' [MQTT-4.7.2-1]. Iterative, no recursion.
bool topic_matches(std::string_view filter, std::string_view name) noexcept;

/// True if the filter contains '+' or '#'.
bool has_wildcard(std::string_view filter) noexcept;

}  // namespace mqtt
