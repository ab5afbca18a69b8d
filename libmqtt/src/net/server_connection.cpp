// SPDX-License-Identifier: MIT
// One broker connection: a reader (frames -> session) and a writer (queue ->
// gather writes), each a coroutine that exists only while it has work; the
// deadlines (connect timeout, keepalive, close bound) are server_state's.
#include <algorithm>
#include <cstring>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/varint.hpp>

#include "server_impl.hpp"

namespace mqtt::net::detail {
namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t initial_buffer = 4096;
constexpr std::size_t max_write_buffers = 256;
constexpr std::size_t max_write_bytes = 256 * 1024;
// A connection that was told to close gets this long to flush.
constexpr std::chrono::seconds close_grace{5};

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

template_ptr make_template(const mqtt::publish& msg, protocol_version v, bool has_pid) {
    // Encode the header fields without the payload (cheap copy), then append
    // the payload once with the corrected remaining length.
    mqtt::publish hdr;
    hdr.topic = msg.topic;
    hdr.level = has_pid ? qos::at_least_once : qos::at_most_once;
    hdr.packet_id = has_pid ? 1 : 0;
    if (v == protocol_version::v5) hdr.props = msg.props;
    std::vector<std::uint8_t> head;
    if (encode(mqtt::packet{std::move(hdr)}, v, head) || head.size() < 2) return nullptr;
    std::uint32_t rem = 0;
    std::size_t used = 0;
    decode_varint(std::span<const std::uint8_t>(head).subspan(1), rem, used);
    const std::size_t body_start = 1 + used;
    const std::size_t new_rem = (head.size() - body_start) + msg.payload.size();
    if (new_rem > max_varint) return nullptr;
    auto t = std::make_shared<publish_template>();
    t->bytes.reserve(1 + varint_size(static_cast<std::uint32_t>(new_rem)) + new_rem);
    t->bytes.push_back(0x30);
    encode_varint(static_cast<std::uint32_t>(new_rem), t->bytes);
    const std::size_t header_len = t->bytes.size();
    t->bytes.insert(t->bytes.end(), head.begin() + static_cast<std::ptrdiff_t>(body_start), head.end());
    t->bytes.insert(t->bytes.end(), msg.payload.begin(), msg.payload.end());
    t->has_pid = has_pid;
    t->pid_offset = static_cast<std::uint32_t>(header_len + 2 + msg.topic.size());
    return t;
}

template_ptr publish_cache::get(const mqtt::publish& msg, protocol_version v, bool has_pid) {
    auto& slot = slots[(v == protocol_version::v5 ? 2u : 0u) + (has_pid ? 1u : 0u)];
    if (!slot) slot = make_template(msg, v, has_pid);
    return slot;
}

connection::connection(server_state& srv, asio::io_context& owner, tcp::socket sock, std::uint64_t id,
                       const listener_slot& listener)
    : srv_(srv),
      ioc_(owner),
      io_(std::move(sock), listener.kind, srv.tls_ctx),
      listener_(listener),
      id_(id),
      session_(std::make_unique<core::server_session>(srv.session_cfg)) {}

void connection::start() {
    deadline_ = core::clock::now() + srv_.opts.limits.connect_timeout;
    arm_deadline();
    // Posted: the caller holds the state lock, and the reader takes it.
    asio::post(ioc_, [self = shared_from_this()] { self->spawn_reader(); });
}

void connection::spawn_reader() {
    // Without the state lock: co_spawn on the running worker starts the
    // reader inline, and the reader takes the lock first thing.
    auto self = shared_from_this();
    asio::co_spawn(
        ioc_, [self]() { return self->reader(); }, asio::detached);
}

mqtt::limits connection::current_limits() const noexcept {
    // [MQTT-3.1.0-1] the first packet must be a CONNECT: a small limit until then.
    return session_->connected() ? srv_.packet_limits : srv_.connect_limits;
}

void connection::end_auth() {
    auth_pending_ = false;
    arm_deadline();  // the keepalive deadline from now on
    if (reader_paused_) {
        wake_reader();
        return;
    }
    // The reader is waiting in a read: packets that came with the CONNECT go now.
    if (!closed_ && !closing_ && start_ < end_) (void)process_frames();
}

asio::awaitable<void> connection::reader() {
    auto self = shared_from_this();
    // Held between suspensions: the socket waits below run without it.
    state_lock lk(srv_.mu);
    if (!handshake_done_ && listener_.kind != transport_kind::tcp) {
        // TLS and WebSocket handshakes; the connect deadline bounds them.
        handshake_done_ = true;
        accept_options ao;
        ao.ws_path = listener_.ws_path;
        ao.max_message = std::uint64_t{srv_.opts.limits.max_packet_size} + 8;
        reading_ = true;
        lk.unlock();
        const auto ec = co_await io_.accept(ao);
        lk.lock();
        reading_ = false;
        if (ec || closed_) {
            // hardening T01: plain MQTT or garbage on a TLS port is not worth more than debug.
            MQ_LOG(srv_.log, log_level::debug, "broker", "", "handshake failed: {}", ec.message());
            close_now();
            co_return;
        }
    }
    handshake_done_ = true;
    acquire_buffer();
    while (!closing_ && !closed_) {
        if (auth_pending_ && end_ - start_ >= srv_.opts.limits.max_connect_packet) {
            // Verifying credentials: bytes that arrive meanwhile wait in the
            // buffer (bounded); reading on notices a client that gives up.
            // Parked until end_auth() restarts the reader.
            reader_paused_ = true;
            readable_ = false;
            co_return;
        }
        if (session_->connected() && srv_.should_pause(*this, core::clock::now())) {
            // Back-pressure: a live subscriber is draining a large queue. The
            // unread bytes wait in the socket (TCP flow control slows the
            // publisher); wake_paused() restarts the reader, within 20 ms.
            reader_paused_ = true;
            readable_ = false;
            srv_.park_reader(*this);
            co_return;
        }
        // Frames left in the buffer by a pause come first.
        if (!process_frames()) co_return;
        if (start_ < end_ && srv_.should_pause(*this, core::clock::now())) continue;
        if (end_ == buf_.size()) {
            if (start_ > 0) {
                std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
                end_ -= start_;
                start_ = 0;
            } else {
                // Grows only as bytes arrive; next_frame() refuses a declared
                // size over the limit before we get here.
                buf_.resize(buf_.size() * 2);
            }
        }
        if (start_ == end_ && io_.can_wait_readable() && !std::exchange(readable_, false) &&
            !io_.readable_now()) {
            // Nothing buffered, nothing in the kernel: an idle connection
            // keeps neither a buffer (4 KiB) nor this coroutine's frame; a
            // plain handler restarts the reader when bytes (or EOF) come.
            release_buffer();
            reading_ = true;
            io_.async_wait_readable([self](const boost::system::error_code& ec) { self->on_readable(ec); });
            co_return;
        }
        reading_ = true;
        lk.unlock();
        auto [ec, n] = co_await io_.read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_));
        lk.lock();
        reading_ = false;
        if (ec || closed_) {
            close_now();  // abnormal unless the session already closed: Will published
            co_return;
        }
        if (io_.got_text()) {
            // hardening W02: MQTT travels in binary frames only [MQTT-6.0.0-1]; close 1003.
            closing_ = true;
            deadline_ = core::clock::now() + close_grace;
            arm_deadline();
            lk.unlock();
            co_await io_.close_ws(1003);
            lk.lock();
            close_now();
            co_return;
        }
        end_ += n;
        srv_.bytes_received.fetch_add(n, std::memory_order_relaxed);
        if (!process_frames()) co_return;
        if (start_ == end_) {
            start_ = end_ = 0;
            if (buf_.size() > 64 * 1024) {
                buf_.resize(initial_buffer);
                buf_.shrink_to_fit();
            }
        }
    }
}

