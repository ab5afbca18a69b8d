// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <unordered_set>
#include <variant>
#include <vector>

#include <mqtt/codec/packets.hpp>
#include <mqtt/core/id_set.hpp>
#include <mqtt/core/lazy_deque.hpp>
#include <mqtt/core/packet_id_pool.hpp>

/// Sans-I/O broker side of one MQTT session. net::server feeds it decoded
/// packets, ticks and `now`; it returns ordered actions. It owns CONNECT
/// validation, keepalive, inbound topic aliases and Receive Maximum, the QoS 1/2
/// flows in both directions and the outbound queue. Routing, retained messages
/// and session lookup belong to the caller, which answers the requests the
/// session emits (connect_request -> accept()/reject(), subscribe_request ->
/// complete_subscribe(), ...).
///
/// Outbound QoS 2 (broker -> client):
///
///   deliver() --PUBLISH--> awaiting PUBREC --PUBREC--> PUBREL, awaiting PUBCOMP --PUBCOMP--> done
///       |                        |  PUBREC >= 0x80: done
///       +-- window full: queued (max_queued, drop-oldest), sent when a slot frees
///
/// Inbound QoS 2 is routed on PUBLISH; only its packet id is kept until PUBREL.
///
/// Persistent state (outbound in-flight and queue, inbound QoS 2 ids) moves to
/// a new connection's session with resume(); everything else is per connection.
namespace mqtt::core {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

struct server_session_config {
    std::uint32_t max_packet_size = 1024 * 1024;  // inbound, advertised in CONNACK (v5)
    std::uint16_t receive_maximum = 100;          // inbound QoS 1/2 window, advertised
    std::uint16_t max_inflight = 32;              // outbound window cap
    std::uint32_t max_queued = 1000;              // outbound messages beyond the window
    std::uint16_t topic_alias_maximum = 10;       // inbound aliases, advertised
    std::uint16_t max_keepalive = 65'535;
    std::uint32_t max_session_expiry = 86'400;
    std::uint32_t max_string_length = 4096;  // client id 0x85, username 0x86
    /// PUBLISH topic bytes and levels: over either, v5 QoS 1/2 get PUBACK/PUBREC
    /// 0x90, v5 QoS 0 DISCONNECT 0x90, 3.1.1 a close (handle_publish).
    std::uint32_t max_topic_length = 4096;
    std::uint32_t max_topic_levels = 128;
    /// Bytes (topic + payload) of the messages waiting in the queue; over it
    /// the oldest go, counted as queue_full like max_queued.
    std::uint64_t max_queued_bytes = 16ull * 1024 * 1024;
};

/// Send a control packet (CONNACK, acks, SUBACK, DISCONNECT, PINGRESP...).
struct send_packet {
    mqtt::packet pkt;
};

/// Send a PUBLISH of a shared message with per-subscriber header fields; the
/// caller encodes `msg` once and patches qos/dup/retain/packet id per delivery.
struct send_publish {
    std::shared_ptr<const mqtt::publish> msg;
    qos level = qos::at_most_once;
    std::uint16_t packet_id = 0;
    bool dup = false;
    bool retain = false;
    std::vector<std::uint32_t> subscription_ids;  // v5 only [MQTT-3.3.4-3]
};

/// Route an inbound PUBLISH (topic resolved, alias removed) to subscribers; the
/// caller stores it as retained first when msg->retain is set.
struct route_publish {
    std::shared_ptr<const mqtt::publish> msg;
};

/// A valid CONNECT: the caller finds or creates the session state and answers
/// with accept() or reject().
struct connect_request {
    std::string client_id;  // assigned when the client sent an empty one
    bool clean_start = true;
    std::uint32_t session_expiry = 0;  // seconds, after the broker's maximum
    std::optional<std::string> username;
    std::optional<std::vector<std::uint8_t>> password;
    /// Topic of the Will, if any: the caller checks write access (hardening J06).
    std::optional<std::string> will_topic;
};

/// SUBSCRIBE to apply; answer with complete_subscribe().
struct subscribe_request {
    std::uint16_t packet_id = 0;
    std::vector<mqtt::subscription> entries;
    std::optional<std::uint32_t> subscription_id;
};

/// UNSUBSCRIBE to apply; answer with complete_unsubscribe().
struct unsubscribe_request {
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;
};

/// Close the connection after the packets already emitted are written.
struct close_connection {
    reason why = reason::success;
    /// The Will to publish (abnormal close, DISCONNECT 0x04), else null.
    std::shared_ptr<const mqtt::publish> will;
    /// Seconds to wait before publishing it: the Will Delay Interval, capped by
    /// the Session Expiry Interval (the Will goes when the session ends, if
    /// that is sooner) [MQTT-3.1.3-9]. 0: now.
    std::uint32_t will_delay = 0;
    /// A normal DISCONNECT (0x00/0x04) from the client.
    bool client_disconnect = false;
};

/// Messages this session dropped, by cause (hardening.md §1.1: every drop is counted).
struct drop_counts {
    std::uint64_t queue_full = 0;        // drop-oldest eviction or max_queued 0
    std::uint64_t packet_too_large = 0;  // above the client's Maximum Packet Size [MQTT-3.1.2-25]
    std::uint64_t expired = 0;           // Message Expiry Interval passed while queued [MQTT-3.3.2-5]
    std::uint64_t not_authorized = 0;    // inbound PUBLISH refused by the ACL without a 0x87 ack
    std::uint64_t total() const noexcept { return queue_full + packet_too_large + expired + not_authorized; }
    drop_counts& operator+=(const drop_counts& o) noexcept {
        queue_full += o.queue_full;
        packet_too_large += o.packet_too_large;
        expired += o.expired;
        not_authorized += o.not_authorized;
        return *this;
    }
};

/// A change to the persistent state of a journaled session (set_journaled()):
/// net::server writes each one to its persistence journal, in order.
struct session_event {
    enum class kind : std::uint8_t {
        sent,         // outbound QoS 2 `tag` went in flight as `packet_id` (a QoS 1
                      // message is simply sent again with a new id after a restart)
        released,     // outbound QoS 2 `tag`: PUBREC received, PUBREL owed
        done,         // outbound `tag` acknowledged, refused or dropped
        inbound_add,  // inbound QoS 2 `packet_id`: PUBREC sent, PUBREL awaited
        inbound_del,  // inbound QoS 2 `packet_id`: PUBREL received
    };
    kind what = kind::done;
    std::uint64_t tag = 0;
    std::uint16_t packet_id = 0;
};

/// One outbound message of a session's persistent state (export_state() /
/// restore()): in flight when packet_id is set, else queued.
struct stored_outbound {
    std::shared_ptr<const mqtt::publish> msg;  // null once released (QoS 2 after PUBREC)
    qos level = qos::at_least_once;
    bool retain = false;
    std::vector<std::uint32_t> subscription_ids;
    std::uint64_t tag = 0;
    std::uint16_t packet_id = 0;
    bool released = false;
    std::optional<time_point> received;
};

/// A message a shared subscription handed this session, given back when the
/// session ends unfinished (take_shared_unfinished()).
struct shared_return {
    std::shared_ptr<const mqtt::publish> msg;
    std::shared_ptr<const std::string> share;  // "$share/{group}/{filter}"
    std::optional<time_point> received;
};

using server_action = std::variant<send_packet, send_publish, route_publish, connect_request,
                                   subscribe_request, unsubscribe_request, close_connection>;

class server_session {
public:
    explicit server_session(server_session_config cfg = {});

