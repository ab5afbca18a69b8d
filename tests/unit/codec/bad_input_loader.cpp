// SPDX-License-Identifier: MIT
#include "bad_input_loader.hpp"

#include <array>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace mq_test::bad_input {
namespace {

using mqtt::codec_error;
using mqtt::reason;

struct error_info {
    std::string_view name;
    codec_error error;
    reason documented;  // the "-> 0xNN" comment in reason.hpp
};

constexpr std::array<error_info, 39> errors{{
    {"ok", codec_error::ok, reason::success},
    {"remaining_length_too_long", codec_error::remaining_length_too_long, reason::malformed_packet},
    {"varint_not_minimal", codec_error::varint_not_minimal, reason::malformed_packet},
    {"packet_too_large", codec_error::packet_too_large, reason::packet_too_large},
    {"reserved_packet_type", codec_error::reserved_packet_type, reason::malformed_packet},
    {"bad_fixed_header_flags", codec_error::bad_fixed_header_flags, reason::malformed_packet},
    {"invalid_qos", codec_error::invalid_qos, reason::malformed_packet},
    {"dup_on_qos0", codec_error::dup_on_qos0, reason::malformed_packet},
    {"zero_packet_id", codec_error::zero_packet_id, reason::malformed_packet},
    {"truncated", codec_error::truncated, reason::malformed_packet},
    {"trailing_bytes", codec_error::trailing_bytes, reason::malformed_packet},
    {"invalid_utf8", codec_error::invalid_utf8, reason::malformed_packet},
    {"null_character", codec_error::null_character, reason::malformed_packet},
    {"string_too_long", codec_error::string_too_long, reason::implementation_specific_error},
    {"bad_protocol_name", codec_error::bad_protocol_name, reason::malformed_packet},
    {"unsupported_protocol_version", codec_error::unsupported_protocol_version,
     reason::unsupported_protocol_version},
    {"connect_reserved_flag", codec_error::connect_reserved_flag, reason::malformed_packet},
    {"bad_will_flags", codec_error::bad_will_flags, reason::malformed_packet},
    {"password_without_username", codec_error::password_without_username, reason::malformed_packet},
    {"topic_name_empty", codec_error::topic_name_empty, reason::protocol_error},
    {"topic_name_has_wildcard", codec_error::topic_name_has_wildcard, reason::topic_name_invalid},
    {"topic_filter_invalid", codec_error::topic_filter_invalid, reason::topic_filter_invalid},
    {"empty_subscription_list", codec_error::empty_subscription_list, reason::protocol_error},
    {"bad_subscription_options", codec_error::bad_subscription_options, reason::malformed_packet},
    {"subscription_option_value", codec_error::subscription_option_value, reason::protocol_error},
    {"no_local_on_shared", codec_error::no_local_on_shared, reason::protocol_error},
    {"invalid_reason_code", codec_error::invalid_reason_code, reason::malformed_packet},
    {"unknown_property", codec_error::unknown_property, reason::malformed_packet},
    {"property_not_allowed", codec_error::property_not_allowed, reason::malformed_packet},
    {"duplicate_property", codec_error::duplicate_property, reason::protocol_error},
    {"property_value_invalid", codec_error::property_value_invalid, reason::protocol_error},
    {"too_many_user_properties", codec_error::too_many_user_properties,
     reason::implementation_specific_error},
    {"auth_on_v311", codec_error::auth_on_v311, reason::malformed_packet},
    {"subscription_id_from_client", codec_error::subscription_id_from_client, reason::protocol_error},
    {"auth_data_without_method", codec_error::auth_data_without_method, reason::protocol_error},
    {"response_topic_invalid", codec_error::response_topic_invalid, reason::protocol_error},
    {"topic_alias_zero", codec_error::topic_alias_zero, reason::topic_alias_invalid},
    {"topic_name_invalid", codec_error::topic_name_invalid, reason::topic_name_invalid},
    {"connack_reserved_flags", codec_error::connack_reserved_flags, reason::malformed_packet},
}};

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto pos = s.find(sep);
        out.push_back(trim(s.substr(0, pos)));
        if (pos == std::string_view::npos) return out;
        s.remove_prefix(pos + 1);
    }
}

[[noreturn]] void fail(std::size_t line, const std::string& what) {
    throw std::runtime_error("codec.txt line " + std::to_string(line) + ": " + what);
}

std::uint32_t parse_u32(std::string_view text, std::size_t line) {
    if (text.empty() || text.size() > 10) fail(line, "bad number '" + std::string(text) + "'");
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') fail(line, "bad number '" + std::string(text) + "'");
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > 0xffff'ffffULL) fail(line, "number out of range '" + std::string(text) + "'");
    return static_cast<std::uint32_t>(v);
}

