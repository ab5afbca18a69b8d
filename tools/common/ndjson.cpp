// SPDX-License-Identifier: MIT
#include "common/ndjson.hpp"

#include <cstring>

#include <simdjson.h>

#include <mqtt/codec/topic.hpp>

#include "common/encoding.hpp"

namespace mq::tools {
namespace od = simdjson::ondemand;
using mqtt::property_id;

static_assert(ndjson_padding >= simdjson::SIMDJSON_PADDING);

namespace {

enum class encoding : std::uint8_t { utf8, base64, hex, json };

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string json_error(simdjson::error_code e) { return std::string("invalid JSON: ") + simdjson::error_message(e); }

// True when `text` ends inside a string (or on a backslash) or its brackets
// outside strings do not balance: the lazy On-Demand parse stops at the last
// field it needs, so without this check a truncated line could still be sent.
// Like simdjson's stage 1, a backslash escapes the next byte inside and
// outside strings.
bool structure_left_open(std::string_view text) noexcept {
    bool in_string = false;
    std::size_t depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\') {
            if (++i == text.size()) return true;
        } else if (c == '"') {
            in_string = !in_string;
        } else if (!in_string && (c == '{' || c == '[')) {
            ++depth;
        } else if (!in_string && (c == '}' || c == ']')) {
            if (depth == 0) return true;
            --depth;
        }
    }
    return in_string || depth != 0;
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

struct ndjson_parser::impl {
    od::parser parser;
    std::string copy;  // padded copy when the caller cannot guarantee padding
    std::vector<std::uint8_t> scratch;

    // Fills props from the "properties" object; false with error on bad values.
    bool parse_properties(od::value v, mqtt::properties& props, std::string& error) {
        od::object obj;
        if (v.get_object().get(obj) != simdjson::SUCCESS) {
            error = "\"properties\" must be an object";
            return false;
        }
        for (auto field : obj) {
            std::string_view key;
            if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
                error = "invalid property key";
                return false;
            }
            od::value val = field.value();
            if (key == "payload_format_indicator") {
                std::uint64_t n = 0;
                if (val.get_uint64().get(n) != simdjson::SUCCESS || n > 1) {
                    error = "payload_format_indicator must be 0 or 1";
                    return false;
                }
                props.set_int(property_id::payload_format_indicator, static_cast<std::uint32_t>(n));
            } else if (key == "message_expiry_interval") {
                std::uint64_t n = 0;
                if (val.get_uint64().get(n) != simdjson::SUCCESS || n > 0xFFFFFFFFULL) {
                    error = "message_expiry_interval must be an integer 0-4294967295";
                    return false;
                }
                props.set_int(property_id::message_expiry_interval, static_cast<std::uint32_t>(n));
            } else if (key == "content_type" || key == "response_topic") {
                std::string_view s;
                if (val.get_string().get(s) != simdjson::SUCCESS) {
                    error = std::string(key) + " must be a string";
                    return false;
                }
                if (key == "response_topic") {
                    if (mqtt::check_topic_name(s)) {
                        error = "invalid response_topic";
                        return false;
                    }
                    props.set_string(property_id::response_topic, std::string(s));
                } else {
                    props.set_string(property_id::content_type, std::string(s));
                }
            } else if (key == "correlation_data") {
                std::string_view s;
                if (val.get_string().get(s) != simdjson::SUCCESS || !base64_decode(s, scratch)) {
                    error = "correlation_data must be a base64 string";
                    return false;
                }
                props.set_binary(property_id::correlation_data, scratch);
            } else if (key == "user_properties") {
                if (!parse_user_properties(val, props, error)) return false;
            }
            // Other keys (subscription ids, topic alias) do not apply to a publish.
        }
        return true;
    }

    bool parse_user_properties(od::value v, mqtt::properties& props, std::string& error) {
        od::array arr;
        if (v.get_array().get(arr) != simdjson::SUCCESS) {
            error = "user_properties must be an array of [key, value] pairs";
            return false;
        }
        for (auto item : arr) {
            od::array pair;
            if (item.get_array().get(pair) != simdjson::SUCCESS) {
                error = "user_properties must be an array of [key, value] pairs";
                return false;
            }
            std::string kv[2];
            std::size_t n = 0;
            for (auto s : pair) {
                std::string_view text;
                if (n >= 2 || s.get_string().get(text) != simdjson::SUCCESS) {
                    error = "user_properties must be an array of [key, value] string pairs";
                    return false;
                }
                kv[n++] = std::string(text);
            }
            if (n != 2) {
                error = "user_properties must be an array of [key, value] pairs";
                return false;
            }
            props.add_user_property(std::move(kv[0]), std::move(kv[1]));
        }
        return true;
    }

    // Compact copy of JSON text into `out`.
    static bool minify_into(std::string_view raw, std::vector<std::uint8_t>& out) {
        out.resize(raw.size() + simdjson::SIMDJSON_PADDING);
        std::size_t len = 0;
        if (simdjson::minify(raw.data(), raw.size(), reinterpret_cast<char*>(out.data()), len) !=
            simdjson::SUCCESS) {
            return false;
        }
        out.resize(len);
        return true;
    }

