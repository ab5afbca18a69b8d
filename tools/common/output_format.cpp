// SPDX-License-Identifier: MIT
#include "common/output_format.hpp"

#include <ctime>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <mqtt/codec/utf8.hpp>

#include "common/encoding.hpp"

namespace mq::tools {
namespace {

using mqtt::property_id;

struct split_time {
    std::time_t secs;
    long nanos;
};

split_time split(std::chrono::system_clock::time_point t) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    std::int64_t secs = ns / 1'000'000'000;
    std::int64_t rem = ns % 1'000'000'000;
    if (rem < 0) {  // before 1970: keep the fraction positive
        rem += 1'000'000'000;
        --secs;
    }
    return {static_cast<std::time_t>(secs), static_cast<long>(rem)};
}

bool is_text(std::span<const std::uint8_t> p) {
    // JSON strings can carry U+0000 and control characters escaped, so only
    // malformed UTF-8 forces base64.
    // check_utf8 stops at the first NUL, so check the pieces between NULs (a NUL
    // cannot be part of a multi-byte sequence, so splitting there is exact).
    std::string_view rest = as_text(p);
    for (;;) {
        const auto nul = rest.find('\0');
        if (mqtt::check_utf8(rest.substr(0, nul)) == mqtt::utf8_status::invalid) return false;
        if (nul == std::string_view::npos) return true;
        rest.remove_prefix(nul + 1);
    }
}

// The payload as a compact JSON value, or nullopt when it is not JSON.
std::optional<std::string> payload_as_json(std::span<const std::uint8_t> p) {
    auto j = nlohmann::json::parse(as_text(p), nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j.dump();
}

void append_payload_field(std::span<const std::uint8_t> p, payload_encoding enc, std::string& out) {
    if (enc == payload_encoding::json) {
        if (auto j = payload_as_json(p)) {
            out.append("\"payload_encoding\":\"json\",\"payload\":");
            out.append(*j);
            return;
        }
        enc = payload_encoding::automatic;
    }
    switch (enc) {
    case payload_encoding::hex:
        out.append("\"payload_encoding\":\"hex\",\"payload\":\"");
        hex_encode(p, out);
        out.push_back('"');
        return;
    case payload_encoding::base64:
        out.append("\"payload_encoding\":\"base64\",\"payload\":\"");
        base64_encode(p, out);
        out.push_back('"');
        return;
    default:
        break;
    }
    if (is_text(p)) {
        out.append("\"payload_encoding\":\"utf8\",\"payload\":");
        json_quote(as_text(p), out);
    } else {
        out.append("\"payload_encoding\":\"base64\",\"payload\":\"");
        base64_encode(p, out);
        out.push_back('"');
    }
}

void append_properties(const mqtt::properties& props, std::string& out) {
    out.push_back('{');
    bool first = true;
    auto key = [&](const char* k) {
        if (!first) out.push_back(',');
        first = false;
        out.push_back('"');
        out.append(k);
        out.append("\":");
    };
    if (auto v = props.get_int(property_id::payload_format_indicator)) {
        key("payload_format_indicator");
        out.append(std::to_string(*v));
    }
    if (auto v = props.get_int(property_id::message_expiry_interval)) {
        key("message_expiry_interval");
        out.append(std::to_string(*v));
    }
    if (auto* v = props.get_string(property_id::content_type)) {
        key("content_type");
        json_quote(*v, out);
    }
    if (auto* v = props.get_string(property_id::response_topic)) {
        key("response_topic");
        json_quote(*v, out);
    }
    if (auto* v = props.get_binary(property_id::correlation_data)) {
        key("correlation_data");
        out.push_back('"');
        base64_encode(*v, out);
        out.push_back('"');
    }
    if (props.has(property_id::user_property)) {
        key("user_properties");
        out.push_back('[');
        bool first_pair = true;
        for (const auto& p : props.items) {
            if (p.id != property_id::user_property) continue;
            const auto* kv = std::get_if<mqtt::string_pair>(&p.value);
            if (kv == nullptr) continue;
            if (!first_pair) out.push_back(',');
            first_pair = false;
            out.push_back('[');
            json_quote(kv->first, out);
            out.push_back(',');
            json_quote(kv->second, out);
            out.push_back(']');
        }
        out.push_back(']');
    }
    out.push_back('}');
}

std::string unix_time(std::chrono::system_clock::time_point t) {
    const auto s = split(t);
    return fmt::format("{}.{:09}", static_cast<long long>(s.secs), s.nanos);
}

std::string iso_local(std::chrono::system_clock::time_point t) {
    const auto s = split(t);
    std::tm tm{};
    localtime_r(&s.secs, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    const long off = tm.tm_gmtoff;
    const long aoff = off < 0 ? -off : off;
    return fmt::format("{}.{:09}{}{:02}:{:02}", std::string_view(buf, n), s.nanos, off < 0 ? '-' : '+',
                       aoff / 3600, (aoff % 3600) / 60);
}

std::string strftime_letter(std::chrono::system_clock::time_point t, char letter) {
    const auto s = split(t);
    if (letter == 'N') return fmt::format("{:09}", s.nanos);
    std::tm tm{};
    localtime_r(&s.secs, &tm);
    const char f[3] = {'%', letter, '\0'};
    char buf[128];
    const std::size_t n = std::strftime(buf, sizeof buf, f, &tm);
    return std::string(buf, n);
}

std::string ints_joined(const std::vector<std::uint32_t>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i != 0) out.push_back(',');
        out.append(std::to_string(v[i]));
    }
    return out;
}

std::string optional_int(const mqtt::properties& p, property_id id) {
    auto v = p.get_int(id);
    return v ? std::to_string(*v) : std::string();
}

std::string optional_string(const mqtt::properties& p, property_id id) {
    const auto* v = p.get_string(id);
    return v != nullptr ? *v : std::string();
}

std::string field_value(const received_message& m, char spec) {
    const auto& msg = m.msg;
    std::string out;
    switch (spec) {
    case 't': return msg.topic;
    case 'p': return std::string(as_text(msg.payload));
    case 'l': return std::to_string(msg.payload.size());
    case 'q': return std::to_string(static_cast<int>(msg.level));
    case 'r': return msg.retain ? "1" : "0";
    case 'm': return std::to_string(msg.packet_id);
    case 'x': hex_encode(msg.payload, out, false); return out;
    case 'X': hex_encode(msg.payload, out, true); return out;
    case 'b': base64_encode(msg.payload, out); return out;
    case 'I': return iso_local(m.ts);
    case 'U': return unix_time(m.ts);
    case 'j': append_ndjson(m, payload_encoding::automatic, out); return out;
    case 'J': append_ndjson(m, payload_encoding::json, out); return out;
    case 'A': return optional_int(msg.props, property_id::topic_alias);
    case 'C': return optional_string(msg.props, property_id::content_type);
    case 'D': {
        const auto* v = msg.props.get_binary(property_id::correlation_data);
        return v != nullptr ? std::string(as_text(*v)) : std::string();
    }
    case 'E': return optional_int(msg.props, property_id::message_expiry_interval);
    case 'F': return optional_int(msg.props, property_id::payload_format_indicator);
    case 'P': {
        for (const auto& [k, v] : msg.props.user_properties()) {
            if (!out.empty()) out.push_back(' ');
            out.append(k);
            out.push_back(':');
            out.append(v);
        }
        return out;
    }
    case 'R': return optional_string(msg.props, property_id::response_topic);
    case 'S': return ints_joined(msg.props.get_all_ints(property_id::subscription_identifier));
    default: return out;
    }
}

void apply_width(const format_string::token& t, std::string value, std::string& out) {
    if (t.precision >= 0 && value.size() > static_cast<std::size_t>(t.precision)) {
        value.resize(static_cast<std::size_t>(t.precision));
    }
    const std::size_t width = t.width < 0 ? 0 : static_cast<std::size_t>(t.width);
    if (value.size() >= width) {
        out.append(value);
        return;
    }
    const std::size_t pad = width - value.size();
    if (t.left) {
        out.append(value);
        out.append(pad, ' ');
    } else {
        out.append(pad, t.zero ? '0' : ' ');
        out.append(value);
    }
}

constexpr std::string_view field_letters = "tplqrmxXbIUjJACDEFPRS";

}  // namespace

