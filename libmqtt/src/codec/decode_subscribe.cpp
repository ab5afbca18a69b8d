// SPDX-License-Identifier: MIT
// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (sections 3.8 - 3.11).
// Topic Filter syntax is not checked here: a server answers a bad filter with
// SUBACK/UNSUBACK 0x8F for that entry and keeps the others (hardening D02).
#include "decode_detail.hpp"
#include "property_codec.hpp"

namespace mqtt::detail {
namespace {

std::uint16_t read_packet_id(reader& r) {
    const std::uint16_t id = r.u16();
    if (r.ok() && id == 0) r.fail(codec_error::zero_packet_id);  // [MQTT-2.2.1-3]
    return id;
}

bool is_shared(const std::string& filter) { return filter.rfind("$share/", 0) == 0; }

}  // namespace

subscribe decode_subscribe(reader& r, protocol_version v) {
    subscribe s;
    s.packet_id = read_packet_id(r);
    if (v == protocol_version::v5) {
        read_properties(r, property_context::subscribe, s.props);
    }
    while (r.ok() && !r.at_end()) {
        subscription e;
        e.filter = r.utf8_string();
        const std::uint8_t o = r.u8();
        if (!r.ok()) break;
        const std::uint8_t q = o & 0x03;
        // 3.1.1: bits 2-7 reserved [MQTT-3.8.3-4]; 5.0: bits 6-7 reserved and
        // Retain Handling 3 is malformed [MQTT-3.8.3-5].
        const std::uint8_t reserved_mask = v == protocol_version::v5 ? 0xc0 : 0xfc;
        if ((o & reserved_mask) != 0 || (v == protocol_version::v311 && q == 3)) {
            r.fail(codec_error::bad_subscription_options);
            break;
        }
        // 5.0 calls these values Protocol Errors rather than malformed (3.8.3.1).
        if (q == 3 || ((o >> 4) & 0x03) == 3) {
            r.fail(codec_error::subscription_option_value);
            break;
        }
        e.max_qos = static_cast<qos>(q);
        if (v == protocol_version::v5) {
            e.no_local = (o & 0x04) != 0;
            e.retain_as_published = (o & 0x08) != 0;
            e.retain_handling = static_cast<std::uint8_t>((o >> 4) & 0x03);
            if (e.no_local && is_shared(e.filter)) {
                r.fail(codec_error::no_local_on_shared);  // [MQTT-3.8.3-4]
                break;
            }
        }
        s.entries.push_back(std::move(e));
    }
    if (r.ok() && s.entries.empty()) r.fail(codec_error::empty_subscription_list);  // [MQTT-3.8.3-2]
    return s;
}

suback decode_suback(reader& r, protocol_version v) {
    suback s;
    s.packet_id = read_packet_id(r);
    if (v == protocol_version::v5) read_properties(r, property_context::suback, s.props);
    while (r.ok() && !r.at_end()) {
        const std::uint8_t c = r.u8();
        if (v == protocol_version::v311) {
            // 3.1.1 allows only 0x00, 0x01, 0x02 and 0x80 [MQTT-3.9.3-2].
            if (!valid_code(c, {0x00, 0x01, 0x02, 0x80})) {
                r.fail(codec_error::invalid_reason_code);
                break;
            }
            s.reason_codes.push_back(c == 0x80 ? reason::unspecified_error : static_cast<reason>(c));
            continue;
        }
        if (!valid_code(c, {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2})) {
            r.fail(codec_error::invalid_reason_code);
            break;
        }
        s.reason_codes.push_back(static_cast<reason>(c));
    }
    if (r.ok() && s.reason_codes.empty()) r.fail(codec_error::empty_subscription_list);
    return s;
}

unsubscribe decode_unsubscribe(reader& r, protocol_version v) {
    unsubscribe u;
    u.packet_id = read_packet_id(r);
    if (v == protocol_version::v5) read_properties(r, property_context::unsubscribe, u.props);
    while (r.ok() && !r.at_end()) {
        std::string f = r.utf8_string();
        if (r.ok()) u.filters.push_back(std::move(f));
    }
    if (r.ok() && u.filters.empty()) r.fail(codec_error::empty_subscription_list);  // [MQTT-3.10.3-2]
    return u;
}

unsuback decode_unsuback(reader& r, protocol_version v) {
    unsuback u;
    u.packet_id = read_packet_id(r);
    if (v == protocol_version::v311) return u;  // no payload in 3.1.1 (3.11)
    read_properties(r, property_context::unsuback, u.props);
    while (r.ok() && !r.at_end()) {
        const std::uint8_t c = r.u8();
        if (!valid_code(c, {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91})) {
            r.fail(codec_error::invalid_reason_code);
            break;
        }
        u.reason_codes.push_back(static_cast<reason>(c));
    }
    if (r.ok() && u.reason_codes.empty()) r.fail(codec_error::empty_subscription_list);
    return u;
}

}  // namespace mqtt::detail