    /// Feeds one decoded packet received at `now`.
    void on_packet(mqtt::packet pkt, time_point now);
    /// The frame splitter or decoder failed with `ec`. `connect_level` is the
    /// protocol level peeked from a CONNECT frame, if readable.
    void on_decode_error(std::error_code ec, std::optional<std::uint8_t> connect_level, time_point now);
    /// The peer closed or the socket failed: Will published unless already closed.
    void on_connection_lost(time_point now);
    /// Checks the keepalive deadline [MQTT-3.1.2-22].
    void on_tick(time_point now);
    /// Earliest time on_tick() has something to do.
    std::optional<time_point> next_deadline() const;

    /// Answers connect_request: CONNACK success (with `session_present`), then
    /// in-flight messages again with DUP, then queued ones as the window allows.
    /// `response_information` goes in a v5 CONNACK only when the CONNECT had
    /// Request Response Information 1 and it is not empty [MQTT-3.1.2-28].
    void accept(bool session_present, time_point now, std::string_view response_information = {});
    /// The v5 CONNECT asked for Response Information (3.1.2.11.6).
    bool wants_response_information() const noexcept { return request_response_info_; }
    /// Answers connect_request with a refusal (CONNACK code, then close).
    void reject(reason why);
    /// Takes the persistent state (in-flight, queue, inbound QoS 2 ids) of the
    /// previous connection of this session; call between connect_request and accept().
    void resume(server_session&& old);

