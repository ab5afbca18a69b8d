// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <mqtt/codec/packets.hpp>
#include <mqtt/net/log.hpp>

namespace mqtt::net {

enum class transport_kind : std::uint8_t { tcp, tls, ws, wss };

struct tls_options {
    std::string ca_file, ca_path, cert_file, key_file;
    std::string server_name;          // SNI and verified name; default: host
    std::string min_version = "tlsv1.2";
    std::string ciphers;
    std::vector<std::string> alpn;
    bool insecure = false;            // skip chain and host name checks
    std::string keylog_file;
};

/// Automatic reconnection after a connection that had been established is lost
/// (never after the first connect() fails, an orderly close or DISCONNECT by
/// the application). Waits min(maximum, initial * 2^n) scaled by a random
/// factor in [0.5, 1] (jitter, so a fleet does not reconnect in lockstep).
/// While reconnecting, publish()/disconnect() wait and receive() keeps
/// waiting; unacknowledged QoS 1/2 messages are resent (DUP when the session
/// is resumed) and, when the broker has no session, the subscriptions made
/// through subscribe() are made again. A refusal that retrying cannot fix
/// (bad credentials, not authorised, banned, bad client id, unsupported
/// version) ends the client with that error.
struct reconnect_options {
    bool enabled = false;
    std::chrono::milliseconds initial{1000};
    std::chrono::milliseconds maximum{30'000};
};

struct client_options {
    std::string host = "localhost";
    std::uint16_t port = 1883;
    transport_kind transport = transport_kind::tcp;
    std::string ws_path = "/mqtt";
    tls_options tls;
    std::string bind_address;
    /// Connect to this Unix domain socket instead of host:port (plain MQTT
    /// only: `transport` must be tcp and `bind_address` empty).
    std::string unix_path;
    bool tcp_nodelay = true;
    std::chrono::milliseconds connect_timeout{10'000};
    /// CONNECT to send: version, client id, keepalive, credentials, will, v5 props.
    mqtt::connect connect;
    /// Outgoing QoS 1/2 window; clamped to the broker's Receive Maximum.
    std::uint16_t max_inflight = 20;
    /// Inbound limit; a larger packet from the broker -> DISCONNECT 0x95.
    std::uint32_t max_packet_size = 256u * 1024u * 1024u;
    /// Incoming messages buffered for receive(); when full, socket reads pause
    /// (PINGREQ continues) until the application catches up. While a publish or
    /// subscribe awaits its acknowledgement, reading goes on up to 16x this.
    std::size_t receive_queue = 1024;
    /// Encoded bytes not yet written; publish() waits above this (backpressure).
    std::size_t max_unsent_bytes = 1u << 20;
    reconnect_options reconnect;
};

/// Completion of one publish: QoS 0 once queued for writing, QoS 1 on PUBACK,
/// QoS 2 on PUBCOMP (or a failing PUBREC).
struct publish_result {
    reason reason_code = reason::success;
    properties props;
};

/// The awaitable MQTT client every tool uses. Not thread-safe: use it from the
/// strand/executor it was created on. Errors are thrown as std::system_error
/// holding a net_error, mqtt::reason (what the broker said) or mqtt::codec_error
/// (what the broker sent was malformed); details are in what().
class client {
public:
    client(boost::asio::any_io_executor ex, client_options opts, logger log = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Resolve, connect, handshakes, CONNECT; returns the CONNACK (success only;
    /// a refusing CONNACK throws its reason).
    boost::asio::awaitable<mqtt::connack> connect();
    /// Waits while the in-flight window is full. Packet id is assigned here.
    boost::asio::awaitable<publish_result> publish(mqtt::publish msg);
    boost::asio::awaitable<mqtt::suback> subscribe(std::vector<mqtt::subscription> subs,
                                                   mqtt::properties props = {});
    boost::asio::awaitable<mqtt::unsuback> unsubscribe(std::vector<std::string> filters,
                                                       mqtt::properties props = {});
    /// Next incoming PUBLISH (acknowledged per QoS by the library); nullopt
    /// after an orderly close.
    boost::asio::awaitable<std::optional<mqtt::publish>> receive();
    /// Messages receive() would return without waiting: lets a consumer batch
    /// its own output while more input is already here.
    std::size_t buffered() const noexcept;
    /// Waits for outstanding QoS 1/2 publishes, sends DISCONNECT, closes.
    boost::asio::awaitable<void> disconnect(mqtt::disconnect d = {});
    /// Closes the socket at once (signals, fatal errors).
    void close() noexcept;

    const mqtt::connack& connack_info() const noexcept;
    mqtt::protocol_version version() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace mqtt::net
