// SPDX-License-Identifier: MIT
// The broker the end-to-end tests talk to: `mq broker --listen
// mqtt://127.0.0.1:0` (port read from its readiness line), or Debian's
// mosquitto when MQ_E2E_BROKER=mosquitto.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosquitto_fixture.hpp"
#include "process.hpp"

namespace mq::test {

class e2e_broker {
public:
    /// `broker_args` go to `mq broker` after the listener (mq broker only).
    explicit e2e_broker(std::vector<std::string> broker_args = {});
    ~e2e_broker();
    e2e_broker(const e2e_broker&) = delete;
    e2e_broker& operator=(const e2e_broker&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string port_text() const { return std::to_string(port_); }
    /// SIGTERM to mq broker and its exit (bounded); -1 for mosquitto.
    int terminate();
    /// "mq" or "mosquitto".
    const std::string& kind() const noexcept { return kind_; }

private:
    bool start_mq(std::vector<std::string> broker_args);

    std::unique_ptr<process> mq_;
    std::unique_ptr<mosquitto_fixture> mosquitto_;
    std::uint16_t port_ = 0;
    std::string kind_;
};

/// MQ_BINARY followed by `args`.
std::vector<std::string> mq_cmd(std::vector<std::string> args);

/// Runs `mq` with `args` and `input` on stdin; bounded by `timeout`.
process_result run_mq(std::vector<std::string> args, std::string_view input = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// Publishes QoS 0 messages on `topic` until `sub` prints a line containing it,
/// so the subscription is known to be active. False after ~10 s.
bool wait_subscribed(process& sub, const e2e_broker& broker, const std::string& topic);

/// Non-empty lines of a running subscriber that do not contain `sync` (the
/// wait_subscribed() traffic), until `n` arrived or `timeout` passed.
std::vector<std::string> read_data_lines(process& sub, std::size_t n, const std::string& sync,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace mq::test
