// SPDX-License-Identifier: MIT
// Encoding with exact size computation: the remaining length is computed first,
// then every field is appended once, so an encode is one allocation at most.
#include <mqtt/codec/encode.hpp>

#include <algorithm>
#include <limits>

#include "property_codec.hpp"
#include "wire.hpp"

namespace mqtt {
namespace {

constexpr std::size_t bad = std::numeric_limits<std::size_t>::max();

// Saturating sum: any invalid part makes the whole invalid.
struct size_sum {
    std::size_t total = 0;
    size_sum& operator+=(std::size_t n) noexcept {
        total = (total == bad || n == bad) ? bad : total + n;
        return *this;
    }
};

std::size_t str16(std::size_t n) noexcept { return n <= 65'535 ? 2 + n : bad; }
std::size_t props_size(const properties& p, protocol_version v) noexcept {
    return v == protocol_version::v5 ? detail::properties_size(p) : 0;
}

// Short forms (v5): reason and properties are omitted when they are the defaults.
enum class ack_form { id_only, with_reason, full };
ack_form ack_form_of(reason r, const properties& p, protocol_version v) noexcept {
    if (v == protocol_version::v311) return ack_form::id_only;
    if (!p.empty()) return ack_form::full;
    return r == reason::success ? ack_form::id_only : ack_form::with_reason;
}

std::uint8_t suback_code(reason r, protocol_version v) noexcept {
    const auto c = static_cast<std::uint8_t>(r);
    if (v == protocol_version::v311 && c > 0x02) return 0x80;  // 3.1.1 has one failure code
    return c;
}

std::uint8_t subscription_options(const subscription& s, protocol_version v) noexcept {
    auto o = static_cast<std::uint8_t>(s.max_qos);
    if (v == protocol_version::v5) {
        if (s.no_local) o |= 0x04;
        if (s.retain_as_published) o |= 0x08;
        o = static_cast<std::uint8_t>(o | ((s.retain_handling & 0x03) << 4));
    }
    return o;
}

struct body_sizer {
    protocol_version v;
    std::size_t operator()(const connect& c) const noexcept {
        size_sum s;
        s += 2 + 4 + 1 + 1 + 2;  // protocol name, level, flags, keep alive
        s += props_size(c.props, v);
        s += str16(c.client_id.size());
        if (c.will_msg) {
            s += props_size(c.will_msg->props, v);
            s += str16(c.will_msg->topic.size());
            s += str16(c.will_msg->payload.size());
        }
        if (c.username) s += str16(c.username->size());
        if (c.password) s += str16(c.password->size());
        return s.total;
    }
    std::size_t operator()(const connack& c) const noexcept {
        size_sum s;
        s += 2;
        s += props_size(c.props, v);
        return s.total;
    }
    std::size_t operator()(const publish& p) const noexcept {
        size_sum s;
        s += str16(p.topic.size());
        if (p.level != qos::at_most_once) s += 2;
        s += props_size(p.props, v);
        s += p.payload.size();
        return s.total;
    }
    template <typename Ack>
    std::size_t ack(const Ack& a) const noexcept {
        switch (ack_form_of(a.reason_code, a.props, v)) {
            case ack_form::id_only: return 2;
            case ack_form::with_reason: return 3;
            case ack_form::full: {
                size_sum s;
                s += 3;
                s += props_size(a.props, v);
                return s.total;
            }
        }
        return bad;
    }
    std::size_t operator()(const puback& a) const noexcept { return ack(a); }
    std::size_t operator()(const pubrec& a) const noexcept { return ack(a); }
    std::size_t operator()(const pubrel& a) const noexcept { return ack(a); }
    std::size_t operator()(const pubcomp& a) const noexcept { return ack(a); }
    std::size_t operator()(const subscribe& p) const noexcept {
        size_sum s;
        s += 2;
        s += props_size(p.props, v);
        for (const auto& e : p.entries) s += str16(e.filter.size()) + (str16(e.filter.size()) == bad ? 0 : 1);
        return s.total;
    }
    std::size_t operator()(const suback& p) const noexcept {
        size_sum s;
        s += 2;
        s += props_size(p.props, v);
        s += p.reason_codes.size();
        return s.total;
    }
    std::size_t operator()(const unsubscribe& p) const noexcept {
        size_sum s;
        s += 2;
        s += props_size(p.props, v);
        for (const auto& f : p.filters) s += str16(f.size());
        return s.total;
    }
    std::size_t operator()(const unsuback& p) const noexcept {
        if (v == protocol_version::v311) return 2;
        size_sum s;
        s += 2;
        s += props_size(p.props, v);
        s += p.reason_codes.size();
        return s.total;
    }
    std::size_t operator()(const pingreq&) const noexcept { return 0; }
    std::size_t operator()(const pingresp&) const noexcept { return 0; }
    template <typename P>
    std::size_t reason_only(const P& p) const noexcept {
        if (v == protocol_version::v311) return 0;
        if (p.props.empty()) return p.reason_code == reason::success ? 0 : 1;
        size_sum s;
        s += 1;
        s += props_size(p.props, v);
        return s.total;
    }
    std::size_t operator()(const disconnect& p) const noexcept { return reason_only(p); }
    std::size_t operator()(const auth& p) const noexcept {
        if (v == protocol_version::v311) return bad;
        // AUTH may omit Reason Code and Property Length only together, for Success
        // without properties (3.15.2.1); unlike DISCONNECT it has no 1-byte form.
        if (p.props.empty() && p.reason_code == reason::success) return 0;
        size_sum s;
        s += 1;
        s += props_size(p.props, v);
        return s.total;
    }
};

struct body_writer {
    protocol_version v;
    std::vector<std::uint8_t>& out;

    void props(const properties& p) const {
        if (v == protocol_version::v5) detail::write_properties(out, p);
    }
    void str(const std::string& s) const { detail::put_bytes16(out, s.data(), s.size()); }
    void bin(const std::vector<std::uint8_t>& b) const { detail::put_bytes16(out, b.data(), b.size()); }

    void operator()(const connect& c) const {
        str("MQTT");
        detail::put_u8(out, static_cast<std::uint8_t>(v));
        std::uint8_t flags = 0;
        if (c.clean_start) flags |= 0x02;
        if (c.will_msg) {
            flags |= 0x04;
            flags = static_cast<std::uint8_t>(flags | (static_cast<std::uint8_t>(c.will_msg->level) << 3));
            if (c.will_msg->retain) flags |= 0x20;
        }
        if (c.password) flags |= 0x40;
        if (c.username) flags |= 0x80;
        detail::put_u8(out, flags);
        detail::put_u16(out, c.keep_alive);
        props(c.props);
        str(c.client_id);
        if (c.will_msg) {
            props(c.will_msg->props);
            str(c.will_msg->topic);
            bin(c.will_msg->payload);
        }
        if (c.username) str(*c.username);
        if (c.password) bin(*c.password);
    }
    void operator()(const connack& c) const {
        detail::put_u8(out, c.session_present ? 1 : 0);
        detail::put_u8(out, v == protocol_version::v311 ? v311_connack_code(c.reason_code)
                                                        : static_cast<std::uint8_t>(c.reason_code));
        props(c.props);
    }
    void operator()(const publish& p) const {
        str(p.topic);
        if (p.level != qos::at_most_once) detail::put_u16(out, p.packet_id);
        props(p.props);
        out.insert(out.end(), p.payload.begin(), p.payload.end());
    }
    template <typename Ack>
    void ack(const Ack& a) const {
        detail::put_u16(out, a.packet_id);
        const auto form = ack_form_of(a.reason_code, a.props, v);
        if (form == ack_form::id_only) return;
        detail::put_u8(out, static_cast<std::uint8_t>(a.reason_code));
        if (form == ack_form::full) props(a.props);
    }
    void operator()(const puback& a) const { ack(a); }
    void operator()(const pubrec& a) const { ack(a); }
    void operator()(const pubrel& a) const { ack(a); }
    void operator()(const pubcomp& a) const { ack(a); }
    void operator()(const subscribe& p) const {
        detail::put_u16(out, p.packet_id);
        props(p.props);
        for (const auto& e : p.entries) {
            str(e.filter);
            detail::put_u8(out, subscription_options(e, v));
        }
    }
    void operator()(const suback& p) const {
        detail::put_u16(out, p.packet_id);
        props(p.props);
        for (auto r : p.reason_codes) detail::put_u8(out, suback_code(r, v));
    }
    void operator()(const unsubscribe& p) const {
        detail::put_u16(out, p.packet_id);
        props(p.props);
        for (const auto& f : p.filters) str(f);
    }
    void operator()(const unsuback& p) const {
        detail::put_u16(out, p.packet_id);
        if (v == protocol_version::v311) return;
        props(p.props);
        for (auto r : p.reason_codes) detail::put_u8(out, static_cast<std::uint8_t>(r));
    }
    void operator()(const pingreq&) const {}
    void operator()(const pingresp&) const {}
    template <typename P>
    void reason_only(const P& p) const {
        if (v == protocol_version::v311) return;
        if (p.props.empty() && p.reason_code == reason::success) return;
        detail::put_u8(out, static_cast<std::uint8_t>(p.reason_code));
        if (!p.props.empty()) props(p.props);
    }
    void operator()(const disconnect& p) const { reason_only(p); }
    void operator()(const auth& p) const {
        if (p.props.empty() && p.reason_code == reason::success) return;
        detail::put_u8(out, static_cast<std::uint8_t>(p.reason_code));
        props(p.props);
    }
};

std::uint8_t first_byte(const packet& p) noexcept {
    const auto t = static_cast<std::uint8_t>(type_of(p));
    std::uint8_t flags = 0;
    if (const auto* pub = std::get_if<publish>(&p)) {
        flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(pub->level) << 1);
        if (pub->dup) flags |= 0x08;
        if (pub->retain) flags |= 0x01;
    } else if (std::holds_alternative<pubrel>(p) || std::holds_alternative<subscribe>(p) ||
               std::holds_alternative<unsubscribe>(p)) {
        flags = 0x02;  // [MQTT-2.1.3-1]
    }
    return static_cast<std::uint8_t>((t << 4) | flags);
}

}  // namespace

std::size_t encoded_size(const packet& p, protocol_version version) noexcept {
    const std::size_t body = std::visit(body_sizer{version}, p);
    if (body == bad || body > max_varint) return 0;
    return 1 + varint_size(static_cast<std::uint32_t>(body)) + body;
}

std::error_code encode(const packet& p, protocol_version version, std::vector<std::uint8_t>& out) {
    if (version == protocol_version::v311 && std::holds_alternative<auth>(p))
        return make_error_code(codec_error::auth_on_v311);
    const std::size_t body = std::visit(body_sizer{version}, p);
    if (body == bad) return make_error_code(codec_error::string_too_long);
    if (body > max_varint) return make_error_code(codec_error::packet_too_large);
    // Grow geometrically: callers append many packets to one buffer, and an
    // exact reserve per packet would reallocate (and copy) every time.
    const std::size_t need = out.size() + 5 + body;
    if (need > out.capacity()) out.reserve(std::max(need, out.capacity() * 2));
    out.push_back(first_byte(p));
    encode_varint(static_cast<std::uint32_t>(body), out);
    std::visit(body_writer{version, out}, p);
    return {};
}

}  // namespace mqtt
