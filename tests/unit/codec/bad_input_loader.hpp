// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/types.hpp>

/// Reader for tests/data/bad_input/codec.txt, the codec rejection table
/// (hardening.md section 2). The row format is described at the top of that file.
namespace mq_test::bad_input {

struct row {
    std::string id;                                  // "PB01"
    std::vector<mqtt::protocol_version> versions;    // "any" gives both
    std::vector<bool> from_client;                   // c2s: true, s2c: false, any: both
    std::vector<std::uint8_t> bytes;                 // one complete frame
    mqtt::codec_error error = mqtt::codec_error::ok; // expected
    std::string error_name;                          // as written in the table
    std::string spec;                                // "MQTT-3.3.1-4" or "sec-3.3.2.1"
    std::string description;
    mqtt::limits lim;                                // defaults unless the row names some
    std::size_t line = 0;                            // 1-based line in the file
};

/// Parses the whole table. Throws std::runtime_error naming the line on a
/// malformed row (unknown codec_error name, bad hex, wrong column count, ...).
std::vector<row> parse_table(std::string_view text);

/// Reads and parses MQ_TEST_DATA_DIR/bad_input/codec.txt (throws like parse_table,
/// or when the file cannot be read).
std::vector<row> load_codec_table();

/// The enumerator for a name such as "invalid_qos"; nullopt if there is none.
std::optional<mqtt::codec_error> codec_error_from_name(std::string_view name);

/// The reason code each codec_error must map to, as documented next to the
/// enumerator in reason.hpp. Kept here independently of reason.cpp so that the
/// tests notice when reason_of() drifts from the documented contract.
mqtt::reason documented_reason(mqtt::codec_error e);

/// Whitespace-separated two-digit hex bytes ("30 05 00"); throws on a bad token.
std::vector<std::uint8_t> from_hex(std::string_view text);
/// "30 05 00" for failure messages.
std::string to_hex(std::span<const std::uint8_t> bytes);
/// Enumerator name for a codec_error code ("invalid_qos"), "ok" for no error,
/// otherwise "<category>:<value>", so failed checks read like the table.
std::string error_name(std::error_code ec);
/// "0x81".
std::string reason_hex(mqtt::reason r);

/// Subcase / message label: "PB01 MQTT-3.3.1-4 v5 c2s" (only [A-Za-z0-9 _./:-]).
std::string label(const row& r, mqtt::protocol_version v, bool from_client);

}  // namespace mq_test::bad_input
