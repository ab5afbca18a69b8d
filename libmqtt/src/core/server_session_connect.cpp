// SPDX-License-Identifier: MIT
// server_session: CONNECT validation (what the decoder cannot know: broker
// limits, client id policy, Will) and client id assignment.
#include <mqtt/core/server_session.hpp>

#include <algorithm>
#include <atomic>
#include <string_view>

namespace mqtt::core {
namespace {

// U+0001..U+001F, U+007F..U+009F (hardening.md §1.1: not allowed in ids and names).
bool has_control(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return true;
        if (c == 0xc2 && i + 1 < s.size()) {
            const auto n = static_cast<unsigned char>(s[i + 1]);
            if (n >= 0x80 && n <= 0x9f) return true;
        }
    }
    return false;
}

// "mq" + 16 hex digits, unique within the process: a counter mixed with the
// object address so two brokers in one process do not collide.
std::string assign_client_id(const void* salt) {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t x =
        counter.fetch_add(1, std::memory_order_relaxed) ^ (reinterpret_cast<std::uintptr_t>(salt) << 16);
    // splitmix64 finaliser, so consecutive ids do not look alike.
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "mq";
    for (int shift = 60; shift >= 0; shift -= 4) id.push_back(hex[(x >> shift) & 0xf]);
    return id;
}

}  // namespace

void server_session::handle_connect(mqtt::connect& c, time_point) {
    version_ = c.version;
    state_ = state::connecting;  // CONNACK decides; failures below close at once
    const bool v5 = version_ == protocol_version::v5;

    if (v5 && c.props.has(property_id::authentication_method)) {
        // No enhanced authentication method is supported [MQTT-4.12.0-1].
        reject(reason::bad_authentication_method);
        return;
    }
    if (c.client_id.size() > cfg_.max_string_length || c.client_id.find_first_of("+#") != std::string::npos ||
        has_control(c.client_id)) {
        reject(reason::client_identifier_not_valid);  // 0x85 (3.1.1: 0x02)
        return;
    }
    if (c.username && (c.username->size() > cfg_.max_string_length || has_control(*c.username))) {
        reject(reason::bad_user_name_or_password);  // 0x86 (3.1.1: 0x04)
        return;
    }
    if (c.client_id.empty()) {
        // [MQTT-3.1.3-8] 3.1.1: an empty id needs clean session, else 0x02.
        if (!v5 && !c.clean_start) {
            reject(reason::client_identifier_not_valid);
            return;
        }
        // [MQTT-3.1.3-6] assign an id; v5 returns it in CONNACK [MQTT-3.2.2-16].
        c.client_id = assign_client_id(this);
        assigned_id_ = true;
    }
    client_id_ = c.client_id;

    keep_alive_ = c.keep_alive;
    if (keep_alive_ > cfg_.max_keepalive) {
        if (!v5) {
            reject(reason::client_identifier_not_valid);  // hardening B14: 3.1.1 0x02
            return;
        }
        keep_alive_ = cfg_.max_keepalive;  // [MQTT-3.2.2-21] Server Keep Alive
        keep_alive_lowered_ = true;
    }

    if (v5) {
        session_expiry_ = c.props.get_int(property_id::session_expiry_interval).value_or(0);
        if (auto rm = c.props.get_int(property_id::receive_maximum))
            client_receive_maximum_ = static_cast<std::uint16_t>(*rm);
        if (auto mps = c.props.get_int(property_id::maximum_packet_size)) client_max_packet_size_ = *mps;
        if (auto tam = c.props.get_int(property_id::topic_alias_maximum))
            client_topic_alias_maximum_ = static_cast<std::uint16_t>(*tam);
        // The decoder allows only 0 or 1 (3.1.2.11.6).
        request_response_info_ = c.props.get_int(property_id::request_response_information).value_or(0) == 1;
    } else {
        // 3.1.1 persistent sessions expire after the broker's maximum.
        session_expiry_ = c.clean_start ? 0 : cfg_.max_session_expiry;
    }
    if (session_expiry_ > cfg_.max_session_expiry) {
        session_expiry_ = cfg_.max_session_expiry;
        session_expiry_lowered_ = v5;
    }
    // The alias table is allocated at the first alias the client uses: most
    // clients never send one, and an idle connection should stay small.
    std::vector<std::string>().swap(aliases_);

    if (c.will_msg) {
        auto& w = *c.will_msg;
        // A Will is published like any PUBLISH: the same topic limits, refused at CONNECT.
        if (has_control(w.topic) || !topic_within_limits(w.topic)) {
            if (v5)
                reject(reason::topic_name_invalid);
            else
                close_with(reason::topic_name_invalid, false, false);
            return;
        }
        auto msg = std::make_shared<mqtt::publish>();
        msg->topic = std::move(w.topic);
        msg->payload = std::move(w.payload);
        msg->level = w.level;
        msg->retain = w.retain;
        msg->props = std::move(w.props);
        // Will Delay is a Will property, not a PUBLISH one.
        will_delay_ = v5 ? msg->props.get_int(property_id::will_delay_interval).value_or(0) : 0;
        msg->props.remove(property_id::will_delay_interval);
        will_ = std::move(msg);
    }

    connect_request req;
    req.client_id = client_id_;
    req.clean_start = c.clean_start;
    req.session_expiry = session_expiry_;
    req.username = std::move(c.username);
    req.password = std::move(c.password);
    if (will_) req.will_topic = will_->topic;
    actions_.emplace_back(std::move(req));
}

}  // namespace mqtt::core