// "max_packet_size=11,max_string_length=4"
void apply_limits(std::string_view text, mqtt::limits& lim, std::size_t line) {
    for (auto item : split(text, ',')) {
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) fail(line, "limit without '=': " + std::string(item));
        const auto key = trim(item.substr(0, eq));
        const auto value = parse_u32(trim(item.substr(eq + 1)), line);
        if (key == "max_packet_size") lim.max_packet_size = value;
        else if (key == "max_string_length") lim.max_string_length = value;
        else if (key == "max_user_properties") lim.max_user_properties = value;
        else if (key == "max_topic_levels") lim.max_topic_levels = value;
        else fail(line, "unknown limit '" + std::string(key) + "'");
    }
}

bool valid_label_text(std::string_view s) {
    for (char c : s) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '.' ||
                        c == '/' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return !s.empty();
}

}  // namespace

std::optional<mqtt::codec_error> codec_error_from_name(std::string_view name) {
    for (const auto& e : errors)
        if (e.name == name) return e.error;
    return std::nullopt;
}

mqtt::reason documented_reason(mqtt::codec_error e) {
    for (const auto& info : errors)
        if (info.error == e) return info.documented;
    return mqtt::reason::unspecified_error;
}

std::vector<std::uint8_t> from_hex(std::string_view text) {
    std::vector<std::uint8_t> out;
    std::istringstream in{std::string(text)};
    std::string token;
    while (in >> token) {
        if (token.size() != 2 || !std::isxdigit(static_cast<unsigned char>(token[0])) ||
            !std::isxdigit(static_cast<unsigned char>(token[1])))
            throw std::runtime_error("bad hex byte '" + token + "'");
        out.push_back(static_cast<std::uint8_t>(std::stoul(token, nullptr, 16)));
    }
    return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0) out.push_back(' ');
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 0x0f]);
    }
    return out;
}

std::string error_name(std::error_code ec) {
    if (!ec) return "ok";
    if (ec.category() == mqtt::codec_category()) {
        for (const auto& info : errors)
            if (static_cast<int>(info.error) == ec.value()) return std::string(info.name);
    }
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

std::string reason_hex(mqtt::reason r) {
    const auto v = static_cast<unsigned>(r);
    return to_hex(std::array<std::uint8_t, 1>{static_cast<std::uint8_t>(v)}).insert(0, "0x");
}

std::string label(const row& r, mqtt::protocol_version v, bool from_client) {
    return r.id + " " + r.spec + (v == mqtt::protocol_version::v5 ? " v5" : " v311") +
           (from_client ? " c2s" : " s2c");
}

std::vector<row> parse_table(std::string_view text) {
    std::vector<row> rows;
    std::set<std::string, std::less<>> ids;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#') continue;

        const auto cols = split(line, '|');
        if (cols.size() != 7 && cols.size() != 8)
            fail(line_no, "expected 7 or 8 '|'-separated columns, got " + std::to_string(cols.size()));
        row r;
        r.line = line_no;
        r.id = std::string(cols[0]);
        if (!valid_label_text(r.id) || r.id.find(' ') != std::string::npos) fail(line_no, "bad ID '" + r.id + "'");
        if (!ids.insert(r.id).second) fail(line_no, "duplicate ID " + r.id);

        if (cols[1] == "311") r.versions = {mqtt::protocol_version::v311};
        else if (cols[1] == "5") r.versions = {mqtt::protocol_version::v5};
        else if (cols[1] == "any") r.versions = {mqtt::protocol_version::v311, mqtt::protocol_version::v5};
        else fail(line_no, "version must be 311, 5 or any");

        if (cols[2] == "c2s") r.from_client = {true};
        else if (cols[2] == "s2c") r.from_client = {false};
        else if (cols[2] == "any") r.from_client = {true, false};
        else fail(line_no, "direction must be c2s, s2c or any");

        try {
            r.bytes = from_hex(cols[3]);
        } catch (const std::exception& e) {
            fail(line_no, e.what());
        }
        if (r.bytes.empty()) fail(line_no, "no bytes");

        r.error_name = std::string(cols[4]);
        const auto err = codec_error_from_name(r.error_name);
        if (!err || *err == mqtt::codec_error::ok) fail(line_no, "unknown codec_error '" + r.error_name + "'");
        r.error = *err;

        r.spec = std::string(cols[5]);
        if (!valid_label_text(r.spec) || r.spec.find(' ') != std::string::npos)
            fail(line_no, "spec id '" + r.spec + "' must use [A-Za-z0-9_./:-]");
        r.description = std::string(cols[6]);
        if (r.description.empty()) fail(line_no, "empty description");
        if (cols.size() == 8) apply_limits(cols[7], r.lim, line_no);
        rows.push_back(std::move(r));
    }
    return rows;
}

std::vector<row> load_codec_table() {
    const std::string path = std::string(MQ_TEST_DATA_DIR) + "/bad_input/codec.txt";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_table(text.str());
}

}  // namespace mq_test::bad_input
