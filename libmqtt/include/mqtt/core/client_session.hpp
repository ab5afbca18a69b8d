// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/packets.hpp>
#include <mqtt/core/packet_id_pool.hpp>

/// Sans-I/O MQTT client state machine. It takes packets from the broker, calls
/// from the application and `now`, and returns ordered actions; it never reads a
/// clock and does no I/O. net::client drives it.
///
/// Outgoing QoS 2 (this side publishes):
///
///   publish() --PUBLISH--> awaiting_pubrec --PUBREC ok--> PUBREL, awaiting_pubcomp
///                                 |                               |
///                          PUBREC >= 0x80                      PUBCOMP
///                                 v                               v
///                          completed{id, code}              completed{id, code}
///
/// Incoming QoS 2 is delivered on PUBLISH; only the packet id is kept until PUBREL.
namespace mqtt::core {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

struct client_config {
    /// Outgoing QoS 1/2 window; the effective window is min(this, broker's Receive Maximum).
    std::uint16_t max_inflight = 20;
    /// Inbound packet limit; v5 advertises it in CONNECT when below the protocol maximum.
    std::uint32_t max_packet_size = 256u * 1024u * 1024u;
};

/// Why the session wants the connection closed.
enum class close_cause : std::uint8_t {
    protocol_violation,  // the broker broke the protocol; `code` was sent in DISCONNECT (v5)
    malformed,           // undecodable bytes from the broker; `ec` holds the codec_error
    keepalive_timeout,   // no packet from the broker for 1.5x keepalive (spec 3.1.2.10)
    connack_refused,     // CONNACK with a failure code in `code`
    server_disconnect,   // the broker sent DISCONNECT with `code` and `props`
    client_disconnect,   // disconnect() was called; DISCONNECT was queued
};

struct send_action {
    mqtt::packet pkt;
};
struct deliver_action {
    mqtt::publish msg;  // topic resolved from a Topic Alias when one was used
};
/// An outgoing QoS 1/2 publish finished: PUBACK, PUBCOMP or a failing PUBREC.
struct completed_action {
    std::uint16_t packet_id = 0;
    reason code = reason::success;
    properties props;
};
struct connected_action {
    mqtt::connack ack;
};
struct suback_action {
    mqtt::suback ack;
};
struct unsuback_action {
    mqtt::unsuback ack;
};
struct close_action {
    close_cause cause = close_cause::protocol_violation;
    reason code = reason::success;
    std::error_code ec;       // reason or codec_error behind the close
    std::string message;      // human-readable detail (what the broker did)
    properties props;         // the broker's DISCONNECT properties (Reason String...)
};

using client_action = std::variant<send_action, deliver_action, completed_action, connected_action,
                                   suback_action, unsuback_action, close_action>;

/// What the broker announced in CONNACK (defaults when absent) [MQTT-3.2.2].
struct broker_limits {
    std::uint16_t receive_maximum = 65'535;
    std::uint32_t maximum_packet_size = 268'435'460;
    std::uint16_t topic_alias_maximum = 0;
    qos maximum_qos = qos::exactly_once;
    bool retain_available = true;
    std::optional<std::uint16_t> server_keep_alive;
};

class client_session {
public:
    explicit client_session(client_config cfg = {});

    /// Begins a (re)connection: queues CONNECT. Session state (in-flight
    /// messages, QoS 2 ids) survives from a previous connection and is resumed or
    /// discarded by CONNACK's Session Present [MQTT-3.2.2-5].
    void start(mqtt::connect c, time_point now);
    /// The transport went away. Pending SUBSCRIBE/UNSUBSCRIBE are dropped,
    /// in-flight publishes are kept for resend [MQTT-4.4.0-1].
    void on_connection_lost();

    /// True when a QoS `q` publish can be sent now (window and ids free).
    bool can_publish(qos q) const noexcept;
    /// Queues a PUBLISH; returns its packet id (0 for QoS 0). Errors (nothing
    /// queued): reason::qos_not_supported, retain_not_supported, packet_too_large,
    /// receive_maximum_exceeded (window full: check can_publish first),
    /// protocol_error (not connected).
    std::uint16_t publish(mqtt::publish msg, time_point now, std::error_code& ec);
    /// Queues SUBSCRIBE/UNSUBSCRIBE; returns the packet id, 0 with ec on failure.
    std::uint16_t subscribe(mqtt::subscribe s, time_point now, std::error_code& ec);
    std::uint16_t unsubscribe(mqtt::unsubscribe u, time_point now, std::error_code& ec);
    /// Queues DISCONNECT and a close{client_disconnect}.
    void disconnect(mqtt::disconnect d, time_point now);