void connection::on_readable(const boost::system::error_code& ec) {
    {
        const state_lock lk(srv_.mu);
        reading_ = false;
        if (ec || closed_) {
            close_now();  // aborted by close_now() itself, or a socket error
            return;
        }
        if (closing_) return;  // the writer flushes and closes; nothing more is read
        readable_ = true;      // EOF shows as readable with 0 bytes available: read it
    }
    spawn_reader();
}

void connection::acquire_buffer() {
    if (!buf_.empty()) return;
    if (!srv_.spare_buffers.empty()) {
        buf_.swap(srv_.spare_buffers.back());
        srv_.spare_buffers.pop_back();
    } else {
        buf_.resize(initial_buffer);
    }
}

void connection::release_buffer() {
    start_ = end_ = 0;
    // Grown buffers (large packets) go back to the allocator, not the pool.
    if (buf_.size() == initial_buffer && srv_.spare_buffers.size() < server_state::max_spare_buffers)
        srv_.spare_buffers.push_back(std::move(buf_));
    std::vector<std::uint8_t>().swap(buf_);
}

bool connection::process_frames() {
    while (!closing_ && !closed_) {
        if (start_ == end_ || auth_pending_) return true;
        if (session_->connected() && srv_.should_pause(*this, core::clock::now())) return true;
        const auto lim = current_limits();
        std::error_code ec;
        const std::span<const std::uint8_t> in(buf_.data() + start_, end_ - start_);
        auto frame = next_frame(in, lim, ec);
        const auto now = core::clock::now();
        if (ec) {
            session_->on_decode_error(ec, std::nullopt, now);
            apply_actions();
            return false;
        }
        if (!frame) return true;
        const auto type = frame->type();
        if (session_->connected() && (type == packet_type::connack || type == packet_type::suback ||
                                      type == packet_type::unsuback || type == packet_type::pingresp)) {
            // Only a server sends these: 0x82 whatever the body holds (hardening A13).
            session_->on_decode_error(make_error_code(reason::protocol_error), std::nullopt, now);
            apply_actions();
            return false;
        }
        auto decode_lim = lim;
        // --max-string-length has a different answer per field (hardening §1.1): a
        // filter gets SUBACK 0x8F (D06), a topic 0x90, other strings 0x83, and binary
        // data such as Correlation Data may use all 65,535 bytes (C17). The session
        // applies it; the decoder only bounds these packets by their size.
        if (type == packet_type::subscribe || type == packet_type::publish)
            decode_lim.max_string_length = 65'535;
        auto pkt = decode_frame(*frame, session_->version(), decode_lim, ec);
        if (ec) {
            const bool first = !session_->connected();
            session_->on_decode_error(ec, first ? peek_connect_level(*frame) : std::nullopt, now);
            apply_actions();
            return false;
        }
        start_ += frame->total;
        session_->on_packet(std::move(pkt), now);
        apply_actions();
        // An acknowledgement may have drained this subscriber's queue.
        if (srv_.congested.contains(id_)) srv_.update_congestion(*this);
    }
    return false;
}

