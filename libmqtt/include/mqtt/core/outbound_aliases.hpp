// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

/// Server -> client Topic Aliases of one network connection (MQTT 5
/// 3.3.2.3.4). The broker replaces a topic it has sent before with its alias
/// and an empty Topic Name. The first use of an alias carries the topic too,
/// which (re)defines the mapping at the client [MQTT-3.3.2-12]; aliases stay
/// within 1..maximum, the client's Topic Alias Maximum [MQTT-3.3.2-9]
/// [MQTT-3.3.2-10]. When all are taken the least recently used is redefined.
/// Mappings belong to the network connection [MQTT-3.3.2-7]: the caller makes
/// a new table for each connection (and only once one is needed, so idle
/// connections pay nothing).
namespace mqtt::core {

class outbound_aliases {
public:
    /// The most aliases one connection gets, whatever the client allows: the
    /// table holds a copy of each topic, so this bounds its memory.
    static constexpr std::uint16_t cap = 256;

    /// `maximum` is the client's Topic Alias Maximum (0: no aliases at all).
    explicit outbound_aliases(std::uint16_t maximum) noexcept;

    struct choice {
        std::uint16_t alias = 0;  // 0: send the topic without an alias
        bool first_use = false;   // send topic + alias; else empty topic + alias
    };
    /// The alias to send `topic` with.
    choice assign(std::string_view topic);
    /// Forgets a mapping assign() just made whose PUBLISH was not sent, so a
    /// later use defines it again instead of relying on it.
    void forget(std::uint16_t alias);

    std::size_t size() const noexcept { return by_topic_.size(); }
    std::uint16_t maximum() const noexcept { return maximum_; }

private:
    struct slot {
        std::string topic;  // empty: free
        std::uint64_t used = 0;
    };
    std::uint16_t maximum_;
    std::uint64_t clock_ = 0;
    std::deque<slot> slots_;  // index = alias - 1; a deque keeps the topics in place for the views
    std::unordered_map<std::string_view, std::uint16_t> by_topic_;
};

}  // namespace mqtt::core
