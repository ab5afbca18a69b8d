// SPDX-License-Identifier: MIT
// net::client public API: connect, publish, subscribe, receive, disconnect.
#include <mqtt/net/client.hpp>

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mqtt/codec/topic.hpp>

#include "client_impl.hpp"

namespace mqtt::net {

using asio::as_tuple;
using asio::use_awaitable;

namespace {

core::client_config session_config(const client_options& o) {
    core::client_config c;
    c.max_inflight = o.max_inflight;
    c.max_packet_size = o.max_packet_size;
    return c;
}

// system_error::what() is "message: code message"; keep only our message, since
// rethrowing appends the code's text again.
std::string without_code_suffix(const std::system_error& e) {
    std::string w = e.what();
    const std::string suffix = ": " + e.code().message();
    if (w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0)
        w.resize(w.size() - suffix.size());
    return w;
}

}  // namespace

client::impl::impl(asio::any_io_executor ex, client_options opts, logger log)
    : ex_(ex),
      opts_(std::move(opts)),
      log_(std::move(log)),
      session_(session_config(opts_)),
      connect_timer_(ex),
      tick_timer_(ex),
      backoff_timer_(ex),
      write_ev_(ex),
      flow_ev_(ex),
      recv_ev_(ex),
      space_ev_(ex),
      state_ev_(ex) {
    recv_cap_ = std::max<std::size_t>(opts_.receive_queue, 1);
    max_unsent_ = std::max<std::size_t>(opts_.max_unsent_bytes, 1);
}

std::string client::impl::peer() const {
    if (!opts_.unix_path.empty()) return "unix:" + opts_.unix_path;
    const bool v6 = opts_.host.find(':') != std::string::npos;
    return (v6 ? "[" + opts_.host + "]" : opts_.host) + ":" + std::to_string(opts_.port);
}

void client::impl::set_error(std::error_code ec, std::string msg) {
    if (err_) return;  // the first cause wins; later ones are consequences
    err_ = ec;
    err_msg_ = std::move(msg);
}

void client::impl::throw_error() const {
    if (!err_) throw std::system_error(make_error_code(net_error::closed), "not connected");
    throw std::system_error(err_, err_msg_);
}

asio::awaitable<mqtt::connack> client::impl::connect() {
    if (phase_ != phase::idle && phase_ != phase::finished)
        throw std::system_error(std::make_error_code(std::errc::already_connected), "already connected");
    while (reconnector_running_) co_await state_ev_.wait();
    stop_requested_ = false;
    mqtt::connack ack = co_await connect_once();
    ever_connected_ = true;
    // A reconnection resumes the session the broker assigned an id to.
    if (opts_.connect.client_id.empty()) opts_.connect.client_id = session_.client_id();
    co_return ack;
}

asio::awaitable<mqtt::connack> client::impl::connect_once() {
    while (running_ > 0) co_await state_ev_.wait();  // the previous connection's coroutines

    auto self = shared_from_this();
    const std::uint64_t gen = ++generation_;
    err_.clear();
    err_msg_.clear();
    orderly_ = false;
    connack_ = {};
    connack_received_ = false;
    out_.clear();
    wbuf_.clear();
    transport_ = std::make_unique<detail::transport>(ex_);
    phase_ = phase::connecting;
    connect_timed_out_ = false;
    connect_timer_.expires_after(opts_.connect_timeout);
    connect_timer_.async_wait([weak = std::weak_ptr<impl>(self), gen](boost::system::error_code ec) {
        auto s = weak.lock();
        if (ec || !s || s->generation_ != gen || s->phase_ != phase::connecting) return;
        s->connect_timed_out_ = true;
        s->transport_->close();  // aborts resolve/connect/handshake or the CONNACK wait
    });

    MQ_LOG(log_, log_level::debug, "client", opts_.connect.client_id, "connecting to {}", peer());
    try {
        co_await transport_->open(opts_);
    } catch (const std::system_error& e) {
        connect_timer_.cancel();
        phase_ = phase::finished;
        if (connect_timed_out_)
            set_error(make_error_code(net_error::connect_timeout),
                      "connecting to " + peer() + " timed out after " +
                          std::to_string(opts_.connect_timeout.count()) + " ms");
        else
            set_error(e.code(), without_code_suffix(e));
        transport_->close();
        throw_error();
    }

    session_.start(opts_.connect, now());
    apply();
    running_ = 3;
    asio::co_spawn(ex_, writer(self), asio::detached);
    asio::co_spawn(ex_, reader(self), asio::detached);
    asio::co_spawn(ex_, ticker(self), asio::detached);

    while (phase_ == phase::connecting) co_await state_ev_.wait();
    connect_timer_.cancel();
    // A successful CONNACK is the connect's result even when the broker breaks
    // the connection right after it; the next operation reports that.
    if (phase_ != phase::connected && !connack_received_) {
        if (connect_timed_out_) {
            err_ = make_error_code(net_error::connect_timeout);
            err_msg_ = "no CONNACK from " + peer() + " within " +
                       std::to_string(opts_.connect_timeout.count()) + " ms";
        }
        throw_error();
    }
    MQ_LOG(log_, log_level::debug, "client", session_.client_id(), "connected to {} (session present {})",
           peer(), connack_.session_present);
    co_return connack_;
}

asio::awaitable<std::shared_ptr<detail::pending_op>> client::impl::wait_op(std::uint16_t id, bool is_publish) {
    auto op = std::make_shared<detail::pending_op>(ex_);
    op->is_publish = is_publish;
    ops_[id] = op;
    apply();
    space_ev_.notify();  // a paused reader resumes so the acknowledgement can arrive
    // While reconnecting a publish stays pending: the session resends it.
    while (!op->finished && !op->failed && phase_ != phase::finished) co_await op->done.wait();
    if (!op->finished) throw_error();
    co_return op;
}

asio::awaitable<publish_result> client::impl::publish(mqtt::publish msg) {
    // Checked here so that nothing unencodable reaches the session.
    if (auto ec = check_topic_name(msg.topic); ec && !(msg.topic.empty() && msg.props.has(property_id::topic_alias)))
        throw std::system_error(ec, "invalid topic name");
    if (msg.topic.size() > 65'535u)
        throw std::system_error(make_error_code(codec_error::string_too_long), "topic name too long");
    const qos level = msg.level;
    // Backpressure: the window for QoS 1/2, the unsent buffer for all; and the
    // reconnection, if one is under way.
    while ((phase_ == phase::connected && (out_.size() > max_unsent_ || !session_.can_publish(level))) ||
           reconnecting())
        co_await flow_ev_.wait();
    if (phase_ != phase::connected) throw_error();
    std::error_code ec;
    const std::uint16_t id = session_.publish(std::move(msg), now(), ec);
    if (ec) throw std::system_error(ec, "publish refused before sending");
    if (id == 0) {
        apply();
        co_return publish_result{};
    }
    auto op = co_await wait_op(id, true);
    co_return std::move(op->pub);
}

asio::awaitable<mqtt::suback> client::impl::subscribe(std::vector<mqtt::subscription> subs,
                                                      mqtt::properties props) {
    for (const auto& s : subs)
        if (auto ec = check_topic_filter(s.filter))
            throw std::system_error(ec, "invalid topic filter '" + s.filter + "'");
    while (reconnecting()) co_await state_ev_.wait();
    if (phase_ != phase::connected) throw_error();
    std::error_code ec;
    mqtt::subscribe request{0, std::move(subs), std::move(props)};
    const auto id = session_.subscribe(request, now(), ec);
    if (ec) throw std::system_error(ec, "subscribe refused before sending");
    auto op = co_await wait_op(id, false);
    if (opts_.reconnect.enabled) remember_subscription(request, *op->sub);
    co_return std::move(*op->sub);
}

asio::awaitable<mqtt::unsuback> client::impl::unsubscribe(std::vector<std::string> filters,
                                                          mqtt::properties props) {
    while (reconnecting()) co_await state_ev_.wait();
    if (phase_ != phase::connected) throw_error();
    std::error_code ec;
    forget_subscriptions(filters);
    const auto id = session_.unsubscribe(mqtt::unsubscribe{0, std::move(filters), std::move(props)}, now(), ec);
    if (ec) throw std::system_error(ec, "unsubscribe refused before sending");
    auto op = co_await wait_op(id, false);
    co_return std::move(*op->unsub);
}

asio::awaitable<std::optional<mqtt::publish>> client::impl::receive() {
    for (;;) {
        if (!recv_q_.empty()) {
            mqtt::publish m = std::move(recv_q_.front());
            recv_q_.pop_front();
            // Wake a paused reader whenever it may read again. Not only below the
            // capacity: with an acknowledgement awaited the reader pauses at 16x
            // the capacity, and must resume as soon as the queue drops under that.
            if (!reading_blocked()) space_ev_.notify();
            co_return std::optional<mqtt::publish>(std::move(m));
        }
        if (phase_ == phase::finished || phase_ == phase::idle) {
            if (orderly_ || !err_) co_return std::nullopt;
            throw_error();
        }
        co_await recv_ev_.wait();
    }
}

asio::awaitable<void> client::impl::disconnect(mqtt::disconnect d) {
    if (phase_ != phase::connected && !reconnecting()) co_return;
    // Outstanding QoS 1/2 publishes finish first, across reconnections.
    for (;;) {
        while (reconnecting()) co_await flow_ev_.wait();
        if (phase_ != phase::connected) {
            if (orderly_) co_return;
            throw_error();
        }
        if (session_.inflight() == 0) break;
        co_await flow_ev_.wait();
    }
    stop_requested_ = true;
    session_.disconnect(std::move(d), now());
    apply();
    while (phase_ != phase::finished) co_await state_ev_.wait();
}

void client::impl::close() noexcept {
    stop_requested_ = true;
    if (phase_ == phase::finished || phase_ == phase::idle) return;
    orderly_ = true;
    set_error(make_error_code(net_error::closed), "connection closed by the application");
    finish();
}

// ---- client ---------------------------------------------------------------

client::client(asio::any_io_executor ex, client_options opts, logger log)
    : impl_(std::make_shared<impl>(ex, std::move(opts), std::move(log))) {}

client::~client() {
    if (impl_) impl_->close();
}

asio::awaitable<mqtt::connack> client::connect() { return impl_->connect(); }
asio::awaitable<publish_result> client::publish(mqtt::publish msg) { return impl_->publish(std::move(msg)); }
asio::awaitable<mqtt::suback> client::subscribe(std::vector<mqtt::subscription> subs, mqtt::properties props) {
    return impl_->subscribe(std::move(subs), std::move(props));
}
asio::awaitable<mqtt::unsuback> client::unsubscribe(std::vector<std::string> filters, mqtt::properties props) {
    return impl_->unsubscribe(std::move(filters), std::move(props));
}
asio::awaitable<std::optional<mqtt::publish>> client::receive() { return impl_->receive(); }
std::size_t client::buffered() const noexcept { return impl_->recv_q_.size(); }
asio::awaitable<void> client::disconnect(mqtt::disconnect d) { return impl_->disconnect(std::move(d)); }
void client::close() noexcept { impl_->close(); }
const mqtt::connack& client::connack_info() const noexcept { return impl_->connack_; }
mqtt::protocol_version client::version() const noexcept { return impl_->opts_.connect.version; }

}  // namespace mqtt::net
