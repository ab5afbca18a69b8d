// SPDX-License-Identifier: MIT
// net::client machinery: the reader, writer and keepalive coroutines and the
// execution of client_session actions.
#include <algorithm>
#include <cstring>
#include <span>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/error.hpp>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

#include "client_impl.hpp"

namespace mqtt::net {

using asio::as_tuple;
using asio::use_awaitable;

asio::awaitable<void> detail::event::wait() {
    ++waiters_;
    auto [ec] = co_await timer_.async_wait(as_tuple(use_awaitable));
    (void)ec;  // always operation_aborted: notify() cancels
    --waiters_;
}

namespace {

// Printable form of a broker-supplied string: control characters escaped so a
// hostile Reason String cannot drive the terminal (hardening E09).
std::string escape(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace

void client::impl::apply() {
    session_.take_actions(actions_);
    for (auto& a : actions_) {
        if (auto* s = std::get_if<core::send_action>(&a)) {
            // Geometric growth here: encode() reserves exactly what one packet
            // needs, which alone would reallocate the buffer on every packet.
            if (out_.capacity() - out_.size() < 64 * 1024)
                out_.reserve(std::max<std::size_t>(out_.capacity() * 2, out_.size() + 128 * 1024));
            if (auto ec = encode(s->pkt, session_.version(), out_)) {
                // Only reachable with a packet the checks in publish() missed.
                MQ_LOG(log_, log_level::error, "client", session_.client_id(), "cannot encode {}: {}",
                       to_string(type_of(s->pkt)), ec.message());
                set_error(ec, "cannot encode " + std::string(to_string(type_of(s->pkt))) + ": " + ec.message());
                if (phase_ != phase::finished) phase_ = phase::closing;
            }
            if (writer_idle_) write_ev_.notify();
        } else if (auto* d = std::get_if<core::deliver_action>(&a)) {
            recv_q_.push_back(std::move(d->msg));
            recv_ev_.notify();
        } else if (auto* c = std::get_if<core::completed_action>(&a)) {
            if (auto it = ops_.find(c->packet_id); it != ops_.end()) {
                it->second->finished = true;
                it->second->pub = publish_result{c->code, std::move(c->props)};
                it->second->done.notify();
                ops_.erase(it);
            }
            flow_ev_.notify();
        } else if (auto* sa = std::get_if<core::suback_action>(&a)) {
            if (auto it = ops_.find(sa->ack.packet_id); it != ops_.end()) {
                it->second->finished = true;
                it->second->sub = std::move(sa->ack);
                it->second->done.notify();
                ops_.erase(it);
            }
        } else if (auto* ua = std::get_if<core::unsuback_action>(&a)) {
            if (auto it = ops_.find(ua->ack.packet_id); it != ops_.end()) {
                it->second->finished = true;
                it->second->unsub = std::move(ua->ack);
                it->second->done.notify();
                ops_.erase(it);
            }
        } else if (auto* ca = std::get_if<core::connected_action>(&a)) {
            connack_ = std::move(ca->ack);
            connack_received_ = true;
            if (phase_ == phase::connecting) phase_ = phase::connected;
            state_ev_.notify();
            tick_timer_.cancel();  // keepalive deadlines start now
        } else if (auto* cl = std::get_if<core::close_action>(&a)) {
            on_close(*cl);
        }
    }
    actions_.clear();
}

void client::impl::on_close(core::close_action& c) {
    switch (c.cause) {
        case core::close_cause::client_disconnect:
            orderly_ = true;
            set_error(make_error_code(net_error::closed), "disconnected");
            break;
        case core::close_cause::server_disconnect:
            if (c.code == reason::normal_disconnection) {
                orderly_ = true;
                set_error(make_error_code(net_error::connection_lost), escape(c.message));
            } else {
                set_error(make_error_code(c.code), escape(c.message));
            }
            break;
        case core::close_cause::connack_refused: set_error(make_error_code(c.code), escape(c.message)); break;
        case core::close_cause::keepalive_timeout:
            set_error(make_error_code(net_error::keepalive_timeout), c.message);
            break;
        case core::close_cause::protocol_violation:
            set_error(make_error_code(net_error::protocol_violation), "broker violated the protocol: " + escape(c.message));
            break;
        case core::close_cause::malformed: set_error(c.ec, escape(c.message)); break;
    }
    MQ_LOG(log_, log_level::debug, "client", session_.client_id(), "closing: {}", err_msg_);
    if (phase_ == phase::finished) return;
    // Queued bytes (DISCONNECT above all) are flushed by the writer, bounded by
    // close_deadline_ in the ticker.
    phase_ = phase::closing;
    close_deadline_ = now() + std::chrono::seconds(2);
    write_ev_.notify();
    tick_timer_.cancel();
    recv_ev_.notify();
    space_ev_.notify();  // a paused reader only waits while connected
}

void client::impl::lost(const boost::system::error_code& ec) {
    if (phase_ == phase::finished) return;
    if (phase_ != phase::closing) {
        const bool eof = ec == asio::error::eof || ec == asio::error::connection_reset ||
                         ec == asio::ssl::error::stream_truncated ||
                         ec == boost::beast::websocket::error::closed;
        set_error(make_error_code(net_error::connection_lost),
                  "connection to " + peer() + " lost: " + (eof ? "closed by the broker" : ec.message()));
    }
    finish();
}

void client::impl::finish() noexcept {
    if (phase_ == phase::finished) return;
    if (phase_ == phase::reconnecting) {
        // Between attempts: only the application's close() ends it here.
        if (stop_requested_) end_for_good();
        return;
    }
    if (transport_) transport_->close();
    session_.on_connection_lost();
    connect_timer_.cancel();
    tick_timer_.cancel();
    if (!should_reconnect()) {
        end_for_good();
        return;
    }
    // Publishes stay pending (the session resends them); a SUBSCRIBE or
    // UNSUBSCRIBE in flight was dropped by the session: its caller gets the error.
    phase_ = phase::reconnecting;
    for (auto it = ops_.begin(); it != ops_.end();) {
        if (it->second->is_publish) {
            ++it;
            continue;
        }
        it->second->failed = true;
        it->second->done.notify();
        it = ops_.erase(it);
    }
    write_ev_.notify();
    space_ev_.notify();
    state_ev_.notify();
    if (!reconnector_running_) {
        reconnector_running_ = true;
        asio::co_spawn(ex_, reconnector(shared_from_this()), asio::detached);
    }
}

void client::impl::end_for_good() noexcept {
    phase_ = phase::finished;
    if (transport_) transport_->close();
    for (auto& [id, op] : ops_) {
        op->failed = true;
        op->done.notify();  // waiters see finished and throw err_
    }
    ops_.clear();
    connect_timer_.cancel();
    tick_timer_.cancel();
    backoff_timer_.cancel();
    write_ev_.notify();
    flow_ev_.notify();
    recv_ev_.notify();
    space_ev_.notify();
    state_ev_.notify();
}

asio::awaitable<void> client::impl::writer(std::shared_ptr<impl> self) {
    impl& s = *self;
    try {
        for (;;) {
            if (s.ended()) break;
            if (s.out_.empty()) {
                if (s.phase_ == phase::closing) {
                    co_await s.transport_->shutdown();
                    s.finish();
                    break;
                }
                s.writer_idle_ = true;
                co_await s.write_ev_.wait();
                s.writer_idle_ = false;
                continue;
            }
            // Double buffer: publishers keep encoding into out_ while wbuf_ is written
            // in one write, so many packets share one syscall.
            s.wbuf_.swap(s.out_);
            auto [ec, n] = co_await s.transport_->write(asio::buffer(s.wbuf_));
            s.wbuf_.clear();
            s.flow_ev_.notify();
            if (ec) {
                s.lost(ec);
                break;
            }
        }
    } catch (const std::exception& e) {
        s.set_error(make_error_code(net_error::connection_lost), e.what());
        s.finish();
    }
    if (--s.running_ == 0) s.state_ev_.notify();
}

asio::awaitable<void> client::impl::reader(std::shared_ptr<impl> self) {
    impl& s = *self;
    // Starts small (a short `mq pub` touches one page, not sixteen) and doubles
    // up to 64 KiB while reads fill it, i.e. while messages stream in.
    constexpr std::size_t streaming_buffer = 64 * 1024;
    std::vector<std::uint8_t> buf(4096);
    std::size_t head = 0;
    std::size_t tail = 0;
    try {
        while (s.phase_ == phase::connecting || s.phase_ == phase::connected || s.phase_ == phase::closing) {
            if (s.reading_blocked() && s.phase_ == phase::connected) {
                // The application is behind: stop reading (TCP pushes back on the
                // broker) but keep PINGREQ going.
                s.session_.set_reading_paused(true, now());
                s.tick_timer_.cancel();
                while (s.reading_blocked() && s.phase_ == phase::connected) co_await s.space_ev_.wait();
                s.session_.set_reading_paused(false, now());
                s.tick_timer_.cancel();
                continue;
            }
            if (tail == buf.size()) {
                if (head > 0) {
                    std::memmove(buf.data(), buf.data() + head, tail - head);
                    tail -= head;
                    head = 0;
                } else {
                    // Grows only while a frame whose size next_frame() already
                    // accepted against max_packet_size is arriving.
                    buf.resize(buf.size() * 2);
                }
            }
            auto [ec, n] = co_await s.transport_->read_some(asio::buffer(buf.data() + tail, buf.size() - tail));
            if (ec) {
                s.lost(ec);
                break;
            }
            tail += n;
            if (tail == buf.size() && buf.size() < streaming_buffer) buf.resize(buf.size() * 2);
            const auto t = now();
            while (!s.session_.closed()) {
                std::error_code fec;
                const auto frame = next_frame(std::span<const std::uint8_t>(buf.data() + head, tail - head),
                                              s.session_.inbound_limits(), fec);
                if (!frame) {
                    if (fec) s.session_.on_malformed(fec, t);  // e.g. 0x95 before buffering the body
                    break;
                }
                std::error_code dec;
                mqtt::packet p = decode_frame(*frame, s.session_.version(), s.session_.inbound_limits(), dec);
                head += frame->total;
                if (dec) {
                    s.session_.on_malformed(dec, t);
                    break;
                }
                s.session_.on_packet(std::move(p), t);
            }
            if (head == tail) head = tail = 0;
            s.apply();
            if (s.session_.closed()) break;  // nothing more from this connection counts
        }
    } catch (const std::exception& e) {
        s.set_error(make_error_code(net_error::connection_lost), e.what());
        s.finish();
    }
    if (--s.running_ == 0) s.state_ev_.notify();
}

asio::awaitable<void> client::impl::ticker(std::shared_ptr<impl> self) {
    impl& s = *self;
    try {
        while (!s.ended()) {
            if (s.phase_ == phase::closing) {
                if (now() >= s.close_deadline_) {
                    s.finish();  // the writer could not flush in time
                    break;
                }
                s.tick_timer_.expires_at(s.close_deadline_);
            } else if (auto d = s.session_.next_deadline()) {
                s.tick_timer_.expires_at(*d);
            } else {
                s.tick_timer_.expires_at(asio::steady_timer::time_point::max());
            }
            auto [ec] = co_await s.tick_timer_.async_wait(as_tuple(use_awaitable));
            (void)ec;  // cancelled when a deadline may have moved; recomputed above
            if (s.phase_ == phase::connected) {
                s.session_.on_tick(now());
                s.apply();
            }
        }
    } catch (const std::exception& e) {
        s.set_error(make_error_code(net_error::connection_lost), e.what());
        s.finish();
    }
    if (--s.running_ == 0) s.state_ev_.notify();
}

}  // namespace mqtt::net
