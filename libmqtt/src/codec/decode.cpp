// SPDX-License-Identifier: MIT
// Frame splitting and decoding of PUBLISH, acknowledgements, CONNACK, PINGs,
// DISCONNECT and AUTH. CONNECT and (UN)SUBSCRIBE live in their own files.
#include <mqtt/codec/decode.hpp>

#include <algorithm>
#include <initializer_list>

#include "decode_detail.hpp"
#include "property_codec.hpp"

namespace mqtt {

std::optional<frame_view> next_frame(std::span<const std::uint8_t> in, const limits& lim,
                                     std::error_code& ec) noexcept {
    ec.clear();
    if (in.size() < 2) return std::nullopt;
    std::uint32_t remaining = 0;
    std::size_t used = 0;
    switch (decode_varint(in.subspan(1), remaining, used)) {
        case varint_status::need_more: return std::nullopt;
        case varint_status::too_long:  // [MQTT-1.5.5] at most four bytes
            ec = make_error_code(codec_error::remaining_length_too_long);
            return std::nullopt;
        case varint_status::not_minimal:  // [MQTT-1.5.5-1]
            ec = make_error_code(codec_error::varint_not_minimal);
            return std::nullopt;
        case varint_status::ok: break;
    }
    const std::size_t total = 1 + used + remaining;
    // Checked on the fixed header, before the body is buffered [MQTT-3.2.2-15].
    if (total > lim.max_packet_size) {
        ec = make_error_code(codec_error::packet_too_large);
        return std::nullopt;
    }
    if (in.size() < total) return std::nullopt;
    return frame_view{in[0], in.subspan(1 + used, remaining), total};
}

namespace detail {

bool valid_code(std::uint8_t c, std::initializer_list<std::uint8_t> allowed) noexcept {
    return std::find(allowed.begin(), allowed.end(), c) != allowed.end();
}

void check_topic_name_field(reader& r, const std::string& topic, bool alias_present) {
    if (!r.ok()) return;
    if (topic.empty()) {
        // Empty only with a Topic Alias (v5) [MQTT-3.3.2-1] [MQTT-4.7.3-1].
        if (!alias_present) r.fail(codec_error::topic_name_empty);
        return;
    }
    std::uint32_t levels = 1;
    for (char c : topic) {
        if (c == '+' || c == '#') {
            r.fail(codec_error::topic_name_has_wildcard);  // [MQTT-3.3.2-2]
            return;
        }
        if (c == '/') ++levels;
    }
    if (levels > r.lim().max_topic_levels) r.fail(codec_error::topic_name_invalid);
}

}  // namespace detail

namespace {

using detail::reader;
using detail::valid_code;

publish decode_publish(reader& r, std::uint8_t flags, protocol_version v) {
    publish p;
    p.retain = (flags & 0x01) != 0;
    p.dup = (flags & 0x08) != 0;
    const std::uint8_t q = (flags >> 1) & 0x03;
    if (q == 3) {
        r.fail(codec_error::invalid_qos);  // [MQTT-3.3.1-4]
        return p;
    }
    p.level = static_cast<qos>(q);
    if (p.dup && p.level == qos::at_most_once) {
        r.fail(codec_error::dup_on_qos0);  // [MQTT-3.3.1-2]
        return p;
    }
    p.topic = r.utf8_string();
    if (p.level != qos::at_most_once) {
        p.packet_id = r.u16();
        if (r.ok() && p.packet_id == 0) r.fail(codec_error::zero_packet_id);  // [MQTT-2.2.1-3]
    }
    if (v == protocol_version::v5) {
        detail::read_properties(r, property_context::publish, p.props);
        if (r.ok() && r.lim().from_client && p.props.has(property_id::subscription_identifier))
            r.fail(codec_error::subscription_id_from_client);  // [MQTT-3.3.4-6]
    }
    detail::check_topic_name_field(r, p.topic, v == protocol_version::v5 && p.props.has(property_id::topic_alias));
    if (r.ok()) p.payload = r.rest();
    return p;
}

// PUBACK, PUBREC, PUBREL, PUBCOMP share one layout (3.4 - 3.7).
template <typename Ack>
Ack decode_ack(reader& r, protocol_version v, property_context ctx, std::initializer_list<std::uint8_t> codes) {
    Ack a;
    a.packet_id = r.u16();
    if (r.ok() && a.packet_id == 0) r.fail(codec_error::zero_packet_id);  // [MQTT-2.3.1-1]
    if (v == protocol_version::v5 && r.ok() && !r.at_end()) {
        // Reason and properties may be omitted: length 2 means Success, length 3 no properties.
        const std::uint8_t c = r.u8();
        if (!valid_code(c, codes)) r.fail(codec_error::invalid_reason_code);
        a.reason_code = static_cast<reason>(c);
        if (r.ok() && !r.at_end()) detail::read_properties(r, ctx, a.props);
    }
    return a;
}

connack decode_connack(reader& r, protocol_version v) {
    connack c;
    const std::uint8_t flags = r.u8();
    if (r.ok() && (flags & 0xfe) != 0) r.fail(codec_error::connack_reserved_flags);  // [MQTT-3.2.2-1]
    c.session_present = (flags & 0x01) != 0;
    const std::uint8_t code = r.u8();
    if (!r.ok()) return c;
    if (v == protocol_version::v311) {
        static constexpr reason map[] = {reason::success, reason::unsupported_protocol_version,
                                         reason::client_identifier_not_valid, reason::server_unavailable,
                                         reason::bad_user_name_or_password, reason::not_authorized};
        if (code > 5) {
            r.fail(codec_error::invalid_reason_code);
            return c;
        }
        c.reason_code = map[code];
        return c;
    }
    // A 3.1.1 server refusing protocol level 5 answers in its own format,
    // 20 02 00 01 (unacceptable protocol level, 3.1.1 [MQTT-3.1.2-2]): no
    // property length, so it cannot be a v5 CONNACK. Read as 0x84 so a client
    // can retry with 3.1.1 (cli-contract.md §2.2 -V).
    if (code == 0x01 && !c.session_present && r.at_end()) {
        c.reason_code = reason::unsupported_protocol_version;
        return c;
    }
    if (!valid_code(code, {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                           0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F})) {
        r.fail(codec_error::invalid_reason_code);
        return c;
    }
    c.reason_code = static_cast<reason>(code);
    detail::read_properties(r, property_context::connack, c.props);
    return c;
}

disconnect decode_disconnect(reader& r, protocol_version v) {
    disconnect d;
    if (v == protocol_version::v311 || r.at_end()) return d;  // 3.1.1: no variable header
    const std::uint8_t c = r.u8();
    if (!valid_code(c, {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90,
                        0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F,
                        0xA0, 0xA1, 0xA2})) {
        r.fail(codec_error::invalid_reason_code);
        return d;
    }
    d.reason_code = static_cast<reason>(c);
    if (!r.at_end()) detail::read_properties(r, property_context::disconnect, d.props);
    return d;
}

auth decode_auth(reader& r) {
    auth a;
    if (r.at_end()) return a;  // length 0: Success, no properties (3.15.2.1)
    const std::uint8_t c = r.u8();
    if (!valid_code(c, {0x00, 0x18, 0x19})) {
        r.fail(codec_error::invalid_reason_code);
        return a;
    }
    a.reason_code = static_cast<reason>(c);
    if (!r.at_end()) detail::read_properties(r, property_context::auth, a.props);
    // Only a zero-length AUTH may leave out the properties; otherwise omitting the
    // Authentication Method is a Protocol Error (3.15.2.2.2).
    if (r.ok() && !a.props.has(property_id::authentication_method))
        r.fail(codec_error::auth_data_without_method);
    return a;
}

// Fixed header flag bits each type must carry [MQTT-2.1.3-1]; PUBLISH is free.
bool flags_valid(packet_type t, std::uint8_t flags) noexcept {
    switch (t) {
        case packet_type::publish: return true;
        case packet_type::pubrel:
        case packet_type::subscribe:
        case packet_type::unsubscribe: return flags == 0x02;
        default: return flags == 0x00;
    }
}

}  // namespace

packet decode_frame(const frame_view& frame, protocol_version version, const limits& lim,
                    std::error_code& ec) {
    ec.clear();
    const auto type = frame.type();
    const std::uint8_t flags = frame.first_byte & 0x0f;
    if (type == packet_type::reserved) {
        ec = make_error_code(codec_error::reserved_packet_type);
        return pingreq{};
    }
    if (!flags_valid(type, flags)) {
        ec = make_error_code(codec_error::bad_fixed_header_flags);  // [MQTT-2.1.3-1]
        return pingreq{};
    }
    if (type == packet_type::auth && version == protocol_version::v311) {
        ec = make_error_code(codec_error::auth_on_v311);
        return pingreq{};
    }
    reader r(frame.body, lim, ec);
    packet out;
    switch (type) {
        case packet_type::connect: out = detail::decode_connect(r); break;
        case packet_type::connack: out = decode_connack(r, version); break;
        case packet_type::publish: out = decode_publish(r, flags, version); break;
        case packet_type::puback:
            out = decode_ack<puback>(r, version, property_context::puback,
                                     {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
            break;
        case packet_type::pubrec:
            out = decode_ack<pubrec>(r, version, property_context::pubrec,
                                     {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
            break;
        case packet_type::pubrel: out = decode_ack<pubrel>(r, version, property_context::pubrel, {0x00, 0x92}); break;
        case packet_type::pubcomp: out = decode_ack<pubcomp>(r, version, property_context::pubcomp, {0x00, 0x92}); break;
        case packet_type::subscribe: out = detail::decode_subscribe(r, version); break;
        case packet_type::suback: out = detail::decode_suback(r, version); break;
        case packet_type::unsubscribe: out = detail::decode_unsubscribe(r, version); break;
        case packet_type::unsuback: out = detail::decode_unsuback(r, version); break;
        case packet_type::pingreq: out = pingreq{}; break;
        case packet_type::pingresp: out = pingresp{}; break;
        case packet_type::disconnect: out = decode_disconnect(r, version); break;
        case packet_type::auth: out = decode_auth(r); break;
        case packet_type::reserved: break;
    }
    // Every byte of the frame must belong to a field.
    if (r.ok() && !r.at_end()) r.fail(codec_error::trailing_bytes);
    return out;
}

std::optional<std::uint8_t> peek_connect_level(const frame_view& frame) noexcept {
    if (frame.type() != packet_type::connect || frame.body.size() < 2) return std::nullopt;
    const std::size_t name_len = (std::size_t{frame.body[0]} << 8) | frame.body[1];
    if (frame.body.size() < 2 + name_len + 1) return std::nullopt;
    return frame.body[2 + name_len];
}

}  // namespace mqtt
