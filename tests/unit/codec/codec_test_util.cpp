// SPDX-License-Identifier: MIT
#include "codec_test_util.hpp"

#include <cstdio>
#include <type_traits>

#include <mqtt/codec/encode.hpp>

namespace mq_test {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string bytes_str(std::span<const std::uint8_t> b) { return "[" + hex(b) + "]"; }

std::string code(mqtt::reason r) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(r));
    return buf;
}

std::string props_str(const mqtt::properties& ps) {
    std::string out = "{";
    for (const auto& p : ps.items) {
        const char* name = mqtt::property_name(p.id);
        out += name ? name : ("id" + std::to_string(static_cast<unsigned>(p.id)));
        out += "=";
        std::visit(
            [&out](const auto& v) {
                using t = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<t, std::uint32_t>)
                    out += std::to_string(v);
                else if constexpr (std::is_same_v<t, std::string>)
                    out += quoted(v);
                else if constexpr (std::is_same_v<t, mqtt::binary>)
                    out += bytes_str(v);
                else
                    out += "(" + quoted(v.first) + "," + quoted(v.second) + ")";
            },
            p.value);
        out += " ";
    }
    return out + "}";
}

template <class Ack>
std::string ack_str(const char* name, const Ack& a) {
    return std::string(name) + " id=" + std::to_string(a.packet_id) + " reason=" + code(a.reason_code) +
           " props=" + props_str(a.props);
}

std::string codes_str(const std::vector<mqtt::reason>& rs) {
    std::string out = "[";
    for (auto r : rs) out += code(r) + " ";
    return out + "]";
}

struct describer {
    std::string operator()(const mqtt::connect& c) const {
        std::string out = "CONNECT version=" + std::to_string(static_cast<unsigned>(c.version)) +
                          " client_id=" + quoted(c.client_id) +
                          " clean_start=" + std::to_string(c.clean_start) +
                          " keep_alive=" + std::to_string(c.keep_alive);
        out += " username=" + (c.username ? quoted(*c.username) : std::string("none"));
        out += " password=" + (c.password ? bytes_str(*c.password) : std::string("none"));
        if (c.will_msg) {
            const auto& w = *c.will_msg;
            out += " will{topic=" + quoted(w.topic) + " payload=" + bytes_str(w.payload) +
                   " qos=" + std::to_string(static_cast<unsigned>(w.level)) +
                   " retain=" + std::to_string(w.retain) + " props=" + props_str(w.props) + "}";
        }
        return out + " props=" + props_str(c.props);
    }
    std::string operator()(const mqtt::connack& c) const {
        return "CONNACK session_present=" + std::to_string(c.session_present) +
               " reason=" + code(c.reason_code) + " props=" + props_str(c.props);
    }
    std::string operator()(const mqtt::publish& p) const {
        return "PUBLISH topic=" + quoted(p.topic) + " qos=" + std::to_string(static_cast<unsigned>(p.level)) +
               " retain=" + std::to_string(p.retain) + " dup=" + std::to_string(p.dup) +
               " id=" + std::to_string(p.packet_id) + " payload=" + bytes_str(p.payload) +
               " props=" + props_str(p.props);
    }
    std::string operator()(const mqtt::puback& a) const { return ack_str("PUBACK", a); }
    std::string operator()(const mqtt::pubrec& a) const { return ack_str("PUBREC", a); }
    std::string operator()(const mqtt::pubrel& a) const { return ack_str("PUBREL", a); }
    std::string operator()(const mqtt::pubcomp& a) const { return ack_str("PUBCOMP", a); }
    std::string operator()(const mqtt::subscribe& s) const {
        std::string out = "SUBSCRIBE id=" + std::to_string(s.packet_id) + " [";
        for (const auto& e : s.entries) {
            out += quoted(e.filter) + " qos=" + std::to_string(static_cast<unsigned>(e.max_qos)) +
                   " nl=" + std::to_string(e.no_local) + " rap=" + std::to_string(e.retain_as_published) +
                   " rh=" + std::to_string(e.retain_handling) + "; ";
        }
        return out + "] props=" + props_str(s.props);
    }
    std::string operator()(const mqtt::suback& s) const {
        return "SUBACK id=" + std::to_string(s.packet_id) + " codes=" + codes_str(s.reason_codes) +
               " props=" + props_str(s.props);
    }
    std::string operator()(const mqtt::unsubscribe& u) const {
        std::string out = "UNSUBSCRIBE id=" + std::to_string(u.packet_id) + " [";
        for (const auto& f : u.filters) out += quoted(f) + " ";
        return out + "] props=" + props_str(u.props);
    }
    std::string operator()(const mqtt::unsuback& u) const {
        return "UNSUBACK id=" + std::to_string(u.packet_id) + " codes=" + codes_str(u.reason_codes) +
               " props=" + props_str(u.props);
    }
    std::string operator()(const mqtt::pingreq&) const { return "PINGREQ"; }
    std::string operator()(const mqtt::pingresp&) const { return "PINGRESP"; }
    std::string operator()(const mqtt::disconnect& d) const {
        return "DISCONNECT reason=" + code(d.reason_code) + " props=" + props_str(d.props);
    }
    std::string operator()(const mqtt::auth& a) const {
        return "AUTH reason=" + code(a.reason_code) + " props=" + props_str(a.props);
    }
};

}  // namespace

std::string hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0) out += ' ';
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 0x0f];
    }
    return out;
}

std::string describe(const mqtt::packet& p) { return std::visit(describer{}, p); }

std::vector<std::uint8_t> encode_bytes(const mqtt::packet& p, mqtt::protocol_version v, std::error_code& ec) {
    std::vector<std::uint8_t> out;
    ec = mqtt::encode(p, v, out);
    return out;
}

void stream_decoder::feed(std::span<const std::uint8_t> chunk) {
    if (ec_) return;
    buf_.insert(buf_.end(), chunk.begin(), chunk.end());
    std::size_t used = 0;
    for (;;) {
        const std::span<const std::uint8_t> rest(buf_.data() + used, buf_.size() - used);
        auto frame = mqtt::next_frame(rest, lim_, ec_);
        if (!frame || ec_) break;
        // A splitter bug must fail the test, not hang it.
        if (frame->total == 0 || frame->total > rest.size()) {
            ec_ = std::make_error_code(std::errc::protocol_error);
            break;
        }
        packets_.push_back(mqtt::decode_frame(*frame, version_, lim_, ec_));
        if (ec_) {
            packets_.pop_back();
            break;
        }
        used += frame->total;
    }
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(used));
}

}  // namespace mq_test
