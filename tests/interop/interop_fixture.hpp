// SPDX-License-Identifier: MIT
// Shared pieces of the interoperability tests: `mq broker` on a free port,
// command lines for mq and Debian's mosquitto clients, and a subscriber
// synchronisation that proves a SUBSCRIBE is active before publishing.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "process.hpp"

namespace mq::test::interop {

inline constexpr const char* mosquitto_pub_path = "/usr/bin/mosquitto_pub";
inline constexpr const char* mosquitto_sub_path = "/usr/bin/mosquitto_sub";

/// Format for both mosquitto_sub and mq sub: "topic qos retain hexpayload".
inline constexpr const char* line_format = "%t %q %r %x";

/// `mq broker --listen mqtt://127.0.0.1:0` plus `extra` arguments; the port is
/// read from the readiness line. Throws std::runtime_error if no ready line
/// arrives within 10 s. The destructor sends SIGTERM and reaps it by PID
/// (SIGKILL after 10 s).
class mq_broker {
public:
    explicit mq_broker(std::vector<std::string> extra = {});
    ~mq_broker();
    mq_broker(const mq_broker&) = delete;
    mq_broker& operator=(const mq_broker&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string port_text() const { return std::to_string(port_); }
    pid_t pid() const noexcept { return proc_->pid(); }
    /// Stops the broker now and returns its result (exit code, stderr).
    process_result stop();

private:
    std::unique_ptr<process> proc_;
    std::uint16_t port_ = 0;
    bool stopped_ = false;
};

/// MQ_BINARY followed by `args`.
std::vector<std::string> mq_cmd(std::vector<std::string> args);
/// mosquitto_pub / mosquitto_sub followed by `args`.
std::vector<std::string> mosquitto_pub_cmd(std::vector<std::string> args);
std::vector<std::string> mosquitto_sub_cmd(std::vector<std::string> args);

/// Runs `argv` to completion (bounded by `timeout`, then SIGKILL).
process_result run(std::vector<std::string> argv,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// Lower-case hex of the bytes, as `%x` prints them.
std::string hex(std::string_view bytes);

/// The line a subscriber using `line_format` prints for a message.
std::string expected_line(const std::string& topic, int qos, bool retain, std::string_view payload);

/// Publishes "sync" to `sync_topic` with `publish_prefix` + {-t sync_topic -m sync}
/// until `sub` prints a line starting with `sync_topic`, or an NDJSON record
/// with that topic (every filter of a
/// SUBSCRIBE is then active). Lines read on the way that do not start with the
/// sync topic are appended to `seen`. False after ~10 s.
bool sync_subscriber(process& sub, const std::vector<std::string>& publish_prefix,
                     const std::string& sync_topic, std::vector<std::string>* seen = nullptr);

/// Reads lines not starting with `skip_prefix` until `n` of them arrived or
/// `timeout` passed; returns what arrived.
std::vector<std::string> read_lines(process& sub, std::size_t n, const std::string& skip_prefix,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Writes `bytes` to `path` (binary). Throws on failure.
void write_binary(const std::string& path, std::string_view bytes);

/// A payload with NUL, 0xFF, CR, LF and every other byte value once.
std::string binary_payload();

/// "127.0.0.1" port flags for mosquitto clients and mq.
std::vector<std::string> host_port(std::uint16_t port);

}  // namespace mq::test::interop