    ndjson_status run(std::string_view text, std::size_t capacity, const publish_defaults& defaults,
                      mqtt::publish& out, std::string& error) {
        od::document doc;
        if (auto e = parser.iterate(text.data(), text.size(), capacity).get(doc); e != simdjson::SUCCESS) {
            error = json_error(e);
            return ndjson_status::bad;
        }
        od::object obj;
        if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) {
            error = e == simdjson::INCORRECT_TYPE ? "line is not a JSON object" : json_error(e);
            return ndjson_status::bad;
        }
        bool have_topic = false, have_payload = false, payload_is_string = false;
        std::string_view topic, payload_text, payload_raw;
        encoding enc = encoding::utf8;
        out.level = defaults.level;
        out.retain = defaults.retain;
        out.dup = false;
        out.packet_id = 0;
        out.props.items.clear();
        for (auto field : obj) {
            std::string_view key;
            if (auto e = field.unescaped_key().get(key); e != simdjson::SUCCESS) {
                error = json_error(e);
                return ndjson_status::bad;
            }
            od::value val;
            if (auto e = field.value().get(val); e != simdjson::SUCCESS) {
                error = json_error(e);
                return ndjson_status::bad;
            }
            if (key == "type") {
                std::string_view t;
                if (val.get_string().get(t) != simdjson::SUCCESS) {
                    error = "\"type\" must be a string";
                    return ndjson_status::bad;
                }
                if (t != "message") return ndjson_status::skip;
            } else if (key == "topic") {
                if (val.get_string().get(topic) != simdjson::SUCCESS) {
                    error = "\"topic\" must be a valid JSON string";
                    return ndjson_status::bad;
                }
                have_topic = true;
            } else if (key == "payload") {
                od::json_type type{};
                if (auto e = val.type().get(type); e != simdjson::SUCCESS) {
                    error = json_error(e);
                    return ndjson_status::bad;
                }
                have_payload = true;
                payload_is_string = type == od::json_type::string;
                if (payload_is_string) {
                    payload_raw = trim(val.raw_json_token());
                    if (auto e = val.get_string().get(payload_text); e != simdjson::SUCCESS) {
                        error = json_error(e);
                        return ndjson_status::bad;
                    }
                } else if (auto e = simdjson::to_json_string(val).get(payload_raw); e != simdjson::SUCCESS) {
                    error = json_error(e);
                    return ndjson_status::bad;
                }
            } else if (key == "payload_encoding") {
                std::string_view e;
                if (val.get_string().get(e) != simdjson::SUCCESS) {
                    error = "\"payload_encoding\" must be a string";
                    return ndjson_status::bad;
                }
                if (e == "utf8") enc = encoding::utf8;
                else if (e == "base64") enc = encoding::base64;
                else if (e == "hex") enc = encoding::hex;
                else if (e == "json") enc = encoding::json;
                else {
                    error = "unknown payload_encoding '" + std::string(e) + "' (utf8, base64, hex, json)";
                    return ndjson_status::bad;
                }
            } else if (key == "qos") {
                std::uint64_t q = 0;
                if (val.get_uint64().get(q) != simdjson::SUCCESS || q > 2) {
                    error = "\"qos\" must be 0, 1 or 2";
                    return ndjson_status::bad;
                }
                out.level = static_cast<mqtt::qos>(q);
            } else if (key == "retain") {
                bool r = false;
                if (val.get_bool().get(r) != simdjson::SUCCESS) {
                    error = "\"retain\" must be true or false";
                    return ndjson_status::bad;
                }
                out.retain = r;
            } else if (key == "properties") {
                if (!parse_properties(val, out.props, error)) return ndjson_status::bad;
            }
            // Other keys (ts, dup, payload_len, filters, ...) are ignored.
        }
        if (doc.current_location().error() == simdjson::SUCCESS) {  // more tokens after the object
            error = "trailing content after the JSON object";
            return ndjson_status::bad;
        }
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
        switch (enc) {
        case encoding::utf8:
            if (payload_is_string) {
                out.payload.assign(payload_text.begin(), payload_text.end());
            } else if (!minify_into(payload_raw, out.payload)) {
                error = "invalid JSON payload";
                return ndjson_status::bad;
            }
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
            if (!minify_into(payload_raw, out.payload)) {
                error = "invalid JSON payload";
                return ndjson_status::bad;
            }
            break;
        }
        return ndjson_status::message;
    }
};

ndjson_parser::ndjson_parser() : impl_(std::make_unique<impl>()) {}
ndjson_parser::~ndjson_parser() = default;

ndjson_status ndjson_parser::parse(std::string_view line, std::size_t readable_after,
                                   const publish_defaults& defaults, mqtt::publish& out, std::string& error) {
    std::string_view text = trim(line);
    if (text.starts_with("\xEF\xBB\xBF")) text = trim(text.substr(3));  // BOM (hardening I03)
    if (text.empty()) return ndjson_status::skip;
    if (json_too_deep(text, ndjson_max_depth)) {
        error = "JSON nesting deeper than 64";
        return ndjson_status::bad;
    }
    if (structure_left_open(text)) {
        error = "invalid JSON: unterminated string, object or array";
        return ndjson_status::bad;
    }
    // Always parsed from a copy padded with blanks: parsed in place, a broken
    // line was sent or refused depending on the bytes after it (the next line;
    // found by fuzz_ndjson), since simdjson's scan can run into the padding.
    (void)readable_after;
    impl_->copy.assign(text);
    impl_->copy.append(ndjson_padding, ' ');
    return impl_->run(std::string_view(impl_->copy.data(), text.size()), impl_->copy.size(), defaults, out,
                      error);
}

}  // namespace mq::tools
