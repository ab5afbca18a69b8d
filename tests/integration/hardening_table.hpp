// SPDX-License-Identifier: MIT
#pragma once
// Reader for tests/data/bad_input/broker.txt, the broker's wire-level answers
// to hostile input (hardening.md section 2). The row format is described at
// the top of that file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/types.hpp>
#include <mqtt/net/server.hpp>

namespace mq::test::hardening {

struct row {
    std::string id;  // "B03" or "B03-311"
    mqtt::protocol_version version = mqtt::protocol_version::v5;
    bool connect_first = false;                     // "connect": a plain CONNECT of `version` first
    std::vector<std::uint8_t> send;                 // may be empty (send nothing)
    std::vector<std::vector<std::uint8_t>> expect;  // exact frames, in order
    bool then_open = false;                         // "open": still serves PINGREQ; else closed
    std::string spec;
    std::string description;
    std::string limits_text;  // as written, "" for defaults; rows are grouped by it
    std::size_t line = 0;
};

/// Parses the table; throws std::runtime_error naming the line on a bad row.
std::vector<row> parse_table(std::string_view text);
/// Reads and parses MQ_TEST_DATA_DIR/bad_input/broker.txt.
std::vector<row> load_broker_table();
/// Applies "max_packet_size=64,connect_timeout_ms=300" to the limits (throws on an unknown key).
void apply_limits(std::string_view text, mqtt::net::broker_limits& lim);
/// Hex with repeats: "61*3" is 61 61 61, "[26 00 00]*2" repeats the group.
std::vector<std::uint8_t> parse_hex(std::string_view text);

}  // namespace mq::test::hardening
