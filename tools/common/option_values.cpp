// SPDX-License-Identifier: MIT
// Values given to connection options: QoS, binary (hex:/base64:/text:), a v5
// property by name (-D), generated client ids. Declared in connection_options.hpp.
#include "common/connection_options.hpp"

#include <random>
#include <system_error>

#include <fmt/format.h>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/utf8.hpp>

#include "common/encoding.hpp"
#include "common/exit_codes.hpp"

namespace mq::tools {

using mqtt::property_id;

mqtt::qos parse_qos(std::string_view text, std::string_view what) {
    if (text == "0") return mqtt::qos::at_most_once;
    if (text == "1") return mqtt::qos::at_least_once;
    if (text == "2") return mqtt::qos::exactly_once;
    throw std::system_error(tool_error::usage, fmt::format("{} must be 0, 1 or 2, not '{}'", what, text));
}

std::optional<std::vector<std::uint8_t>> parse_binary_value(std::string_view text) {
    std::vector<std::uint8_t> out;
    if (text.starts_with("hex:")) {
        if (!hex_decode(text.substr(4), out)) return std::nullopt;
    } else if (text.starts_with("base64:")) {
        if (!base64_decode(text.substr(7), out)) return std::nullopt;
    } else {
        if (text.starts_with("text:")) text.remove_prefix(5);
        out.assign(text.begin(), text.end());
    }
    return out;
}

std::string add_named_property(mqtt::properties& props, mqtt::property_context ctx, std::string_view name,
                               const std::vector<std::string>& values) {
    const auto id = mqtt::property_from_name(name);
    if (!id) return fmt::format("unknown property '{}'", name);
    if (!mqtt::property_allowed(*id, ctx)) return fmt::format("property '{}' is not allowed in this packet", name);
    const auto type = mqtt::type_of(static_cast<std::uint8_t>(*id));
    if (!type) return fmt::format("unknown property '{}'", name);
    if (*type == mqtt::property_type::utf8_pair) {
        if (values.size() != 2) return fmt::format("property '{}' takes KEY VALUE", name);
        props.add_user_property(values[0], values[1]);
        return {};
    }
    if (values.size() != 1) return fmt::format("property '{}' takes one value", name);
    const std::string& v = values[0];
    switch (*type) {
    case mqtt::property_type::byte:
    case mqtt::property_type::two_byte:
    case mqtt::property_type::four_byte:
    case mqtt::property_type::varint: {
        const std::uint64_t max = *type == mqtt::property_type::byte       ? 0xFFu
                                  : *type == mqtt::property_type::two_byte ? 0xFFFFu
                                  : *type == mqtt::property_type::varint   ? mqtt::max_varint
                                                                           : 0xFFFFFFFFu;
        if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoull(v) > max) {
            return fmt::format("property '{}' needs an integer 0-{}, not '{}'", name, max, v);
        }
        const auto n = static_cast<std::uint32_t>(std::stoull(v));
        if (*id == property_id::subscription_identifier) props.add_int(*id, n);
        else props.set_int(*id, n);
        return {};
    }
    case mqtt::property_type::utf8:
        if (mqtt::check_utf8(v) != mqtt::utf8_status::ok) return fmt::format("property '{}' is not valid UTF-8", name);
        props.set_string(*id, v);
        return {};
    case mqtt::property_type::binary: {
        auto b = parse_binary_value(v);
        if (!b) return fmt::format("property '{}': bad hex: or base64: value", name);
        props.set_binary(*id, std::move(*b));
        return {};
    }
    case mqtt::property_type::utf8_pair: break;
    }
    return {};
}

std::string random_client_id(std::string_view prefix) {
    std::random_device rd;
    std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    const std::uint64_t r = gen();
    if (prefix.empty()) return fmt::format("mq{:016x}", r);
    return fmt::format("{}{:08x}", prefix, static_cast<std::uint32_t>(r));
}

}  // namespace mq::tools
