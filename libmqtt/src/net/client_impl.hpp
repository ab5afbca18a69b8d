// SPDX-License-Identifier: MIT
// Private: state of net::client. One executor, no locks: every member is touched
// only from coroutines and handlers running on `ex_`.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mqtt/core/client_session.hpp>
#include <mqtt/net/client.hpp>
#include <mqtt/net/errors.hpp>

#include "transport.hpp"

namespace mqtt::net {

namespace asio = boost::asio;

namespace detail {

/// A broadcast wake-up for coroutines that re-check a condition in a loop. The
/// timer never expires; notify() cancels the pending waits.
class event {
public:
    explicit event(asio::any_io_executor ex)
        : timer_(ex, asio::steady_timer::time_point::max()) {}
    asio::awaitable<void> wait();
    void notify() noexcept {
        if (waiters_ > 0) timer_.cancel();
    }

private:
    asio::steady_timer timer_;
    std::size_t waiters_ = 0;
};

/// One request waiting for its acknowledgement (PUBACK/PUBCOMP/SUBACK/UNSUBACK).
struct pending_op {
    explicit pending_op(asio::any_io_executor ex) : done(ex) {}
    event done;
    bool finished = false;
    publish_result pub;
    std::optional<mqtt::suback> sub;
    std::optional<mqtt::unsuback> unsub;
    bool is_publish = false;  // survives a reconnection (the session resends it)
    bool failed = false;      // the connection ended without an acknowledgement
};

}  // namespace detail

struct client::impl : std::enable_shared_from_this<client::impl> {
    enum class phase : std::uint8_t { idle, connecting, connected, closing, reconnecting, finished };

    impl(asio::any_io_executor ex, client_options opts, logger log);

    // Public API (client.cpp).
    asio::awaitable<mqtt::connack> connect();
    /// One connection attempt: transport, CONNECT, CONNACK (client.cpp).
    asio::awaitable<mqtt::connack> connect_once();
    asio::awaitable<publish_result> publish(mqtt::publish msg);
    asio::awaitable<mqtt::suback> subscribe(std::vector<mqtt::subscription> subs, mqtt::properties props);
    asio::awaitable<mqtt::unsuback> unsubscribe(std::vector<std::string> filters, mqtt::properties props);
    asio::awaitable<std::optional<mqtt::publish>> receive();
    asio::awaitable<void> disconnect(mqtt::disconnect d);
    void close() noexcept;

    // Machinery (client_io.cpp).
    static asio::awaitable<void> reader(std::shared_ptr<impl> self);
    static asio::awaitable<void> writer(std::shared_ptr<impl> self);
    static asio::awaitable<void> ticker(std::shared_ptr<impl> self);
    /// Executes the session's queued actions in order.
    void apply();
    void on_close(core::close_action& c);
    /// The transport failed or hit EOF.
    void lost(const boost::system::error_code& ec);
    /// Ends the connection: closes the socket, fails waiters, wakes everyone.
    void finish() noexcept;
    [[noreturn]] void throw_error() const;
    void set_error(std::error_code ec, std::string msg);
    /// The connection ended: try again (client_reconnect.cpp)?
    bool should_reconnect() const noexcept;
    /// Loops connect_once() with backoff until connected, refused for good or
    /// closed by the application (client_reconnect.cpp).
    static asio::awaitable<void> reconnector(std::shared_ptr<impl> self);
    /// After a reconnection without a session: the subscriptions again.
    void resubscribe();
    void remember_subscription(const mqtt::subscribe& s, const mqtt::suback& ack);
    void forget_subscriptions(const std::vector<std::string>& filters);
    /// No more attempts: fail every waiter with err_.
    void end_for_good() noexcept;
    /// This connection's coroutines must stop (for good, or for a reconnection).
    bool ended() const noexcept { return phase_ == phase::finished || phase_ == phase::reconnecting; }
    /// Between a loss and the outcome of reconnecting (including the phases of
    /// an attempt): callers wait instead of failing.
    bool reconnecting() const noexcept {
        return reconnector_running_ && phase_ != phase::connected && phase_ != phase::finished;
    }
    asio::awaitable<std::shared_ptr<detail::pending_op>> wait_op(std::uint16_t id, bool is_publish);
    static core::time_point now() noexcept { return core::clock::now(); }
    /// Socket reads pause when the receive queue is full, unless someone awaits
    /// an acknowledgement that may sit behind the queued PUBLISHes (then up to
    /// 16x the capacity, which bounds memory).
    bool reading_blocked() const noexcept {
        return recv_q_.size() >= recv_cap_ && (ops_.empty() || recv_q_.size() >= 16 * recv_cap_);
    }
    std::string peer() const;

    asio::any_io_executor ex_;
    client_options opts_;
    logger log_;
    core::client_session session_;
    std::unique_ptr<detail::transport> transport_;
    phase phase_ = phase::idle;
    std::uint64_t generation_ = 0;
    int running_ = 0;  // reader/writer/ticker coroutines alive

    std::error_code err_;
    std::string err_msg_;
    bool orderly_ = false;  // the close was asked for (by us, or DISCONNECT 0x00)
    mqtt::connack connack_;
    bool connack_received_ = false;

    asio::steady_timer connect_timer_;
    bool connect_timed_out_ = false;
    asio::steady_timer tick_timer_;
    core::time_point close_deadline_{};

    std::vector<core::client_action> actions_;  // reused by apply()
    std::vector<std::uint8_t> out_;             // encoded, not yet handed to the writer
    std::vector<std::uint8_t> wbuf_;            // being written
    bool writer_idle_ = false;
    std::size_t max_unsent_ = 1u << 20;         // QoS 0 publish waits above this

    std::deque<mqtt::publish> recv_q_;
    std::size_t recv_cap_ = 1024;

    std::unordered_map<std::uint16_t, std::shared_ptr<detail::pending_op>> ops_;

    // Reconnection (client_reconnect.cpp).
    bool ever_connected_ = false;
    bool stop_requested_ = false;  // close() or disconnect(): never reconnect
    bool reconnector_running_ = false;
    asio::steady_timer backoff_timer_;
    std::vector<mqtt::subscribe> subscriptions_;  // acknowledged, to make again

    detail::event write_ev_;  // writer: bytes to write or closing
    detail::event flow_ev_;   // publishers: window or buffer space freed
    detail::event recv_ev_;   // receive(): a message arrived or the connection ended
    detail::event space_ev_;  // reader: receive queue has room again
    detail::event state_ev_;  // connect()/disconnect(): phase changed or coroutines ended
};

}  // namespace mqtt::net