namespace {

// "YYYY-MM-DDTHH:MM:SS." for one second, remembered per thread: mq sub writes
// many records a second, and gmtime_r plus a format string per record were a
// measurable share of its CPU.
struct second_prefix {
    std::time_t secs = std::numeric_limits<std::time_t>::min();
    std::string text;
};

void append_rfc3339_ns(std::chrono::system_clock::time_point t, std::string& out) {
    thread_local second_prefix cache;
    const auto s = split(t);
    if (s.secs != cache.secs) {
        std::tm tm{};
        gmtime_r(&s.secs, &tm);
        cache.text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.", tm.tm_year + 1900, tm.tm_mon + 1,
                                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cache.secs = s.secs;
    }
    out.append(cache.text);
    char digits[9];
    long n = s.nanos;
    for (int i = 8; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + n % 10);
        n /= 10;
    }
    out.append(digits, sizeof digits);
    out.push_back('Z');
}

void append_decimal(std::uint64_t v, std::string& out) {
    char buf[20];
    char* end = buf + sizeof buf;
    char* p = end;
    do {
        *--p = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out.append(p, static_cast<std::size_t>(end - p));
}

}  // namespace

std::string rfc3339_ns(std::chrono::system_clock::time_point t) {
    std::string out;
    append_rfc3339_ns(t, out);
    return out;
}