void connection::apply_actions(publish_cache* cache) {
    const std::uint64_t journal_before = srv_.persist ? srv_.persist->dependency() : 0;
    while (session_->has_actions()) {
        auto actions = session_->take_actions();
        for (auto& a : actions) {
            std::visit(overloaded{
                           [&](core::send_packet& p) {
                               if (unstored_ && !refuse_unstored(p.pkt)) return;
                               if (unmatched_ != 0) mark_unmatched(p.pkt);
                               out_item item;
                               if (!encode(p.pkt, session_->version(), item.owned)) enqueue(std::move(item));
                           },
                           [&](core::send_publish& p) { enqueue_publish(p, cache); },
                           [&](core::route_publish& r) {
                               const auto routed = srv_.route(ref, r.msg);
                               if (r.msg->level == qos::at_most_once) return;
                               if (routed == server_state::route_result::refused)
                                   unstored_ = r.msg->packet_id;
                               else if (routed == server_state::route_result::no_subscribers &&
                                        session_->version() == protocol_version::v5)
                                   unmatched_ = r.msg->packet_id;
                           },
                           [&](core::connect_request& r) {
                               srv_.on_connect(*this, r);
                               arm_deadline();  // keepalive once connected (else still the connect deadline)
                           },
                           [&](core::subscribe_request& r) { srv_.on_subscribe(*this, r); },
                           [&](core::unsubscribe_request& r) { srv_.on_unsubscribe(*this, r); },
                           [&](core::close_connection& c) {
                               closing_ = true;
                               deadline_ = core::clock::now() + close_grace;
                               arm_deadline();
                               // [MQTT-3.1.2-8] the Will goes out when the session ends abnormally.
                               if (c.will && c.will_delay > 0 && !srv_.stopping)
                                   srv_.schedule_will(session_->client_id(), ref, c.will, c.will_delay);
                               else if (c.will)
                                   srv_.route(ref, c.will);
                               srv_.on_session_closed(*this);
                               wake_writer();
                           },
                       },
                       a);
        }
    }
    srv_.note_drops(session_->client_id(), session_->take_drops());
    if (session_->has_events()) srv_.persist_events(session_->client_id(), *session_);
    // What this connection sends next may acknowledge what was just journaled.
    // (A QoS 1 delivery alone adds nothing here: sending it before its record
    // is durable can at worst repeat it, which QoS 1 allows.)
    if (srv_.persist && srv_.persist->dependency() != journal_before) depend_on_journal(srv_.persist->dependency());
}

