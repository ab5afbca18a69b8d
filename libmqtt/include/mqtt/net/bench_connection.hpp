// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <mqtt/codec/packets.hpp>
#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/types.hpp>
#include <mqtt/net/client.hpp>

/// A lean, pipelined MQTT client for load generation (`mq bench`). Unlike
/// net::client it allocates nothing per message: PUBLISH packets are encoded
/// straight into an output buffer that is written in batches, and incoming frames
/// are parsed in bulk from the read buffer and handed out as views. Single-threaded:
/// a bench_loop and everything attached to it run on the thread that calls run().
namespace mqtt::net {

/// One event loop (an io_context) with absolute-deadline timers.
class bench_loop {
public:
    using clock = std::chrono::steady_clock;
    bench_loop();
    ~bench_loop();
    bench_loop(const bench_loop&) = delete;
    bench_loop& operator=(const bench_loop&) = delete;

    /// Runs handlers on the calling thread until stop() or no work is left.
    void run();
    /// Thread-safe: makes run() return soon.
    void stop();
    /// Thread-safe: runs `fn` on the loop's thread.
    void post(std::function<void()> fn);

    struct impl;  // detail: used by bench_timer and bench_connection
    impl& get() noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

/// A reusable absolute-deadline timer on a bench_loop (steady_timer::expires_at).
class bench_timer {
public:
    explicit bench_timer(bench_loop& loop);
    ~bench_timer();
    bench_timer(const bench_timer&) = delete;
    bench_timer& operator=(const bench_timer&) = delete;
    /// Calls `fn(true)` at `deadline`, or `fn(false)` when cancelled or replaced.
    void wait_until(bench_loop::clock::time_point deadline, std::function<void(bool)> fn);
    void cancel();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

struct bench_connection_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    std::string bind_address;  // empty: any
    protocol_version version = protocol_version::v5;
    std::string client_id;
    std::uint16_t keep_alive = 60;
    std::uint16_t receive_maximum = 65535;  // advertised on v5
    bool nodelay = true;
    /// Bytes of encoded-but-unwritten output above which writable() is false.
    std::size_t max_unsent = 64 * 1024;
    /// When non-zero, the socket's receive low-water mark (SO_RCVLOWAT) is
    /// read_coalesce_bytes, so that a broker writing one packet per write(2)
    /// (mosquitto) is read many packets at a time: one wake-up, one read and one TCP
    /// ACK per batch instead of per message. A period of read_coalesce without a
    /// read lowers the mark to 1 byte until the next read, so a short tail waits
    /// at most about two periods. Only for clients whose receive times are not
    /// latency samples (mq bench's closed loop); 0 reads at once. Plain TCP only.
    std::chrono::microseconds read_coalesce{0};
    std::size_t read_coalesce_bytes = 1024;
    std::optional<std::string> username;
    std::optional<std::vector<std::uint8_t>> password;
    /// TLS, WebSocket or WebSocket over TLS, as for net::client (mq pub's -L
    /// mqtts:// ws:// wss://, --tls, --cafile, ...). Plain TCP keeps the direct
    /// socket path; the others go through the client's transport.
    transport_kind transport = transport_kind::tcp;
    std::string ws_path = "/mqtt";
    tls_options tls;
};

/// A PUBLISH as received: views into the read buffer, valid during the callback only.
struct bench_message {
    std::string_view topic;
    std::span<const std::uint8_t> payload;
    qos level = qos::at_most_once;
    bool dup = false;
};

struct bench_handlers {
    /// Every incoming PUBLISH (acknowledged automatically: PUBACK, or PUBREC then PUBCOMP).
    std::function<void(const bench_message&)> on_publish;
    /// Completion of an outgoing QoS 1/2 publish: PUBACK, PUBCOMP, or a failing PUBREC.
    /// `reason_code` is the v5 reason (success on 3.1.1).
    std::function<void(std::uint16_t packet_id, std::uint8_t reason_code)> on_ack;
    /// The unsent backlog fell below max_unsent after a write completed.
    std::function<void()> on_writable;
    /// The connection ended: error, broker DISCONNECT (reason in ec) or after disconnect().
    std::function<void(std::error_code)> on_closed;
};

/// Connection facts learnt from CONNACK.
struct bench_connack {
    reason reason_code = reason::success;
    std::uint16_t receive_maximum = 65535;  // the broker's; 65535 when absent (or 3.1.1)
    std::uint32_t maximum_packet_size = 0;  // 0: no limit given
    std::uint16_t keep_alive = 0;           // effective keep alive
    /// The broker's advertised limits as sent (MQTT 5 CONNACK properties);
    /// nullopt when the property was absent, i.e. the spec default applies.
    struct advertised {
        std::optional<std::uint32_t> receive_maximum, maximum_packet_size, topic_alias_maximum;
        std::optional<std::uint32_t> maximum_qos, server_keep_alive;
        std::optional<bool> retain_available, wildcard_subscription_available;
        std::optional<bool> subscription_identifier_available, shared_subscription_available;
    } props;
};

class bench_connection {
public:
    bench_connection(bench_loop& loop, bench_connection_options opts, bench_handlers handlers);
    ~bench_connection();
    bench_connection(const bench_connection&) = delete;
    bench_connection& operator=(const bench_connection&) = delete;

    /// Resolves, connects over TCP, sends CONNECT and waits for CONNACK. `done` gets
    /// an error (mqtt.net code, OS code, or the refusing reason) or success and the facts.
    void connect(std::function<void(std::error_code, const bench_connack&)> done);
    /// Subscribes to `filter`; `done` gets the SUBACK reason codes.
    void subscribe(const std::string& filter, qos max_qos,
                   std::function<void(std::error_code, const std::vector<reason>&)> done);
    /// Encodes a PUBLISH into the output buffer (written at the end of the current
    /// handler, batched with everything else queued by then). Returns the packet id,
    /// 0 for QoS 0. The caller keeps QoS 1/2 in-flight below the broker's Receive
    /// Maximum; ids wrap over 1..65535 skipping ones still in flight.
    std::uint16_t publish(std::string_view topic, std::span<const std::uint8_t> payload, qos level);
    /// Sets read_coalesce and read_coalesce_bytes on a connected client (loop thread).
    void coalesce_reads(std::chrono::microseconds period, std::size_t bytes);
    /// Sends DISCONNECT after the queued output and closes.
    void disconnect();
    /// Closes the socket at once.
    void close();

    bool connected() const noexcept;
    /// Encoded bytes not yet written by the kernel.
    std::size_t unsent() const noexcept;
    bool writable() const noexcept;
    /// Outgoing QoS 1/2 messages not yet completed.
    std::size_t inflight() const noexcept;
    /// Bytes the kernel took from this connection (written) and bytes read from it,
    /// every MQTT packet included; counted on the loop's thread.
    std::uint64_t bytes_written() const noexcept;
    std::uint64_t bytes_read() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace mqtt::net
