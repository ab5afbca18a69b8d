// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

/// The contents of the `-f FILE` payload; throws
/// std::system_error(tool_error::no_input) when it cannot be opened (66).
std::vector<std::uint8_t> read_payload_file(const std::string& path);

/// Upper bound of the encoded PUBLISH size, for the broker's Maximum Packet Size.
std::size_t encoded_publish_size(const mqtt::publish& m, bool v5);

/// Why `m` must not be sent (exit 65, cli-contract.md §4): a payload that is not
/// UTF-8 with --payload-format 1, or a packet larger than the broker's Maximum
/// Packet Size. Empty when it may be sent.
std::string publish_problem(const mqtt::publish& m, bool v5, std::uint32_t max_packet, bool must_be_utf8);

/// The broker's Maximum Packet Size from the CONNACK (the protocol maximum if absent).
std::uint32_t broker_max_packet(const mqtt::connack& ack);

}  // namespace mq::tools