    /// Answers subscribe_request with one code per entry (granted QoS or failure).
    void complete_subscribe(std::uint16_t packet_id, std::vector<reason> codes);
    /// Answers unsubscribe_request (v5 codes; ignored on 3.1.1).
    void complete_unsubscribe(std::uint16_t packet_id, std::vector<reason> codes);

    /// Delivers a routed message at `level` (already min of publish and
    /// subscription QoS). Online: sent or queued per the window. Offline
    /// (before accept / after close): QoS 1/2 queued, QoS 0 dropped. Messages
    /// larger than the client's Maximum Packet Size are skipped [MQTT-3.1.2-25].
    /// Returns false when the message was dropped.
    ///
    /// `received` is when the broker got the message (default `now`): a
    /// Message Expiry Interval counts from it. A message whose interval has
    /// passed is dropped instead of sent, including from the queue, and the
    /// interval is forwarded as the time left [MQTT-3.3.2-5] [MQTT-3.3.2-6].
    ///
    /// `tag` (non-zero) names the message in the persistence journal: the
    /// session reports what happens to it as session_event when journaled.
    ///
    /// `share` (non-null) is the shared subscription the message came through,
    /// so take_shared_unfinished() can give it back.
    bool deliver(std::shared_ptr<const mqtt::publish> msg, qos level, bool retain,
                 std::vector<std::uint32_t> subscription_ids, time_point now,
                 std::optional<time_point> received = std::nullopt, std::uint64_t tag = 0,
                 std::shared_ptr<const std::string> share = nullptr);

    /// The session ends: removes and returns what shared subscriptions handed
    /// it and it has not finished, for another member (spec 4.8.2): queued
    /// messages (never sent), and QoS 1 in flight (the Server "SHOULD send the
    /// Application Message to another Client"). QoS 2 in flight stays and ends
    /// with the session [MQTT-4.8.2-5]: the client may already have it.
    std::vector<shared_return> take_shared_unfinished();

    /// Like deliver(), for the retained messages a SUBSCRIBE matches [MQTT-3.3.1-9]:
    /// QoS 1/2 ones wait in a backlog that max_queued does not limit (it holds
    /// only references to the retained store, which has its own limit) and is
    /// sent at the client's pace before later messages (hardening D09).
    bool deliver_retained(std::shared_ptr<const mqtt::publish> msg, qos level,
                          std::vector<std::uint32_t> subscription_ids, time_point now,
                          std::optional<time_point> received);

    /// Server-initiated close: v5 DISCONNECT `why` then close (takeover 0x8E,
    /// shutdown 0x8B). The Will is published when `publish_will`.
    void disconnect(reason why, bool publish_will);

    /// Removes queued (not yet sent) messages whose topic `may_read` refuses,
    /// counted as not_authorized drops: an ACL reload while the client was away
    /// applies on resume (hardening J07). Returns how many were removed.
    std::size_t discard_queued(const std::function<bool(std::string_view topic)>& may_read);

    /// Write access check for inbound PUBLISH topics (the ACL), or empty for
    /// none. A refused PUBLISH is not routed: v5 QoS 1/2 get PUBACK/PUBREC
    /// 0x87, QoS 0 and 3.1.1 are acknowledged as usual and counted as dropped
    /// (hardening J05). Per connection: not moved by resume().
    using publish_check = std::function<bool(std::string_view topic)>;
    void set_publish_check(publish_check check) { may_publish_ = std::move(check); }

