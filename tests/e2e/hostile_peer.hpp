// SPDX-License-Identifier: MIT
// A scripted fake broker for end-to-end tests of the `mq` clients against
// hostile input (hardening.md §2 E rows): it listens on 127.0.0.1 port 0,
// accepts one connection and runs a script on its own thread, sending exact
// bytes. Everything the client sends is kept as whole packets. Every wait is
// bounded; the destructor shuts the socket and joins the thread.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mq::test {

using byte_string = std::vector<std::uint8_t>;

/// One packet from the client: the first byte of the fixed header and the body.
struct raw_packet {
    std::uint8_t first = 0;
    byte_string body;
    std::uint8_t type() const noexcept { return static_cast<std::uint8_t>(first >> 4); }
};

class hostile_peer {
public:
    class connection {
    public:
        /// The next whole packet from the client; nullopt on EOF, error or timeout.
        std::optional<raw_packet> read_packet(std::chrono::milliseconds timeout = std::chrono::seconds(10));
        /// Reads packets until one of `type` arrives (others are kept too).
        std::optional<raw_packet> expect(std::uint8_t type, std::chrono::milliseconds timeout = std::chrono::seconds(10));
        /// Writes all bytes; false when the client is gone or writing stalls for 10 s.
        bool send(const byte_string& bytes);
        /// Drops the TCP connection (FIN both ways) without a DISCONNECT.
        void close_now();

    private:
        friend class hostile_peer;
        explicit connection(hostile_peer& peer, int fd) : peer_(peer), fd_(fd) {}
        hostile_peer& peer_;
        int fd_;
        byte_string buf_;
    };
    using script = std::function<void(connection&)>;

    /// Starts listening and runs `s` on the first accepted connection; after
    /// the script, reads (and keeps) packets until the client closes.
    explicit hostile_peer(script s);
    /// One script per connection, in the order the client connects (a client
    /// that reconnects or retries gets the next one).
    explicit hostile_peer(std::vector<script> scripts);
    ~hostile_peer();
    hostile_peer(const hostile_peer&) = delete;
    hostile_peer& operator=(const hostile_peer&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string port_text() const { return std::to_string(port_); }
    /// Waits (bounded) for the script and the client's close; then the packets.
    std::vector<raw_packet> finish(std::chrono::milliseconds timeout = std::chrono::seconds(15));
    /// Whether the client sent a DISCONNECT with reason `code` (v5).
    static bool has_disconnect(const std::vector<raw_packet>& packets, std::uint8_t code);

private:
    void run(std::vector<script> scripts);
    void keep(raw_packet p);

    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};
    std::mutex mu_;
    std::vector<raw_packet> received_;
    std::thread thread_;
};

/// MQTT fixed header + body.
byte_string mqtt_packet(std::uint8_t first, const byte_string& body);
/// v5 CONNACK, session not present, success, no properties.
byte_string connack_v5_ok();
/// SUBACK for the SUBSCRIBE `sub` with the given reason codes (v5 adds an empty property block).
byte_string suback_for(const raw_packet& sub, const byte_string& codes, bool v5 = true);

}  // namespace mq::test
