// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <mqtt/net/client.hpp>

#include "common/connection_options.hpp"

namespace mq::tools {

enum class stop_reason : std::uint8_t { none, timeout, signal, stdout_closed, output_error };

/// Runs one command on its own io_context with the -W deadline (from
/// construction, so connecting counts) and SIGINT/SIGTERM handling.
class command_runner {
public:
    explicit command_runner(std::optional<std::chrono::nanoseconds> timeout);
    ~command_runner();
    command_runner(const command_runner&) = delete;
    command_runner& operator=(const command_runner&) = delete;

    boost::asio::any_io_executor executor() const;
    /// Called once on the io thread when the run must stop (deadline, signal or
    /// request_stop); it should end the body (e.g. DISCONNECT the client).
    void on_stop(std::function<void()> fn);
    /// Thread-safe stop request; the first reason wins.
    void request_stop(stop_reason r);
    stop_reason stopped() const noexcept;
    /// Runs `body` to completion and returns its result, or `stop_exit(reason)`
    /// when the run was stopped. Exceptions from the body propagate unless the
    /// run was stopped. A body that ignores a stop is abandoned after 2 s.
    int run(std::function<boost::asio::awaitable<int>()> body, std::function<int(stop_reason)> stop_exit);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// A wake-up for one coroutine on the io thread; notify() may be called from
/// any thread (it posts) and is remembered if nobody waits yet.
class async_event {
public:
    explicit async_event(boost::asio::any_io_executor ex);
    ~async_event();
    boost::asio::awaitable<void> wait();
    /// Wakes the waiter; thread-safe. Safe to call after the event is destroyed
    /// only through a notifier() copy.
    void notify();
    /// A callable that notifies while the event is alive and does nothing after.
    std::function<void()> notifier();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

/// Connects with `conn.client`. When the version was not given and the broker
/// refuses MQTT 5 (0x84), retries once with 3.1.1 and updates `conn`.
boost::asio::awaitable<std::unique_ptr<mqtt::net::client>> connect_client(boost::asio::any_io_executor ex,
                                                                          resolved_connection& conn,
                                                                          mqtt::net::logger log);

/// Human-readable reason: "0x87 Not authorized".
std::string describe_reason(mqtt::reason r);

/// Sends DISCONNECT with `props`, ignoring a connection that is already gone,
/// then closes the socket. A free function so a detached coroutine refers to no
/// closure that may die first (GCC 12 coroutine rules).
boost::asio::awaitable<void> disconnect_quietly(mqtt::net::client* c, mqtt::properties props);

/// Warns on stderr about each refused filter of `ack` and returns the exit
/// status the refusals call for: 0 when none or (unless `strict`) only some were
/// refused; otherwise 77 if any refusal was 0x87, else 76.
int suback_exit_code(const mqtt::suback& ack, const std::vector<mqtt::subscription>& subs, bool strict);

}  // namespace mq::tools
