// SPDX-License-Identifier: MIT
#pragma once
// A blocking MQTT test peer over a plain POSIX TCP socket: it sends exact
// bytes or encoded packets and reads frames back with a timeout, so a broker
// test asserts wire behaviour and can never hang.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mq::test {

using namespace std::chrono_literals;

/// "10 0c 00 04" -> bytes; spaces and newlines ignored, '#' starts a comment to end of line.
std::vector<std::uint8_t> from_hex(std::string_view text);
std::string to_hex(std::span<const std::uint8_t> bytes);

class raw_client {
public:
    /// Connects to 127.0.0.1:port (throws std::runtime_error on failure).
    explicit raw_client(std::uint16_t port, mqtt::protocol_version v = mqtt::protocol_version::v5);
    ~raw_client();
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;

    mqtt::protocol_version version = mqtt::protocol_version::v5;

    void send_bytes(std::span<const std::uint8_t> bytes);
    void send_hex(std::string_view hex) { send_bytes(from_hex(hex)); }
    void send(const mqtt::packet& p);

    /// Bytes of the next complete frame; nullopt on timeout or when the peer closed.
    std::optional<std::vector<std::uint8_t>> receive_frame(std::chrono::milliseconds timeout = 2000ms);
    /// Next packet decoded as `version`; nullopt on timeout, close or undecodable bytes.
    std::optional<mqtt::packet> receive(std::chrono::milliseconds timeout = 2000ms);
    /// True once the peer closed (EOF or reset) within `timeout`; frames still
    /// arriving before the close are discarded.
    bool wait_closed(std::chrono::milliseconds timeout = 2000ms);
    /// True when nothing arrives for `quiet` (and the peer did not close).
    bool silent_for(std::chrono::milliseconds quiet);

    /// CONNECT with the given fields, returns the CONNACK (nullopt if anything else).
    std::optional<mqtt::connack> connect(mqtt::connect c);
    /// Convenience CONNECT: client id, clean start, keepalive 60.
    std::optional<mqtt::connack> connect(std::string client_id, bool clean_start = true);
    /// SUBSCRIBE one filter, returns the SUBACK.
    std::optional<mqtt::suback> subscribe(std::string filter, mqtt::qos q, std::uint16_t packet_id = 1,
                                          std::uint8_t retain_handling = 0, bool no_local = false,
                                          bool retain_as_published = false,
                                          std::optional<std::uint32_t> subscription_id = std::nullopt);
    /// Drops the TCP connection without DISCONNECT (abnormal close).
    void close();
    bool peer_closed() const noexcept { return peer_closed_; }

private:
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::vector<std::uint8_t> buf_;
    bool peer_closed_ = false;
};

template <class T>
std::optional<T> as(const std::optional<mqtt::packet>& p) {
    if (!p) return std::nullopt;
    if (const T* t = std::get_if<T>(&*p)) return *t;
    return std::nullopt;
}

}  // namespace mq::test
