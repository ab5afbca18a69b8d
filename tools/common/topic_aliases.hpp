// SPDX-License-Identifier: MIT
#pragma once
// Outgoing topic aliases (MQTT 5.0 section 3.3.2.3.4): a PUBLISH that carries
// a Topic Alias and a topic binds the alias to the topic for the rest of the
// network connection; later messages to the same topic may then send an empty
// topic name with the alias. Pure bookkeeping for `mq pub --topic-alias`.
#include <cstdint>
#include <string>
#include <unordered_map>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

class outgoing_topic_aliases {
public:
    /// When `m` carries a Topic Alias that is confirmed bound to `m.topic`,
    /// empties `m.topic` (the receiver maps it back) and returns true.
    bool apply(mqtt::publish& m) const;
    /// A message with `topic` and `alias` reached the connection ahead of any
    /// later one (QoS 0 written, QoS 1/2 acknowledged with success): later
    /// messages to `topic` may omit it. The caller must not have another
    /// message rebinding `alias` in flight, since messages in flight may
    /// overtake each other.
    void confirm(std::uint32_t alias, const std::string& topic);
    /// Forgets every binding (a new network connection starts with none).
    void reset() noexcept { bound_.clear(); }

private:
    std::unordered_map<std::uint32_t, std::string> bound_;
};

}  // namespace mq::tools
