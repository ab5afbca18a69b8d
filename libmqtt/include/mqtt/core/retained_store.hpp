// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mqtt::core {

/// Retained messages by topic. Messages are shared immutable values so a
/// delivery never copies the payload.
class retained_store {
public:
    retained_store();
    ~retained_store();
    retained_store(retained_store&&) noexcept;
    retained_store& operator=(retained_store&&) noexcept;

    /// Stores `msg` under its topic, replacing the old one; a zero-length payload
    /// deletes the entry [MQTT-3.3.1-6] [MQTT-3.3.1-7]. Returns false when the store
    /// is full (`max_messages`/`max_bytes`) and the message was not stored (the
    /// old one, if any, stays), or when `msg` is null or has an empty topic.
    bool set(std::shared_ptr<const mqtt::publish> msg);
    /// Removes the message retained at exactly `topic`, if any; prunes the trie.
    void erase(std::string_view topic);

    /// Appends every retained message whose topic matches `filter` (valid, not
    /// shared), honouring the '$' rule [MQTT-4.7.2-1]. Visits only the branches
    /// the filter can reach; order is unspecified. Does not modify the store
    /// (safe for concurrent const callers).
    void match(std::string_view filter,
               std::vector<std::shared_ptr<const mqtt::publish>>& out) const;

    /// Number of retained messages.
    std::size_t size() const noexcept;
    /// Sum of topic + payload bytes of the retained messages (checked against max_bytes).
    std::size_t bytes() const noexcept;
    /// Trie nodes besides the root (0 when empty); for tests and memory checks.
    std::size_t node_count() const noexcept;
    std::size_t max_messages = 100'000;
    std::size_t max_bytes = 256u * 1024u * 1024u;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace mqtt::core
