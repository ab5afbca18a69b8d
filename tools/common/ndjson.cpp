// SPDX-License-Identifier: MIT
#include "common/ndjson.hpp"

#include "common/json_scan.hpp"

#include <mqtt/codec/topic.hpp>

#include "common/encoding.hpp"

namespace mq::tools {
using mqtt::property_id;

namespace {

enum class encoding : std::uint8_t { utf8, base64, hex, json };

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

bool json_too_deep(std::string_view text, std::size_t max_depth) noexcept {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth) return true;
        } else if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return false;
}

// One pass over the line with json::scanner: every byte is validated, known
// keys are decoded as they come, unknown ones are checked and skipped. Strings
// without escapes stay views into the line (no copy).
struct ndjson_parser::impl {
    std::string key_buf, str_buf, topic_buf, payload_buf;
    std::vector<std::uint8_t> scratch;

    static bool bad(json::scanner& js, std::string_view what) { return js.fail(what); }

    // Fills props from the "properties" object.
    bool parse_properties(json::scanner& js, mqtt::properties& props) {
        if (js.peek() != json::kind::object) return bad(js, "\"properties\" must be an object");
        js.enter_object();
        std::string_view key;
        while (js.next_member(key, key_buf)) {
            if (key == "payload_format_indicator") {
                std::uint64_t n = 0;
                if (js.peek() != json::kind::number || !js.read_uint(n) || n > 1)
                    return bad(js, "payload_format_indicator must be 0 or 1");
                props.set_int(property_id::payload_format_indicator, static_cast<std::uint32_t>(n));
            } else if (key == "message_expiry_interval") {
                std::uint64_t n = 0;
                if (js.peek() != json::kind::number || !js.read_uint(n) || n > 0xFFFFFFFFULL)
                    return bad(js, "message_expiry_interval must be an integer 0-4294967295");
                props.set_int(property_id::message_expiry_interval, static_cast<std::uint32_t>(n));
            } else if (key == "content_type" || key == "response_topic") {
                const bool response = key == "response_topic";
                std::string_view v;
                if (js.peek() != json::kind::string || !js.read_string(v, str_buf))
                    return bad(js, response ? "response_topic must be a string" : "content_type must be a string");
                if (response) {
                    if (mqtt::check_topic_name(v)) return bad(js, "invalid response_topic");
                    props.set_string(property_id::response_topic, std::string(v));
                } else {
                    props.set_string(property_id::content_type, std::string(v));
                }
            } else if (key == "correlation_data") {
                std::string_view v;
                if (js.peek() != json::kind::string || !js.read_string(v, str_buf) || !base64_decode(v, scratch))
                    return bad(js, "correlation_data must be a base64 string");
                props.set_binary(property_id::correlation_data, scratch);
            } else if (key == "user_properties") {
                if (!parse_user_properties(js, props)) return false;
            } else if (!js.skip_value()) {
                // Other keys (subscription ids, topic alias) do not apply to a publish.
                return false;
            }
        }
        return !js.failed();
    }

    bool parse_user_properties(json::scanner& js, mqtt::properties& props) {
        constexpr std::string_view shape = "user_properties must be an array of [key, value] string pairs";
        if (js.peek() != json::kind::array) return bad(js, shape);
        js.enter_array();
        while (js.next_element()) {
            if (js.peek() != json::kind::array) return bad(js, shape);
            js.enter_array();
            std::string kv[2];
            std::size_t n = 0;
            while (js.next_element()) {
                std::string_view text;
                if (n >= 2 || js.peek() != json::kind::string || !js.read_string(text, str_buf)) return bad(js, shape);
                kv[n++] = std::string(text);
            }
            if (js.failed()) return false;
            if (n != 2) return bad(js, shape);
            props.add_user_property(std::move(kv[0]), std::move(kv[1]));
        }
        return !js.failed();
    }