void append_ndjson(const received_message& m, payload_encoding enc, std::string& out) {
    const auto& msg = m.msg;
    out.append("{\"type\":\"message\",\"ts\":\"");
    append_rfc3339_ns(m.ts, out);
    out.append("\",\"topic\":");
    json_quote(msg.topic, out);
    out.append(",\"qos\":");
    out.push_back(static_cast<char>('0' + static_cast<int>(msg.level)));
    out.append(msg.retain ? ",\"retain\":true" : ",\"retain\":false");
    out.append(msg.dup ? ",\"dup\":true" : ",\"dup\":false");
    out.append(",\"payload_len\":");
    append_decimal(msg.payload.size(), out);
    out.push_back(',');
    append_payload_field(msg.payload, enc, out);
    out.append(",\"properties\":");
    append_properties(msg.props, out);
    out.append(",\"subscription_ids\":[");
    bool first_id = true;
    for (const auto& p : msg.props.items) {
        const auto* id = std::get_if<std::uint32_t>(&p.value);
        if (p.id != property_id::subscription_identifier || id == nullptr) continue;
        if (!first_id) out.push_back(',');
        first_id = false;
        append_decimal(*id, out);
    }
    out.append("],\"filters\":[");
    for (std::size_t i = 0; i < m.filters.size(); ++i) {
        if (i != 0) out.push_back(',');
        json_quote(m.filters[i], out);
    }
    out.append("]}");
}

void append_plain(const received_message& m, bool verbose, std::string& out) {
    if (verbose) {
        out.append(m.msg.topic);
        out.push_back(' ');
    }
    out.append(as_text(m.msg.payload));
}

std::string escape_controls(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            out.append(fmt::format("\\x{:02x}", static_cast<unsigned>(c)));
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::optional<format_string> format_string::compile(std::string_view spec, std::string& error) {
    format_string f;
    std::string literal;
    auto flush = [&] {
        if (literal.empty()) return;
        token t;
        t.text = std::move(literal);
        literal.clear();
        f.tokens_.push_back(std::move(t));
    };
    for (std::size_t i = 0; i < spec.size(); ++i) {
        const char c = spec[i];
        if (c == '\\') {
            if (i + 1 >= spec.size()) {
                error = "format ends with a lone '\\'";
                return std::nullopt;
            }
            const char e = spec[++i];
            switch (e) {
            case '\\': literal.push_back('\\'); break;
            case '0': literal.push_back('\0'); break;
            case 'a': literal.push_back('\a'); break;
            case 'e': literal.push_back('\x1b'); break;
            case 'n': literal.push_back('\n'); break;
            case 'r': literal.push_back('\r'); break;
            case 't': literal.push_back('\t'); break;
            case 'v': literal.push_back('\v'); break;
            default:
                error = fmt::format("unknown escape '\\{}' in format", e);
                return std::nullopt;
            }
        } else if (c == '@') {
            if (i + 1 >= spec.size()) {
                error = "format ends with a lone '@'";
                return std::nullopt;
            }
            const char l = spec[++i];
            if (l == '@') {
                literal.push_back('@');
                continue;
            }
            if (std::string_view("aAbBcdDeFgGhHIjmMnNprRStTuUVwWxXyYzZ").find(l) == std::string_view::npos) {
                error = fmt::format("unknown time specifier '@{}' in format", l);
                return std::nullopt;
            }
            flush();
            token t;
            t.type = token::kind::time;
            t.spec = l;
            f.tokens_.push_back(std::move(t));
        } else if (c == '%') {
            token t;
            t.type = token::kind::field;
            std::size_t j = i + 1;
            while (j < spec.size() && (spec[j] == '-' || spec[j] == '0')) {
                (spec[j] == '-' ? t.left : t.zero) = true;
                ++j;
            }
            auto number = [&](int& dst) {
                if (j >= spec.size() || spec[j] < '0' || spec[j] > '9') return;
                dst = 0;
                while (j < spec.size() && spec[j] >= '0' && spec[j] <= '9') {
                    dst = dst * 10 + (spec[j] - '0');
                    if (dst > 1'000'000) dst = 1'000'000;  // bound padding memory
                    ++j;
                }
            };
            number(t.width);
            if (j < spec.size() && spec[j] == '.') {
                ++j;
                t.precision = 0;
                number(t.precision);
            }
            if (j >= spec.size()) {
                error = "format ends inside a '%' specifier";
                return std::nullopt;
            }
            const char l = spec[j];
            i = j;
            if (l == '%' && t.width < 0 && t.precision < 0 && !t.left && !t.zero) {
                literal.push_back('%');
                continue;
            }
            if (field_letters.find(l) == std::string_view::npos) {
                error = fmt::format("unknown format specifier '%{}'", l);
                return std::nullopt;
            }
            flush();
            t.spec = l;
            f.tokens_.push_back(std::move(t));
        } else {
            literal.push_back(c);
        }
    }
    flush();
    return f;
}

void format_string::render(const received_message& m, std::string& out) const {
    for (const auto& t : tokens_) {
        switch (t.type) {
        case token::kind::literal: out.append(t.text); break;
        case token::kind::time: out.append(strftime_letter(m.ts, t.spec)); break;
        case token::kind::field: apply_width(t, field_value(m, t.spec), out); break;
        }
    }
}

}  // namespace mq::tools
