// SPDX-License-Identifier: MIT
// CONNECT (MQTT 3.1.1 section 3.1, MQTT 5.0 section 3.1).
#include "decode_detail.hpp"
#include "property_codec.hpp"

namespace mqtt::detail {

connect decode_connect(reader& r) {
    connect c;
    const std::string name = r.utf8_string();
    if (!r.ok()) return c;
    const std::uint8_t level = r.u8();
    if (!r.ok()) return c;
    if (name == "MQIsdp") {
        // MQTT 3.1: answered with CONNACK 0x01 in 3.1.1 format, not silently closed.
        r.fail(codec_error::unsupported_protocol_version);
        return c;
    }
    if (name != "MQTT") {
        r.fail(codec_error::bad_protocol_name);  // [MQTT-3.1.2-1]
        return c;
    }
    if (level != 4 && level != 5) {
        r.fail(codec_error::unsupported_protocol_version);  // [MQTT-3.1.2-2]
        return c;
    }
    c.version = static_cast<protocol_version>(level);
    const bool v5 = c.version == protocol_version::v5;

    const std::uint8_t flags = r.u8();
    if (!r.ok()) return c;
    if ((flags & 0x01) != 0) {
        r.fail(codec_error::connect_reserved_flag);  // [MQTT-3.1.2-3]
        return c;
    }
    c.clean_start = (flags & 0x02) != 0;
    const bool will_flag = (flags & 0x04) != 0;
    const std::uint8_t will_qos = (flags >> 3) & 0x03;
    const bool will_retain = (flags & 0x20) != 0;
    const bool password_flag = (flags & 0x40) != 0;
    const bool username_flag = (flags & 0x80) != 0;
    if (!will_flag && (will_qos != 0 || will_retain)) {
        r.fail(codec_error::bad_will_flags);  // [MQTT-3.1.2-11] [MQTT-3.1.2-13]
        return c;
    }
    if (will_qos == 3) {
        r.fail(codec_error::bad_will_flags);  // [MQTT-3.1.2-12]
        return c;
    }
    if (!v5 && password_flag && !username_flag) {
        r.fail(codec_error::password_without_username);  // 3.1.1 [MQTT-3.1.2-22]
        return c;
    }
    c.keep_alive = r.u16();
    if (v5) {
        read_properties(r, property_context::connect, c.props);
        if (r.ok() && c.props.has(property_id::authentication_data) &&
            !c.props.has(property_id::authentication_method))
            r.fail(codec_error::auth_data_without_method);  // 3.1.2.11.10
    }
    c.client_id = r.utf8_string();  // [MQTT-3.1.3-4]
    if (will_flag) {
        will w;
        w.level = static_cast<qos>(will_qos);
        w.retain = will_retain;
        if (v5) read_properties(r, property_context::will, w.props);
        w.topic = r.utf8_string();
        check_topic_name_field(r, w.topic, false);
        w.payload = r.binary_data();
        if (r.ok()) c.will_msg = std::move(w);
    }
    if (username_flag) {
        std::string u = r.utf8_string();  // [MQTT-3.1.3-11]
        if (r.ok()) c.username = std::move(u);
    }
    if (password_flag) {
        std::vector<std::uint8_t> p = r.binary_data();
        if (r.ok()) c.password = std::move(p);
    }
    return c;
}

}  // namespace mqtt::detail