    /// A decoded packet from the broker.
    void on_packet(mqtt::packet p, time_point now);
    /// The broker sent bytes that did not split or decode: DISCONNECT with
    /// reason_of(ec) (v5), then close{malformed}.
    void on_malformed(std::error_code ec, time_point now);
    /// Keepalive: PINGREQ when due, close{keepalive_timeout} on silence.
    void on_tick(time_point now);
    /// While the application is not consuming, net stops reading the socket; the
    /// silence deadline is suspended then (PINGREQ continues) and restarts on resume.
    void set_reading_paused(bool paused, time_point now);

    /// Moves the queued actions into `out` (cleared first); reuses capacity.
    void take_actions(std::vector<client_action>& out);
    std::vector<client_action> take_actions();
    /// When on_tick must next be called; nullopt when no timer is needed.
    std::optional<time_point> next_deadline() const noexcept;

    bool connected() const noexcept { return state_ == state::connected; }
    bool closed() const noexcept { return state_ == state::closed; }
    protocol_version version() const noexcept { return version_; }
    const broker_limits& broker() const noexcept { return broker_; }
    /// Limits to split and decode the broker's packets with.
    const mqtt::limits& inbound_limits() const noexcept { return inbound_limits_; }
    /// The effective client id (Assigned Client Identifier when the broker chose it).
    const std::string& client_id() const noexcept { return client_id_; }
    /// Effective keepalive in seconds (Server Keep Alive wins) [MQTT-3.2.2-21].
    std::uint16_t keep_alive() const noexcept { return keep_alive_; }
    std::size_t inflight() const noexcept { return outgoing_.size(); }
    std::uint16_t window() const noexcept;

private:
    enum class state : std::uint8_t { idle, connecting, connected, closed };
    enum class out_state : std::uint8_t { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };
    struct outgoing {
        mqtt::publish msg;  // kept for DUP resend
        out_state st = out_state::awaiting_puback;
        // QoS 2: a non-failing PUBREC code other than Success (0x10 No matching
        // subscribers), reported when the PUBCOMP completes the flow.
        reason rec_reason = reason::success;
        std::uint64_t seq = 0;  // send order, for resend in order [MQTT-4.6.0-1]
    };

    void send(mqtt::packet p, time_point now);
    void fail(reason code, std::string message, time_point now);
    void on_connack(mqtt::connack& a, time_point now);
    void on_publish(mqtt::publish& p, time_point now);
    void on_puback(const mqtt::puback& a, time_point now);
    void on_pubrec(const mqtt::pubrec& a, time_point now);
    void on_pubrel(const mqtt::pubrel& a, time_point now);
    void on_pubcomp(const mqtt::pubcomp& a, time_point now);
    void on_suback(mqtt::suback& a, time_point now);
    void on_unsuback(mqtt::unsuback& a, time_point now);
    void on_disconnect(mqtt::disconnect& d);
    void resume_or_discard(bool session_present, time_point now);
    void complete(std::uint16_t id, reason code, properties props);

    client_config cfg_;
    state state_ = state::idle;
    protocol_version version_ = protocol_version::v5;
    bool clean_start_ = true;
    bool has_session_ = false;  // state from an earlier connection may exist
    std::string client_id_;
    std::uint16_t keep_alive_ = 0;
    std::uint16_t receive_maximum_ = 65'535;  // ours, for inbound QoS 1/2
    std::uint16_t topic_alias_maximum_ = 0;   // ours, for inbound aliases
    broker_limits broker_;
    mqtt::limits inbound_limits_;

    time_point last_sent_{};
    time_point last_received_{};
    bool ping_outstanding_ = false;
    bool reading_paused_ = false;

    packet_id_pool ids_;
    std::unordered_map<std::uint16_t, outgoing> outgoing_;
    std::uint64_t next_seq_ = 0;
    std::unordered_set<std::uint16_t> inbound_qos2_;  // PUBREC sent, awaiting PUBREL
    std::unordered_map<std::uint16_t, std::size_t> pending_subscribe_;    // id -> filter count
    std::unordered_map<std::uint16_t, std::size_t> pending_unsubscribe_;  // id -> filter count
    std::unordered_map<std::uint16_t, std::string> aliases_;  // inbound, per connection

    std::vector<client_action> actions_;
};

}  // namespace mqtt::core
