// SPDX-License-Identifier: MIT
#include <mqtt/codec/topic.hpp>

#include <cstddef>

#include <mqtt/codec/utf8.hpp>

namespace mqtt {
namespace {

// [MQTT-4.7.3-3] Topic Names and Filters are UTF-8 strings of at most 65,535 bytes.
constexpr std::size_t max_topic_bytes = 65'535;
constexpr std::string_view share_prefix = "$share/";

// Walks the '/'-separated levels of a topic. "a/" has two levels, "a" and "";
// "/" has two empty levels. Never recurses.
class level_reader {
public:
    explicit level_reader(std::string_view s) noexcept : s_(s) {}

    bool at_end() const noexcept { return pos_ > s_.size(); }

    /// The next level; only call while !at_end().
    std::string_view next() noexcept {
        const std::size_t slash = s_.find('/', pos_);
        std::string_view level;
        if (slash == std::string_view::npos) {
            level = s_.substr(pos_);
            pos_ = s_.size() + 1;
        } else {
            level = s_.substr(pos_, slash - pos_);
            pos_ = slash + 1;
        }
        return level;
    }

    /// What is left after the levels already read (empty at the end).
    std::string_view rest() const noexcept {
        return at_end() ? std::string_view{} : s_.substr(pos_);
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

std::error_code utf8_error(std::string_view s) noexcept {
    switch (check_utf8(s)) {
        case utf8_status::invalid:
            return make_error_code(codec_error::invalid_utf8);  // [MQTT-1.5.4-1]
        case utf8_status::null_character:
            // [MQTT-1.5.4-2] [MQTT-4.7.3-2] no U+0000 in names and filters.
            return make_error_code(codec_error::null_character);
        case utf8_status::ok:
        case utf8_status::control: break;
    }
    return {};
}

// Structure of a (non-shared) filter: wildcards occupy whole levels, '#' only
// as the last one; at most max_levels levels.
bool filter_structure_ok(std::string_view filter, std::uint32_t max_levels) noexcept {
    std::size_t levels = 1;
    const std::size_t n = filter.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char c = filter[i];
        if (c == '/') {
            ++levels;
            continue;
        }
        if (c != '+' && c != '#') continue;
        const bool starts_level = i == 0 || filter[i - 1] == '/';
        const bool ends_level = i + 1 == n || filter[i + 1] == '/';
        // [MQTT-4.7.1-2] (3.1.1: [MQTT-4.7.1-3]) '+' must occupy an entire level.
        if (!starts_level || !ends_level) return false;
        // [MQTT-4.7.1-1] (3.1.1: [MQTT-4.7.1-2]) '#' on its own or after '/',
        // and the last character of the filter.
        if (c == '#' && i + 1 != n) return false;
    }
    return levels <= max_levels;
}

}  // namespace

std::error_code check_topic_name(std::string_view name, std::uint32_t max_levels) noexcept {
    // [MQTT-4.7.3-1] at least one character.
    if (name.empty()) return make_error_code(codec_error::topic_name_empty);
    if (name.size() > max_topic_bytes) return make_error_code(codec_error::string_too_long);
    if (auto ec = utf8_error(name)) return ec;
    std::size_t levels = 1;
    for (const char c : name) {
        // [MQTT-4.7.0-1] (3.1.1: [MQTT-4.7.1-1]) [MQTT-3.3.2-2] no wildcards in a name.
        if (c == '+' || c == '#') return make_error_code(codec_error::topic_name_has_wildcard);
        if (c == '/') ++levels;
    }
    if (levels > max_levels) return make_error_code(codec_error::topic_name_invalid);
    return {};
}

std::optional<shared_filter> parse_shared(std::string_view filter, std::error_code& ec) noexcept {
    ec.clear();
    if (!filter.starts_with(share_prefix)) return std::nullopt;
    const std::string_view rest = filter.substr(share_prefix.size());
    const std::size_t slash = rest.find('/');
    shared_filter out;
    if (slash == std::string_view::npos) {
        // "$share/name": [MQTT-4.8.2-2] the ShareName must be followed by '/'.
        out.group = rest;
    } else {
        out.group = rest.substr(0, slash);
        out.filter = rest.substr(slash + 1);
    }
    // [MQTT-4.8.2-1] ShareName at least one character; [MQTT-4.8.2-2] no '+'
    // or '#' in it ('/' ends it), followed by '/' and a non-empty Topic Filter.
    if (slash == std::string_view::npos || out.group.empty() ||
        out.group.find_first_of("+#") != std::string_view::npos || out.filter.empty()) {
        ec = make_error_code(codec_error::topic_filter_invalid);
    }
    return out;
}

std::error_code check_topic_filter(std::string_view filter, std::uint32_t max_levels) noexcept {
    // [MQTT-4.7.3-1] at least one character; [MQTT-4.7.3-3] at most 65,535 bytes.
    if (filter.empty() || filter.size() > max_topic_bytes) {
        return make_error_code(codec_error::topic_filter_invalid);
    }
    if (auto ec = utf8_error(filter)) return ec;
    std::error_code ec;
    std::string_view body = filter;
    if (const auto shared = parse_shared(filter, ec)) {
        if (ec) return ec;
        body = shared->filter;  // levels are counted on the filter proper
    }
    if (!filter_structure_ok(body, max_levels)) {
        return make_error_code(codec_error::topic_filter_invalid);
    }
    return {};
}

bool topic_matches(std::string_view filter, std::string_view name) noexcept {
    // Neither is valid when empty [MQTT-4.7.3-1].
    if (filter.empty() || name.empty()) return false;
    // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a name
    // starting with '$', which are server-specific topics such as $SYS/...
    if (name.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;
    level_reader f{filter};
    level_reader n{name};
    for (;;) {
        const std::string_view fl = f.next();
        // '#' matches the remaining levels, however many [MQTT-4.7.1-1].
        if (fl == "#") return true;
        const std::string_view nl = n.next();
        // '+' matches exactly one level, the empty one included.
        if (fl != "+" && fl != nl) return false;
        if (f.at_end()) return n.at_end();
        // Name used up but the filter goes on: only "x/#" still matches "x",
        // since '#' also matches its parent level.
        if (n.at_end()) return f.rest() == "#";
    }
}

bool has_wildcard(std::string_view filter) noexcept {
    return filter.find_first_of("+#") != std::string_view::npos;
}

}  // namespace mqtt
