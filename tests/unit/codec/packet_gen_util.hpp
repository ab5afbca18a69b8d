// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <mqtt/codec/packets.hpp>
#include <mqtt/codec/properties.hpp>
#include <mqtt/codec/types.hpp>

namespace mq_test {

/// Seeded generator of valid packets. Strings come from an alphabet with 1- to
/// 4-byte UTF-8 characters; property blocks hold only properties that
/// mqtt::property_allowed permits in that place, with valid values, in random
/// order. For 3.1.1 the packets still carry v5-only content (the encoder must
/// drop it) but never what 3.1.1 cannot express at all (AUTH, a password
/// without a user name).
class packet_generator {
public:
    packet_generator(std::uint64_t seed, mqtt::protocol_version v) : rng_(seed), version_(v) {}

    /// A packet of a random type (AUTH only for 5.0).
    mqtt::packet next();
    /// A packet of the given type.
    mqtt::packet make(mqtt::packet_type t);

    /// Uniform in [lo, hi].
    std::uint32_t range(std::uint32_t lo, std::uint32_t hi);
    bool chance(std::uint32_t one_in);

private:
    std::string text(std::size_t max_chars);
    std::string topic_name();
    std::string topic_filter();
    std::vector<std::uint8_t> bytes(std::size_t max_len);
    std::vector<std::uint8_t> payload();
    mqtt::properties props(mqtt::property_context ctx);
    mqtt::property_value value_for(mqtt::property_id id);
    mqtt::reason pick(const std::vector<std::uint8_t>& codes);
    mqtt::qos any_qos();
    std::uint16_t packet_id();

    mqtt::connect make_connect();
    mqtt::publish make_publish();
    mqtt::subscribe make_subscribe();

    std::mt19937_64 rng_;
    mqtt::protocol_version version_;
};

}  // namespace mq_test
