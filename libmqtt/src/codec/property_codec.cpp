// SPDX-License-Identifier: MIT
#include "property_codec.hpp"

#include <limits>

#include <mqtt/codec/topic.hpp>

namespace mqtt::detail {
namespace {

constexpr std::size_t invalid_size = std::numeric_limits<std::size_t>::max();

// Values the spec restricts beyond their wire type.
codec_error check_value(property_id id, std::uint32_t v) noexcept {
    switch (id) {
        case property_id::payload_format_indicator:         // 0 or 1 (3.3.2.3.2)
        case property_id::request_problem_information:      // 0 or 1 (3.1.2.11.7)
        case property_id::request_response_information:     // 0 or 1 (3.1.2.11.6)
        case property_id::maximum_qos:                      // 0 or 1 (3.2.2.3.4)
        case property_id::retain_available:                 // 0 or 1 (3.2.2.3.5)
        case property_id::wildcard_subscription_available:  // 0 or 1 (3.2.2.3.11)
        case property_id::subscription_identifier_available:
        case property_id::shared_subscription_available:
            return v <= 1 ? codec_error::ok : codec_error::property_value_invalid;
        case property_id::receive_maximum:      // 0 is a Protocol Error (3.1.2.11.3)
        case property_id::maximum_packet_size:  // 0 is a Protocol Error (3.1.2.11.4)
        case property_id::subscription_identifier:  // 1..268,435,455 (3.8.2.1.2)
            return v == 0 ? codec_error::property_value_invalid : codec_error::ok;
        case property_id::topic_alias:  // 0 is not permitted [MQTT-3.3.2-8]
            return v == 0 ? codec_error::topic_alias_zero : codec_error::ok;
        default: return codec_error::ok;
    }
}

std::size_t value_size(property_type t, const property_value& v) noexcept {
    switch (t) {
        case property_type::byte: return std::holds_alternative<std::uint32_t>(v) ? 1 : invalid_size;
        case property_type::two_byte: return std::holds_alternative<std::uint32_t>(v) ? 2 : invalid_size;
        case property_type::four_byte: return std::holds_alternative<std::uint32_t>(v) ? 4 : invalid_size;
        case property_type::varint: {
            const auto* n = std::get_if<std::uint32_t>(&v);
            return (n && *n <= max_varint) ? varint_size(*n) : invalid_size;
        }
        case property_type::utf8: {
            const auto* s = std::get_if<std::string>(&v);
            return (s && s->size() <= 65'535) ? 2 + s->size() : invalid_size;
        }
        case property_type::binary: {
            const auto* b = std::get_if<binary>(&v);
            return (b && b->size() <= 65'535) ? 2 + b->size() : invalid_size;
        }
        case property_type::utf8_pair: {
            const auto* p = std::get_if<string_pair>(&v);
            return (p && p->first.size() <= 65'535 && p->second.size() <= 65'535)
                       ? 4 + p->first.size() + p->second.size()
                       : invalid_size;
        }
    }
    return invalid_size;
}

}  // namespace

void read_properties(reader& r, property_context ctx, properties& out) {
    const std::uint32_t len = r.varint();
    if (!r.ok()) return;
    if (len > r.remaining()) {
        r.fail(codec_error::truncated);  // Property Length past the end of the packet
        return;
    }
    reader pr(r.take(len), r.lim(), r.error_ref());
    std::uint64_t seen = 0;
    std::uint32_t user_props = 0;
    while (pr.ok() && !pr.at_end()) {
        // The identifier is a Variable Byte Integer, all defined ones fit in one byte.
        const std::uint32_t raw_id = pr.varint();
        if (!pr.ok()) return;
        const auto type = raw_id < 256 ? type_of(static_cast<std::uint8_t>(raw_id)) : std::nullopt;
        if (!type) {
            pr.fail(codec_error::unknown_property);
            return;
        }
        const auto id = static_cast<property_id>(raw_id);
        if (!property_allowed(id, ctx)) {
            pr.fail(codec_error::property_not_allowed);
            return;
        }
        const std::uint64_t mask = std::uint64_t{1} << raw_id;
        if ((seen & mask) != 0 && !property_repeatable(id, ctx)) {
            pr.fail(codec_error::duplicate_property);  // e.g. [MQTT-3.1.2-?] "more than once"
            return;
        }
        seen |= mask;
        property_value value;
        switch (*type) {
            case property_type::byte: value = std::uint32_t{pr.u8()}; break;
            case property_type::two_byte: value = std::uint32_t{pr.u16()}; break;
            case property_type::four_byte: value = pr.u32(); break;
            case property_type::varint: value = pr.varint(); break;
            case property_type::utf8: value = pr.utf8_string(); break;
            case property_type::binary: value = pr.binary_data(); break;
            case property_type::utf8_pair: {
                if (++user_props > pr.lim().max_user_properties) {
                    pr.fail(codec_error::too_many_user_properties);
                    return;
                }
                std::string k = pr.utf8_string();
                std::string v = pr.utf8_string();
                value = string_pair{std::move(k), std::move(v)};
                break;
            }
        }
        if (!pr.ok()) return;
        if (const auto* n = std::get_if<std::uint32_t>(&value)) {
            if (const auto e = check_value(id, *n); e != codec_error::ok) {
                pr.fail(e);
                return;
            }
        }
        if (id == property_id::response_topic) {
            // A Response Topic is a Topic Name: no wildcards, not empty [MQTT-3.3.2-13].
            const auto& topic = std::get<std::string>(value);
            if (topic.empty() || has_wildcard(topic)) {
                pr.fail(codec_error::response_topic_invalid);
                return;
            }
        }
        out.items.push_back(property{id, std::move(value)});
    }
}

std::size_t properties_body_size(const properties& p) noexcept {
    std::size_t total = 0;
    for (const auto& item : p.items) {
        const auto type = type_of(static_cast<std::uint8_t>(item.id));
        if (!type) return invalid_size;
        const std::size_t n = value_size(*type, item.value);
        if (n == invalid_size) return invalid_size;
        total += 1 + n;
    }
    return total;
}

std::size_t properties_size(const properties& p) noexcept {
    const std::size_t body = properties_body_size(p);
    if (body == invalid_size || body > max_varint) return invalid_size;
    return varint_size(static_cast<std::uint32_t>(body)) + body;
}

void write_properties(std::vector<std::uint8_t>& out, const properties& p) {
    encode_varint(static_cast<std::uint32_t>(properties_body_size(p)), out);
    for (const auto& item : p.items) {
        out.push_back(static_cast<std::uint8_t>(item.id));
        switch (*type_of(static_cast<std::uint8_t>(item.id))) {
            case property_type::byte: put_u8(out, static_cast<std::uint8_t>(std::get<std::uint32_t>(item.value))); break;
            case property_type::two_byte: put_u16(out, static_cast<std::uint16_t>(std::get<std::uint32_t>(item.value))); break;
            case property_type::four_byte: put_u32(out, std::get<std::uint32_t>(item.value)); break;
            case property_type::varint: encode_varint(std::get<std::uint32_t>(item.value), out); break;
            case property_type::utf8: {
                const auto& s = std::get<std::string>(item.value);
                put_bytes16(out, s.data(), s.size());
                break;
            }
            case property_type::binary: {
                const auto& b = std::get<binary>(item.value);
                put_bytes16(out, b.data(), b.size());
                break;
            }
            case property_type::utf8_pair: {
                const auto& [k, v] = std::get<string_pair>(item.value);
                put_bytes16(out, k.data(), k.size());
                put_bytes16(out, v.data(), v.size());
                break;
            }
        }
    }
}

}  // namespace mqtt::detail
