// SPDX-License-Identifier: MIT
// Table runner and builders for the client_session tests.
#pragma once
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/core/client_session.hpp>

namespace mqtt::core::testing {

/// Fake time: seconds after an arbitrary epoch.
inline time_point at(double seconds) {
    return time_point{} + std::chrono::duration_cast<clock::duration>(
                              std::chrono::duration<double>(seconds));
}

inline mqtt::connect make_connect(protocol_version v, std::uint16_t keep_alive) {
    mqtt::connect c;
    c.version = v;
    c.client_id = "tester";
    c.keep_alive = keep_alive;
    return c;
}

inline mqtt::publish make_publish(std::string topic, qos level, std::string_view payload = {},
                                  std::uint16_t id = 0) {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.level = level;
    p.payload.assign(payload.begin(), payload.end());
    p.packet_id = id;
    return p;
}

inline close_action close_of(close_cause cause, reason code) {
    close_action c;
    c.cause = cause;
    c.code = code;
    return c;
}

inline std::string describe(const client_action& a) {
    static constexpr const char* names[] = {"send", "deliver", "completed", "connected",
                                            "suback", "unsuback", "close"};
    std::string s = names[a.index()];
    if (const auto* sa = std::get_if<send_action>(&a)) s += std::string(" ") + to_string(type_of(sa->pkt));
    if (const auto* c = std::get_if<close_action>(&a)) s += " " + c->message;
    return s;
}

/// Equality that ignores close_action's message/ec (tests check them separately).
inline bool same(const client_action& a, const client_action& b) {
    if (a.index() != b.index()) return false;
    if (const auto* x = std::get_if<close_action>(&a)) {
        const auto& y = std::get<close_action>(b);
        return x->cause == y.cause && x->code == y.code;
    }
    return std::visit(
        [&](const auto& lhs) {
            using T = std::decay_t<decltype(lhs)>;
            const auto& rhs = std::get<T>(b);
            if constexpr (std::is_same_v<T, send_action>) return lhs.pkt == rhs.pkt;
            else if constexpr (std::is_same_v<T, deliver_action>) return lhs.msg == rhs.msg;
            else if constexpr (std::is_same_v<T, completed_action>)
                return lhs.packet_id == rhs.packet_id && lhs.code == rhs.code && lhs.props == rhs.props;
            else if constexpr (std::is_same_v<T, connected_action>) return lhs.ack == rhs.ack;
            else if constexpr (std::is_same_v<T, suback_action>) return lhs.ack == rhs.ack;
            else if constexpr (std::is_same_v<T, unsuback_action>) return lhs.ack == rhs.ack;
            else return true;
        },
        a);
}

inline void check_actions(const std::vector<client_action>& got,
                          const std::vector<client_action>& want) {
    CHECK(got.size() == want.size());
    const std::size_t n = std::min(got.size(), want.size());
    for (std::size_t i = 0; i < n; ++i) {
        INFO("action ", i, ": got ", describe(got[i]), ", want ", describe(want[i]));
        CHECK(same(got[i], want[i]));
    }
    for (std::size_t i = n; i < got.size(); ++i) {
        INFO("extra action ", i, ": ", describe(got[i]));
        CHECK(false);
    }
}

/// One table row: a packet from the broker (or a tick when empty), `now` in
/// seconds, and the actions the session must emit in order.
struct step {
    std::optional<mqtt::packet> in;
    double now = 0;
    std::vector<client_action> expect;
};

inline void run_table(client_session& s, const std::vector<step>& rows) {
    std::size_t row = 0;
    for (const auto& r : rows) {
        INFO("row ", row++);
        if (r.in) s.on_packet(*r.in, at(r.now));
        else s.on_tick(at(r.now));
        check_actions(s.take_actions(), r.expect);
    }
}

/// A v5 session past CONNACK; `broker_receive_max` 0 means not announced.
inline client_session connected_v5(client_config cfg = {}, std::uint16_t broker_receive_max = 0,
                                   std::uint16_t keep_alive = 60) {
    client_session s(cfg);
    s.start(make_connect(protocol_version::v5, keep_alive), at(0));
    mqtt::connack a;
    if (broker_receive_max) a.props.set_int(property_id::receive_maximum, broker_receive_max);
    s.on_packet(a, at(0));
    (void)s.take_actions();
    return s;
}

}  // namespace mqtt::core::testing