void connection::mark_unmatched(mqtt::packet& p) {
    // [MQTT-3.4.2.1] [MQTT-3.5.2.1] "If the Server knows that there are no
    // matching subscribers, it MAY use this Reason Code instead of 0x00":
    // `mq pub --require-subscribers` relies on it. Only a success is replaced.
    const std::uint16_t id = std::exchange(unmatched_, 0);
    if (auto* a = std::get_if<mqtt::puback>(&p); a && a->packet_id == id) {
        if (a->reason_code == reason::success) a->reason_code = reason::no_matching_subscribers;
    } else if (auto* r = std::get_if<mqtt::pubrec>(&p); r && r->packet_id == id) {
        if (r->reason_code == reason::success) r->reason_code = reason::no_matching_subscribers;
    } else {
        unmatched_ = id;  // not the ack of that PUBLISH yet
    }
}

bool connection::refuse_unstored(mqtt::packet& p) {
    const std::uint16_t id = *unstored_;
    if (auto* a = std::get_if<mqtt::puback>(&p); a && a->packet_id == id) {
        a->reason_code = reason::unspecified_error;
    } else if (auto* r = std::get_if<mqtt::pubrec>(&p); r && r->packet_id == id) {
        r->reason_code = reason::unspecified_error;
        session_->refuse_inbound(id);  // a failing PUBREC ends the flow [MQTT-4.3.3-?]
    } else {
        return true;  // not the ack of the refused PUBLISH
    }
    unstored_.reset();
    if (session_->version() == protocol_version::v5) return true;  // PUBACK/PUBREC 0x80
    // 3.1.1 acks cannot refuse: close instead of acknowledging what was not stored.
    MQ_LOG(srv_.log, log_level::warn, "broker", session_->client_id(),
           "closing: PUBLISH {} could not be stored", id);
    session_->disconnect(reason::unspecified_error, false);
    return false;
}

