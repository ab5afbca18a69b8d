// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mqtt::core {

/// Opaque identity of a subscriber session, chosen by the caller.
using session_ref = std::uint64_t;

struct subscriber_options {
    qos max_qos = qos::at_most_once;
    bool no_local = false;
    bool retain_as_published = false;
    std::uint8_t retain_handling = 0;
    std::optional<std::uint32_t> subscription_id;
};

/// One session that must receive a routed message.
struct delivery {
    session_ref session = 0;
    qos level = qos::at_most_once;       // min(publish QoS, max granted over matching subs)
    bool retain_as_published = false;    // any matching sub asked for it
    std::vector<std::uint32_t> subscription_ids;  // of every matching sub [MQTT-3.3.4-3]
    bool shared = false;                 // chosen from a shared group
    /// Shared: the `$share/{group}/{filter}` it came through, one string per
    /// group, so a member's session can hand it back (spec 4.8.2).
    std::shared_ptr<const std::string> share;
};

struct subscribe_result {
    std::error_code ec;      // codec_error::topic_filter_invalid etc.; no error on success
    bool existed = false;    // a subscription with this filter already existed (retain handling 1)
};

/// Subscriptions of all sessions: a topic trie (exact children in a hash map,
/// dedicated '+' and '#' children) plus shared groups `$share/{group}/{filter}`.
/// Single-threaded; the caller serialises access. route() mutates round-robin
/// state and scratch buffers, so it needs exclusive access too.
class router {
public:
    router();
    ~router();
    router(router&&) noexcept;
    router& operator=(router&&) noexcept;

    /// Adds or replaces the session's subscription to `filter` (may be shared)
    /// [MQTT-3.8.4-3]. The filter is validated with check_topic_filter; on error
    /// nothing changes. The same filter in two share groups is two subscriptions.
    subscribe_result subscribe(session_ref s, std::string_view filter, const subscriber_options& o);
    /// false when the session had no such subscription (UNSUBACK 0x11). `filter`
    /// is compared exactly as subscribed (shared filters included).
    bool unsubscribe(session_ref s, std::string_view filter);
    /// Removes every subscription of `s`, shared ones included (session end).
    void unsubscribe_all(session_ref s);

    /// Appends one delivery per session that must receive a message published
    /// to `topic` by `publisher` at `level`: overlapping subscriptions of one
    /// session are merged (highest QoS, all identifiers) [MQTT-3.3.4-2]; No Local
    /// skips the publisher [MQTT-3.8.3-3]; each shared subscription (group +
    /// filter) picks one member, round-robin, as a separate delivery with
    /// `shared = true` and that member's granted QoS [MQTT-4.8.2-3]. The '$'
    /// rule applies [MQTT-4.7.2-1]. Non-shared deliveries come first, ordered by
    /// session. Not const: round-robin state advances. Allocates only in `out`
    /// (and subscription_ids) once internal scratch buffers have grown.
    void route(std::string_view topic, session_ref publisher, qos level, std::vector<delivery>& out);

    /// A shared group member left: another member must take its unacked messages.
    /// Returns a member of `$share/group/filter` other than `excluded`, if any.
    std::optional<session_ref> pick_shared_member(std::string_view shared_filter, session_ref excluded);
    /// The same choice as a delivery of a message published at `level`: that
    /// member's granted QoS, identifier and Retain As Published, `share` set.
    /// `eligible` (if set) must accept the member, e.g. the ACL lets it read
    /// the topic; refused members are skipped in round-robin order.
    std::optional<delivery> pick_shared(std::string_view shared_filter, session_ref excluded, qos level,
                                        const std::function<bool(session_ref)>& eligible = {});

    /// Subscriptions (shared ones included) over all sessions.
    std::size_t subscription_count() const noexcept;
    /// Subscriptions of one session (shared ones included).
    std::size_t subscription_count(session_ref s) const noexcept;
    /// True when `s` already subscribes to exactly `filter`.
    bool has_subscription(session_ref s, std::string_view filter) const noexcept;
    /// Trie nodes besides the root (0 when empty); for tests and memory checks.
    std::size_t node_count() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace mqtt::core