    ndjson_status run(std::string_view text, const publish_defaults& defaults, mqtt::publish& out,
                      std::string& error) {
        json::scanner js(text, ndjson_max_depth);
        auto fail = [&](std::string_view what) {
            js.fail(what);
            error = "invalid line: " + js.error();
            return ndjson_status::bad;
        };
        if (js.peek() != json::kind::object) {
            if (js.peek() == json::kind::end || js.failed()) return fail("empty line");
            std::string_view ignored;
            if (!js.skip_value(ignored)) return fail("");
            return fail("line is not a JSON object");
        }
        bool have_topic = false, have_payload = false, payload_is_string = false, skip = false;
        std::string_view topic, payload_text, payload_raw;
        encoding enc = encoding::utf8;
        out.level = defaults.level;
        out.retain = defaults.retain;
        out.dup = false;
        out.packet_id = 0;
        out.props.items.clear();
        js.enter_object();
        std::string_view key;
        while (js.next_member(key, key_buf)) {
            if (key == "type") {
                std::string_view t;
                if (js.peek() != json::kind::string || !js.read_string(t, str_buf))
                    return fail("\"type\" must be a string");
                skip = t != "message";  // decided once the whole line proved valid
            } else if (key == "topic") {
                if (js.peek() != json::kind::string || !js.read_string(topic, topic_buf))
                    return fail("\"topic\" must be a valid JSON string");
                have_topic = true;
            } else if (key == "payload") {
                have_payload = true;
                payload_is_string = js.peek() == json::kind::string;
                if (payload_is_string) {
                    if (!js.read_string(payload_text, payload_buf, &payload_raw)) break;
                } else if (!js.skip_value(payload_raw)) {
                    break;
                }
            } else if (key == "payload_encoding") {
                std::string_view e;
                if (js.peek() != json::kind::string || !js.read_string(e, str_buf))
                    return fail("\"payload_encoding\" must be a string");
                if (e == "utf8") enc = encoding::utf8;
                else if (e == "base64") enc = encoding::base64;
                else if (e == "hex") enc = encoding::hex;
                else if (e == "json") enc = encoding::json;
                else return fail("unknown payload_encoding '" + std::string(e) + "' (utf8, base64, hex, json)");
            } else if (key == "qos") {
                std::uint64_t q = 0;
                if (js.peek() != json::kind::number || !js.read_uint(q) || q > 2)
                    return fail("\"qos\" must be 0, 1 or 2");
                out.level = static_cast<mqtt::qos>(q);
            } else if (key == "retain") {
                bool r = false;
                if (js.peek() != json::kind::boolean || !js.read_bool(r))
                    return fail("\"retain\" must be true or false");
                out.retain = r;
            } else if (key == "properties") {
                if (!parse_properties(js, out.props)) break;
            } else if (!js.skip_value()) {
                break;  // other keys (ts, dup, payload_len, filters, ...) are ignored
            }
        }
        if (js.failed()) return fail("");
        if (!js.at_end()) return fail("trailing content after the JSON object");
        if (skip) return ndjson_status::skip;
        if (!have_payload) {
            error = "no \"payload\"";
            return ndjson_status::bad;
        }
        if (!have_topic) {
            if (defaults.topic.empty()) {
                error = "no \"topic\" and no -t default";
                return ndjson_status::bad;
            }
            topic = defaults.topic;
        }
        if (auto ec = mqtt::check_topic_name(topic)) {
            error = "invalid topic: " + ec.message();
            return ndjson_status::bad;
        }
        out.topic.assign(topic);
        out.payload.clear();
        switch (enc) {
        case encoding::utf8:
            if (payload_is_string) out.payload.assign(payload_text.begin(), payload_text.end());
            else json::minify(payload_raw, out.payload);
            break;
        case encoding::base64:
        case encoding::hex: {
            const bool ok = payload_is_string && (enc == encoding::base64 ? base64_decode(payload_text, out.payload)
                                                                          : hex_decode(payload_text, out.payload));
            if (!ok) {
                error = enc == encoding::base64 ? "payload is not valid base64" : "payload is not valid hex";
                return ndjson_status::bad;
            }
            break;
        }
        case encoding::json:
            // The value is the payload's JSON text (a string value is a JSON string).
            json::minify(payload_raw, out.payload);
            break;
        }
        return ndjson_status::message;
    }
};

ndjson_parser::ndjson_parser() : impl_(std::make_unique<impl>()) {}
ndjson_parser::~ndjson_parser() = default;

ndjson_status ndjson_parser::parse(std::string_view line, const publish_defaults& defaults, mqtt::publish& out,
                                   std::string& error) {
    std::string_view text = trim(line);
    if (text.starts_with("\xEF\xBB\xBF")) text = trim(text.substr(3));  // BOM (hardening I03)
    if (text.empty()) return ndjson_status::skip;
    return impl_->run(text, defaults, out, error);
}

}  // namespace mq::tools