    /// Persistence: report changes of the persistent state (tagged outbound
    /// messages, inbound QoS 2 ids) as session_event. Off by default, so a
    /// broker without persistence pays one branch.
    void set_journaled(bool on) noexcept { journaled_ = on; }
    bool journaled() const noexcept { return journaled_; }
    std::vector<session_event> take_events() { return std::exchange(events_, {}); }
    bool has_events() const noexcept { return !events_.empty(); }
    /// Appends the tagged outbound messages (in flight first, then queued, in
    /// order) and the inbound QoS 2 ids awaiting PUBREL: what a snapshot keeps.
    void export_state(std::vector<stored_outbound>& out, std::vector<std::uint16_t>& inbound_qos2) const;
    /// Makes this (new, never connected) object the offline state of
    /// `client_id` read back from the journal; resume() it into a connection.
    void restore(std::string client_id, std::uint32_t session_expiry, std::vector<stored_outbound> items,
                 const std::vector<std::uint16_t>& inbound_qos2);
    /// The caller could not store an inbound QoS 2 PUBLISH and answers its
    /// PUBREC with an error: the id is not kept, so the client may reuse it.
    void refuse_inbound(std::uint16_t packet_id);

    /// Ordered actions since the last call.
    std::vector<server_action> take_actions();
    bool has_actions() const noexcept { return !actions_.empty(); }

    bool connected() const noexcept { return state_ == state::connected; }
    bool closed() const noexcept { return state_ == state::closed; }
    protocol_version version() const noexcept { return version_; }
    const std::string& client_id() const noexcept { return client_id_; }
    /// The v5 client's Topic Alias Maximum: how many aliases it accepts from
    /// the broker (0: none, and always 0 on 3.1.1) [MQTT-3.3.2-9].
    std::uint16_t client_topic_alias_maximum() const noexcept { return client_topic_alias_maximum_; }
    /// The v5 client's Maximum Packet Size [MQTT-3.1.2-24].
    std::uint32_t client_maximum_packet_size() const noexcept { return client_max_packet_size_; }
    /// Session Expiry Interval in force (updated by DISCONNECT) [MQTT-3.1.2-23].
    std::uint32_t session_expiry() const noexcept { return session_expiry_; }
    /// Messages waiting under max_queued (the retained backlog not included).
    std::size_t queued() const noexcept { return queue_.size(); }
    /// Topic + payload bytes of those messages (bounded by max_queued_bytes).
    std::uint64_t queued_bytes() const noexcept { return queued_bytes_; }
    /// Retained messages from SUBSCRIBE still waiting for the window.
    std::size_t retained_backlog() const noexcept { return backlog_.size(); }
    std::size_t inflight() const noexcept { return inflight_.size(); }
    /// Messages dropped over the session's life (all causes).
    std::uint64_t dropped() const noexcept { return dropped_; }
    /// Drops since the last call, by cause; the caller counts and logs them.
    drop_counts take_drops() noexcept { return std::exchange(new_drops_, drop_counts{}); }
    /// When the client last acknowledged an outbound QoS 1/2 message (PUBACK,
    /// PUBREC, PUBCOMP) or, if later, when its empty in-flight window got a
    /// message: a subscriber that has just been sent its first message is not
    /// stalled yet. The caller uses it to tell a slow subscriber that is still
    /// draining from a stalled one.
    std::optional<time_point> last_progress() const noexcept { return last_progress_; }

private:
    enum class state : std::uint8_t { awaiting_connect, connecting, connected, closed };
    struct outbound {
        std::shared_ptr<const mqtt::publish> msg;
        qos level = qos::at_most_once;
        bool retain = false;
        std::vector<std::uint32_t> subscription_ids;
        std::uint16_t packet_id = 0;
        bool released = false;  // QoS 2: PUBREC received, PUBREL sent
        std::optional<time_point> received;  // set when the message has an expiry interval
        std::uint64_t tag = 0;               // persistence journal identity, 0 = none
        std::shared_ptr<const std::string> share;  // shared subscription it came through
    };