void connection::wake_reader() {
    if (!reader_paused_ || closed_) return;
    reader_paused_ = false;
    // Posted, as the timer cancel it replaces was: the caller may be inside
    // another connection's process_frames().
    asio::post(ioc_, [self = shared_from_this()] {
        state_lock lk(self->srv_.mu);
        if (self->closed_) return;
        lk.unlock();
        self->spawn_reader();
    });
}

void connection::enqueue(out_item item) {
    if (closed_) return;
    out_bytes_ += item.size();
    out_.push_back(std::move(item));
    wake_writer();
}

void connection::enqueue_publish(const core::send_publish& sp, publish_cache* cache) {
    if (closed_ || !sp.msg) return;
    const protocol_version v = session_->version();
    // Slow reader: QoS 0 is dropped beyond the write buffer; QoS 1/2 stay in flight.
    if (sp.level == qos::at_most_once && out_bytes_ > srv_.opts.limits.max_write_buffer) {
        srv_.note_drop(session_->client_id(), drop_cause::write_buffer);
        return;
    }
    // After the drop decision: an alias is defined only by a PUBLISH that is sent.
    if (v == protocol_version::v5 && srv_.opts.topic_alias_out && session_->client_topic_alias_maximum() > 0 &&
        enqueue_aliased(sp))
        return;
    const bool has_pid = sp.level != qos::at_most_once;
    out_item item;
    if (v == protocol_version::v5 && !sp.subscription_ids.empty()) {
        // Subscription identifiers differ per subscriber: encode this one fully.
        mqtt::publish p = *sp.msg;
        p.level = sp.level;
        p.packet_id = sp.packet_id;
        p.dup = sp.dup;
        p.retain = sp.retain;
        for (auto id : sp.subscription_ids) p.props.add_int(property_id::subscription_identifier, id);
        if (encode(mqtt::packet{std::move(p)}, v, item.owned)) return;
        enqueue(std::move(item));
        return;
    }
    item.tmpl = cache ? cache->get(*sp.msg, v, has_pid) : make_template(*sp.msg, v, has_pid);
    if (!item.tmpl) return;
    item.head = static_cast<std::uint8_t>(
        0x30 | (sp.dup ? 0x08 : 0) | (static_cast<std::uint8_t>(sp.level) << 1) | (sp.retain ? 0x01 : 0));
    item.pid = {static_cast<std::uint8_t>(sp.packet_id >> 8), static_cast<std::uint8_t>(sp.packet_id & 0xff)};
    enqueue(std::move(item));
}

void connection::wake_writer() {
    if (writer_running_ || closed_ || (out_.empty() && !closing_)) return;
    writer_running_ = true;
    // Posted: everything the current handler queues goes out in one gather write.
    asio::post(ioc_, [self = shared_from_this()] {
        asio::co_spawn(
            self->ioc_, [self]() { return self->writer(); }, asio::detached);
    });
}

