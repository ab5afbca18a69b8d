// SPDX-License-Identifier: MIT
// bench_connection's protocol half: CONNECT, CONNACK, SUBACK, acks in both
// directions and the fast PUBLISH parse that only counts (no property decode).
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/varint.hpp>
#include <mqtt/net/errors.hpp>

#include "bench_connection_impl.hpp"

namespace mqtt::net {

using bench_detail::get_u16;
using bench_detail::put_u16;

void bench_connection::impl::ack(std::uint8_t first, std::uint16_t id) {
    pending.push_back(first);
    pending.push_back(2);
    put_u16(pending, id);
}

bool bench_connection::impl::handle(const frame_view& f) {
    const auto body = f.body;
    switch (f.type()) {
        case packet_type::publish:
            return handle_publish(f);
        case packet_type::puback:
        case packet_type::pubcomp: {
            if (body.size() < 2) return protocol_error();
            const std::uint16_t id = get_u16(body.data());
            const std::uint8_t rc = body.size() > 2 ? body[2] : 0;
            release_id(id);
            if (handlers.on_ack) handlers.on_ack(id, rc);
            return !closed;
        }
        case packet_type::pubrec: {
            if (body.size() < 2) return protocol_error();
            const std::uint16_t id = get_u16(body.data());
            const std::uint8_t rc = body.size() > 2 ? body[2] : 0;
            if (rc >= 0x80) {
                release_id(id);
                if (handlers.on_ack) handlers.on_ack(id, rc);
            } else {
                ack(0x62, id);  // PUBREL [MQTT-3.6.1-1]: flags 0010
            }
            return !closed;
        }
        case packet_type::pubrel: {
            if (body.size() < 2) return protocol_error();
            ack(0x70, get_u16(body.data()));  // PUBCOMP
            return true;
        }
        default:
            return handle_other(f);
    }
}

bool bench_connection::impl::protocol_error() {
    fail(make_error_code(net_error::protocol_violation));
    return false;
}

bool bench_connection::impl::handle_publish(const frame_view& f) {
    const auto body = f.body;
    const auto level = static_cast<qos>((f.first_byte >> 1) & 3);
    if (body.size() < 2 || static_cast<unsigned>(level) > 2) return protocol_error();
    std::size_t pos = 2;
    const std::size_t tlen = get_u16(body.data());
    if (pos + tlen > body.size()) return protocol_error();
    bench_message m;
    m.topic = std::string_view(reinterpret_cast<const char*>(body.data() + pos), tlen);
    pos += tlen;
    std::uint16_t id = 0;
    if (level != qos::at_most_once) {
        if (pos + 2 > body.size()) return protocol_error();
        id = get_u16(body.data() + pos);
        pos += 2;
    }
    if (opts.version == protocol_version::v5) {
        std::uint32_t plen = 0;
        std::size_t used = 0;
        if (decode_varint(body.subspan(pos), plen, used) != varint_status::ok ||
            pos + used + plen > body.size()) {
            return protocol_error();
        }
        pos += used + plen;  // properties (topic alias, ...) are not needed for counting
    }
    m.payload = body.subspan(pos);
    m.level = level;
    m.dup = (f.first_byte & 0x08) != 0;
    if (handlers.on_publish) handlers.on_publish(m);
    if (level == qos::at_least_once) ack(0x40, id);
    if (level == qos::exactly_once) ack(0x50, id);
    return !closed;
}

bool bench_connection::impl::handle_other(const frame_view& f) {
    std::error_code ec;
    packet p = decode_frame(f, opts.version, lim, ec);
    if (ec) {
        fail(ec);
        return false;
    }
    if (auto* ca = std::get_if<connack>(&p)) return on_connack(*ca);
    if (auto* sa = std::get_if<suback>(&p)) {
        const auto it = sub_done.find(sa->packet_id);
        if (it != sub_done.end()) {
            auto done = std::move(it->second);
            sub_done.erase(it);
            done({}, sa->reason_codes);
        }
        return !closed;
    }
    if (auto* d = std::get_if<mqtt::disconnect>(&p)) {
        fail(make_error_code(d->reason_code));
        return false;
    }
    return true;  // PINGRESP, UNSUBACK, AUTH: nothing to do
}

bool bench_connection::impl::on_connack(const connack& ca) {
    bench_connack info;
    info.reason_code = ca.reason_code;
    if (ca.reason_code != reason::success) {
        fail(make_error_code(ca.reason_code));
        return false;
    }
    if (auto rm = ca.props.get_int(property_id::receive_maximum))
        info.receive_maximum = static_cast<std::uint16_t>(*rm);
    if (auto mp = ca.props.get_int(property_id::maximum_packet_size)) info.maximum_packet_size = *mp;
    info.keep_alive = opts.keep_alive;
    if (auto ka = ca.props.get_int(property_id::server_keep_alive))
        info.keep_alive = static_cast<std::uint16_t>(*ka);
    auto& adv = info.props;
    const auto num = [&ca](property_id id) -> std::optional<std::uint32_t> {
        if (auto v = ca.props.get_int(id)) return static_cast<std::uint32_t>(*v);
        return std::nullopt;
    };
    const auto flag = [&num](property_id id) -> std::optional<bool> {
        if (auto v = num(id)) return *v != 0;
        return std::nullopt;
    };
    adv.receive_maximum = num(property_id::receive_maximum);
    adv.maximum_packet_size = num(property_id::maximum_packet_size);
    adv.topic_alias_maximum = num(property_id::topic_alias_maximum);
    adv.maximum_qos = num(property_id::maximum_qos);
    adv.server_keep_alive = num(property_id::server_keep_alive);
    adv.retain_available = flag(property_id::retain_available);
    adv.wildcard_subscription_available = flag(property_id::wildcard_subscription_available);
    adv.subscription_identifier_available = flag(property_id::subscription_identifier_available);
    adv.shared_subscription_available = flag(property_id::shared_subscription_available);
    is_connected = true;
    if (info.keep_alive > 0) arm_keepalive(info.keep_alive);
    if (connect_done) {
        auto done = std::move(connect_done);
        connect_done = nullptr;
        done({}, info);
    }
    return !closed;
}

void bench_connection::impl::send_connect() {
    mqtt::connect c;
    c.version = opts.version;
    c.client_id = opts.client_id;
    c.clean_start = true;
    c.keep_alive = opts.keep_alive;
    c.username = opts.username;
    c.password = opts.password;
    if (opts.version == protocol_version::v5 && opts.receive_maximum != 65535) {
        c.props.set_int(property_id::receive_maximum, opts.receive_maximum);
    }
    if (auto ec = encode(packet{std::move(c)}, opts.version, pending)) {
        fail(ec);
        return;
    }
    start_write();
    start_read();
}

}  // namespace mqtt::net
