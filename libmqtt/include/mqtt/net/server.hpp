// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <mqtt/net/log.hpp>

namespace mqtt::net {

struct listener_options {
    /// mqtt://, mqtts://, ws://, wss:// host:port[/path]; port 0 = any free
    /// port. A WebSocket listener with a path answers other paths with HTTP
    /// 404; without one (or with "/") it accepts any path.
    std::string url = "mqtt://127.0.0.1:1883";
};

/// Server TLS material, shared by every mqtts:// and wss:// listener.
struct server_tls_options {
    std::string cert_file;  // PEM chain
    std::string key_file;   // PEM; empty = cert_file
    std::string ca_file;    // CA for client certificates; enables asking for them
    /// Refuse clients without a certificate the CA verifies. A verified client
    /// certificate's subject CN is the client's username (no password needed).
    bool require_client_cert = false;
    std::string min_version = "tlsv1.2";  // tlsv1.2 or tlsv1.3; never lower
    std::string ciphers;                  // OpenSSL cipher list (TLS 1.2)
    /// Without cert_file: make a throwaway CA and a server certificate for
    /// localhost, 127.0.0.1 and ::1 at start(), and write the CA (PEM) here.
    std::string ephemeral_ca_file;
};

/// Bad password file, ACL file, TLS material or anonymous policy at start():
/// `mq broker` exits 78. what() names the file and line.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Unusable persistence directory or journal at start() (damaged before its
/// tail, not a journal, in use by another broker): `mq broker` exits 65.
class persistence_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Broker limits; defaults from hardening.md §1.1.
struct broker_limits {
    std::uint32_t max_connections = 1000;
    /// New connections accepted per second over all listeners, 0 = unlimited.
    /// Above it accept() waits (the kernel's listen backlog holds the
    /// clients, whose CONNECT is answered later) instead of refusing, so a
    /// reconnect storm is smoothed rather than turned into retries. Bursts of
    /// up to one second's worth are accepted at once.
    std::uint32_t max_connect_rate = 0;
    std::uint32_t max_connect_packet = 64 * 1024;
    std::uint32_t max_packet_size = 1024 * 1024;
    std::uint32_t max_string_length = 4096;
    std::uint32_t max_user_properties = 32;
    /// PUBLISH topics and SUBSCRIBE filters (not max_string_length): a topic
    /// over either gets 0x90 (QoS 1/2 ack, else DISCONNECT; 3.1.1: close), a
    /// filter SUBACK 0x8F (3.1.1: 0x80). Also the Will topic's levels.
    std::uint32_t max_topic_length = 4096;
    std::uint32_t max_topic_levels = 128;
    std::uint16_t receive_maximum = 100;
    std::uint16_t max_inflight = 32;
    std::uint32_t max_queued = 1000;
    /// Topic + payload bytes queued per session beyond the in-flight window;
    /// drop-oldest like max_queued, counted as queue_full.
    std::uint64_t max_queued_bytes = 16ull * 1024 * 1024;
    std::uint64_t max_write_buffer = 1024 * 1024;
    std::uint32_t max_subscriptions = 10'000;
    std::uint16_t topic_alias_maximum = 10;
    std::uint16_t max_keepalive = 65'535;
    std::uint32_t max_session_expiry = 86'400;
    std::uint32_t max_sessions = 10'000;
    std::chrono::milliseconds connect_timeout{10'000};
};

struct server_options {
    std::vector<listener_options> listeners{listener_options{}};
    broker_limits limits;
    server_tls_options tls;
    /// Clients without credentials. nullopt: allowed without a password file
    /// when every listener is loopback (start() throws config_error for a
    /// non-loopback listener), refused with one (cli-contract.md §9).
    std::optional<bool> allow_anonymous;
    std::string password_file;  // core::password_file format; empty = none
    std::string acl_file;       // core::acl format; empty = everything allowed
    std::chrono::milliseconds sys_interval{10'000};  // 0 disables $SYS
    /// Response Information for a v5 CONNECT with Request Response
    /// Information 1 (3.2.2.3.15): a topic prefix for the client's responses,
    /// `%c` = its client id. The default, under `$`, is not matched by `#`
    /// [MQTT-4.7.2-1]. Empty: never sent.
    std::string response_information = "$response/%c/";
    /// --topic-alias-out: replace topics sent before to a v5 client that
    /// allows it (Topic Alias Maximum > 0) with Topic Aliases, at most
    /// min(its maximum, 256) per connection (MQTT 5 3.3.2.3.4). Such
    /// subscribers get their own encoding of each PUBLISH instead of the
    /// shared one.
    bool topic_alias_out = true;
    /// Install SIGINT/SIGTERM handlers in start(): a signal calls stop(shutdown_timeout);
    /// and SIGHUP, which calls reload().
    bool handle_signals = false;
    std::chrono::milliseconds shutdown_timeout{5'000};
    /// --persistence-dir: retained messages, persistent sessions, their
    /// subscriptions and QoS 1/2 messages survive a restart (hardening S02).
    /// Empty: everything is in memory.
    std::string persistence_dir;
    /// --fsync always: fdatasync before every acknowledgement (an OS crash
    /// loses nothing); false (interval): the record is written before the ack
    /// (a killed broker loses nothing) and fdatasync runs every fsync_interval.
    bool fsync_always = false;
    std::chrono::milliseconds fsync_interval{1'000};
    /// The journal is compacted (rewritten as a snapshot of live state) once
    /// it is larger than this and than twice the last snapshot.
    std::uint64_t compact_bytes = 64ull * 1024 * 1024;
    /// --workers N: threads, one io_context each. Accepted connections are
    /// assigned round-robin and stay on their worker; broker state (router,
    /// sessions, retained store) is shared under one lock, so the workers
    /// overlap socket I/O, framing and TLS, not routing (docs/architecture.md §8).
    unsigned workers = 1;
};

/// Counters since start(); read with server::stats() (thread-safe snapshot).
struct server_stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t messages_received = 0;  // PUBLISH from clients
    std::uint64_t messages_sent = 0;      // PUBLISH to clients
    std::uint64_t messages_dropped = 0;   // sum of the causes below
    std::uint64_t dropped_queue_full = 0;        // queue policy (drop-oldest) on max_queued
    std::uint64_t dropped_packet_too_large = 0;  // above the client's Maximum Packet Size
    std::uint64_t dropped_expired = 0;           // Message Expiry Interval passed in the broker
    std::uint64_t dropped_write_buffer = 0;      // QoS 0 beyond max_write_buffer
    std::uint64_t dropped_retained_limit = 0;    // retained store full: not stored
    std::uint64_t dropped_not_authorized = 0;    // ACL-refused PUBLISH without a 0x87 ack
};

struct listener_info {
    std::string url;        // with the bound port
    std::string transport;  // "tcp", "tls", "ws", "wss"
    std::string address;
    std::uint16_t port = 0;
};

/// The broker engine. `mq broker` and the tests start the same object.
class server {
public:
    explicit server(server_options opts, logger log = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Loads the password and ACL files and the TLS material (config_error
    /// naming the file and line), then binds every listener or throws
    /// std::system_error naming the address.
    void start();
    /// Re-reads the password and ACL files; thread-safe. On any error the files
    /// in force stay, the error is logged and returned as false (hardening J08).
    bool reload();
    /// Bound listeners (actual port when port 0 was asked); valid after start().
    std::vector<listener_info> listeners() const;
    /// Runs the worker(s) on the calling thread until stop().
    void run();
    /// Thread-safe. v5 clients get DISCONNECT 0x8B; waits at most `drain`.
    void stop(std::chrono::milliseconds drain = std::chrono::milliseconds{5000});
    /// Snapshot of the counters; safe from any thread.
    server_stats stats() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace mqtt::net