asio::awaitable<void> connection::writer() {
    auto self = shared_from_this();
    // Held between suspensions. While a write is out, other workers may append
    // to out_ (a deque: the elements the buffers point into do not move).
    state_lock lk(srv_.mu);
    std::vector<asio::const_buffer> bufs;
    while (!closed_) {
        if (out_.empty()) {
            if (closing_) break;
            // Drained: the queue's memory goes back and the writer ends (an
            // idle connection should cost hundreds of bytes, issue 4);
            // wake_writer() starts it for the next packet.
            out_.clear();
            writer_running_ = false;
            co_return;
        }
        std::size_t limit = out_.size();
        if (srv_.persist) {
            // Write-ahead: the packets queued now may acknowledge or reveal
            // state whose journal records are not durable yet; they wait for
            // the records this connection depends on (one batch, shared by
            // all connections). Packets queued later wait for their own turn,
            // and a connection that depends on nothing new is not held, so a
            // failing disk stalls only what it must (hardening S15).
            if (wal_ready_ == 0) {
                if (wal_count_ == 0) {
                    wal_target_ = wal_dep_;
                    wal_count_ = out_.size();
                }
                if (srv_.persist->durable() < wal_target_) {
                    // on_journal_durable() calls wake_writer().
                    srv_.persist_waiters.push_back(weak_from_this());
                    writer_running_ = false;
                    co_return;
                }
                wal_ready_ = wal_count_;
                wal_count_ = 0;
            }
            limit = wal_ready_;
        }
        bufs.clear();
        bufs.reserve(std::min(max_write_buffers, out_.size() * 4));
        std::size_t items = 0, bytes = 0;
        for (const auto& it : out_) {
            if (items == limit) break;
            if (bufs.size() + 4 > max_write_buffers || (items > 0 && bytes >= max_write_bytes)) break;
            if (it.tmpl) {
                const auto& b = it.tmpl->bytes;
                bufs.emplace_back(&it.head, 1);
                if (it.tmpl->has_pid) {
                    const std::size_t off = it.tmpl->pid_offset;
                    bufs.emplace_back(b.data() + 1, off - 1);
                    bufs.emplace_back(it.pid.data(), 2);
                    if (b.size() > off + 2) bufs.emplace_back(b.data() + off + 2, b.size() - off - 2);
                } else {
                    bufs.emplace_back(b.data() + 1, b.size() - 1);
                }
            } else {
                bufs.emplace_back(it.owned.data(), it.owned.size());
            }
            bytes += it.size();
            ++items;
        }
        lk.unlock();
        auto [ec, n] = co_await io_.write_gather(bufs);
        lk.lock();
        if (ec) break;
        srv_.bytes_sent.fetch_add(n, std::memory_order_relaxed);
        for (std::size_t i = 0; i < items && !out_.empty(); ++i) {
            out_bytes_ -= out_.front().size();
            out_.pop_front();
        }
        if (srv_.persist) wal_ready_ -= std::min(wal_ready_, items);
    }
    if (!closed_ && closing_) {
        // Flushed after a close request: FIN, or the TLS / WebSocket close when
        // no read is pending (the close deadline bounds the wait).
        if (reading_) {
            io_.send_fin();
        } else {
            lk.unlock();
            co_await io_.finish();
            lk.lock();
        }
    }
    close_now();
}

void connection::arm_deadline() {
    if (closed_) return;
    core::time_point t = core::time_point::max();
    if (closing_ || !session_->connected())
        t = deadline_;
    else if (auto d = session_->next_deadline())
        t = *d;
    srv_.schedule_deadline(*this, t);
}

void connection::on_deadline(core::time_point now) {
    if (closed_) return;
    if (closing_ || !session_->connected()) {
        // Closing: the peer does not read what we flush. Not connected: no
        // CONNECT in time; close and send nothing.
        if (now >= deadline_) {
            close_now();
            return;
        }
    } else {
        session_->on_tick(now);  // [MQTT-3.1.2-24] keepalive x1.5
        apply_actions();
    }
    arm_deadline();
}

void connection::kick(reason why, bool publish_will) {
    if (closed_) return;
    session_->disconnect(why, publish_will);
    apply_actions();
}

void connection::close_now() {
    if (closed_) return;
    if (!ioc_.get_executor().running_in_this_thread()) {
        // Another worker's handler (deadlines, shutdown): the socket is the owner's.
        asio::post(ioc_, [self = shared_from_this()] {
            const state_lock lk(self->srv_.mu);
            self->close_now();
        });
        return;
    }
    // Callers may hold only a raw pointer; forget() drops the map's reference.
    auto self = shared_from_this();
    if (!session_->closed()) {
        session_->on_connection_lost(core::clock::now());
        apply_actions();
    }
    closed_ = true;
    closing_ = true;
    abandoned_.store(true, std::memory_order_relaxed);
    io_.close();  // a pending readable-wait completes with operation_aborted
    if (srv_.congested.erase(id_) != 0) srv_.wake_paused();
    srv_.forget(id_);
}

}  // namespace mqtt::net::detail