    void handle_connect(mqtt::connect& c, time_point now);
    void handle_publish(mqtt::publish& p);
    void handle_puback(std::uint16_t id);
    void handle_pubrec(const mqtt::pubrec& r);
    void handle_pubrel(std::uint16_t id);
    void handle_pubcomp(std::uint16_t id);
    void handle_disconnect(const mqtt::disconnect& d);
    void protocol_violation(reason why);
    void close_with(reason why, bool send_disconnect, bool publish_will);
    bool deliver_into(lazy_deque<outbound>& waiting, bool bounded, std::shared_ptr<const mqtt::publish> msg,
                      qos level, bool retain, std::vector<std::uint32_t> subscription_ids, time_point now,
                      std::optional<time_point> received, std::uint64_t tag,
                      std::shared_ptr<const std::string> share);
    void send_outbound(const outbound& o, bool dup);
    /// Forwarded copy with the remaining expiry, or nullptr when expired.
    std::shared_ptr<const mqtt::publish> with_remaining_expiry(const std::shared_ptr<const mqtt::publish>& msg,
                                                               std::optional<time_point> received) const;
    /// What an entry of queue_ counts against max_queued_bytes: the bytes a
    /// slow consumer makes the broker hold (topic + payload; the rest is small
    /// and bounded by the count).
    static std::uint64_t queued_weight(const outbound& o) noexcept {
        return o.msg ? o.msg->topic.size() + o.msg->payload.size() : 0;
    }
    void pump_queue();
    std::uint16_t window() const noexcept;
    bool topic_within_limits(std::string_view topic) const noexcept;
    bool fits_client_limit(const mqtt::publish& m, qos level, const std::vector<std::uint32_t>& ids) const;
    void count_drop(std::uint64_t drop_counts::*cause) noexcept {
        ++dropped_;
        ++(new_drops_.*cause);
    }
    void emit(mqtt::packet p) { actions_.emplace_back(send_packet{std::move(p)}); }
    void note(session_event::kind k, std::uint64_t tag, std::uint16_t packet_id) {
        if (journaled_ && (tag != 0 || k == session_event::kind::inbound_add || k == session_event::kind::inbound_del))
            events_.push_back({k, tag, packet_id});
    }

    server_session_config cfg_;
    state state_ = state::awaiting_connect;
    protocol_version version_ = protocol_version::v5;
    std::string client_id_;
    bool assigned_id_ = false;
    bool request_response_info_ = false;
    std::uint16_t keep_alive_ = 0;
    bool keep_alive_lowered_ = false;
    std::uint32_t session_expiry_ = 0;
    bool session_expiry_lowered_ = false;
    std::optional<time_point> keepalive_deadline_;
    std::shared_ptr<const mqtt::publish> will_;
    std::uint32_t will_delay_ = 0;  // v5 Will Delay Interval, seconds

    // Client's limits (v5 CONNECT properties).
    std::uint16_t client_receive_maximum_ = 65'535;
    std::uint32_t client_max_packet_size_ = 268'435'460;
    std::uint16_t client_topic_alias_maximum_ = 0;  // aliases the client accepts from us

    // Inbound.
    std::vector<std::string> aliases_;                // index = Topic Alias
    id_set inbound_qos2_;                             // PUBREC sent, PUBREL awaited

    // Outbound.
    packet_id_pool ids_;
    lazy_deque<outbound> inflight_;  // in send order
    lazy_deque<outbound> queue_;
    std::uint64_t queued_bytes_ = 0;  // queued_weight() of queue_'s entries
    lazy_deque<outbound> backlog_;  // retained on SUBSCRIBE, sent before queue_ (D09)
    std::uint64_t dropped_ = 0;
    drop_counts new_drops_;
    std::optional<time_point> last_progress_;
    time_point now_{};  // latest time given to any input

    publish_check may_publish_;
    bool journaled_ = false;
    std::vector<session_event> events_;

    std::vector<server_action> actions_;
};

}  // namespace mqtt::core
