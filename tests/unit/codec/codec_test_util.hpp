// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/packets.hpp>
#include <mqtt/codec/types.hpp>

namespace mq_test {

/// "10 16 00 04 ..." for failure messages.
std::string hex(std::span<const std::uint8_t> bytes);

/// Readable dump of every field of a packet (properties included), so a failed
/// equality check shows what differs.
std::string describe(const mqtt::packet& p);

/// Encodes into a fresh vector; `ec` receives encode()'s result.
std::vector<std::uint8_t> encode_bytes(const mqtt::packet& p, mqtt::protocol_version v, std::error_code& ec);

/// Accumulating receive buffer as a connection would keep it: feed() appends a
/// chunk, then splits and decodes every complete frame with next_frame and
/// decode_frame and drops the consumed bytes. Stops at the first error.
class stream_decoder {
public:
    explicit stream_decoder(mqtt::protocol_version v, mqtt::limits lim = {}) : version_(v), lim_(lim) {}

    void feed(std::span<const std::uint8_t> chunk);

    const std::vector<mqtt::packet>& packets() const noexcept { return packets_; }
    std::error_code error() const noexcept { return ec_; }
    /// Bytes received but not yet part of a complete frame.
    std::size_t buffered() const noexcept { return buf_.size(); }

private:
    mqtt::protocol_version version_;
    mqtt::limits lim_;
    std::vector<std::uint8_t> buf_;
    std::vector<mqtt::packet> packets_;
    std::error_code ec_;
};

}  // namespace mq_test
