// SPDX-License-Identifier: MIT
#pragma once
// The broker state a persistence journal describes, rebuilt by applying its
// records in order (sans-I/O; net::server turns it into live sessions,
// subscriptions and retained messages at start). Only used while loading:
// the running broker keeps no second copy of its state.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <mqtt/core/router.hpp>
#include <mqtt/core/store_record.hpp>

namespace mqtt::core::store {

struct stored_delivery {
    qos level = qos::at_least_once;
    bool retain = false;
    std::vector<std::uint32_t> sub_ids;
    std::uint16_t packet_id = 0;  // in flight when set
    bool released = false;        // QoS 2 after PUBREC
};

struct stored_session {
    std::uint32_t expiry = 0;
    std::optional<std::string> username;
    std::uint64_t disconnected_ms = 0;  // 0: it was online when the journal ended
    std::map<std::string, subscriber_options> subscriptions;  // by filter
    std::map<std::uint64_t, stored_delivery> pending;         // by tag = arrival order
    std::set<std::uint16_t> inbound_qos2;
};

struct stored_message {
    std::shared_ptr<const mqtt::publish> msg;
    std::uint64_t arrived_ms = 0;
};

class model {
public:
    /// Applies one record; records naming unknown sessions or messages are ignored.
    void apply(const record& r);

    std::map<std::string, stored_message> retained;  // by topic
    std::unordered_map<std::string, stored_session> sessions;
    std::unordered_map<std::uint64_t, stored_message> messages;  // bodies by tag
    std::uint64_t max_tag = 0;  // new tags continue after it
};

/// Packs subscription options into a subscribe record's flags and back.
std::uint8_t pack_options(const subscriber_options& o) noexcept;
subscriber_options unpack_options(std::uint8_t flags, qos level, std::uint32_t sub_id) noexcept;

}  // namespace mqtt::core::store
