// SPDX-License-Identifier: MIT
// bench_connection's I/O half: connect, the direct and asynchronous write
// paths, batched reads with SO_RCVLOWAT coalescing, keep alive. The packets
// themselves are handled in bench_connection_protocol.cpp.
#include <algorithm>
#include <cstring>

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/varint.hpp>
#include <mqtt/net/errors.hpp>

#include "bench_connection_impl.hpp"

namespace mqtt::net {

using bench_detail::put_u16;
using bench_detail::read_chunk;

std::uint16_t bench_connection::impl::alloc_id() {
    // Allocated at the first QoS 1/2 publish: most connections never need it.
    if (in_use.empty()) in_use.assign(65536, 0);
    // Callers keep inflight below 65535, so a free id exists.
    while (in_use[next_id] != 0 || next_id == 0) next_id = static_cast<std::uint16_t>(next_id + 1);
    const std::uint16_t id = next_id;
    next_id = static_cast<std::uint16_t>(next_id + 1);
    in_use[id] = 1;
    ++inflight;
    return id;
}

void bench_connection::impl::release_id(std::uint16_t id) {
    if (id < in_use.size() && in_use[id] != 0) {
        in_use[id] = 0;
        --inflight;
    }
}

void bench_connection::impl::fail(std::error_code ec) {
    if (closed) return;
    closed = true;
    is_connected = false;
    boost::system::error_code ignored;
    socket.close(ignored);
    if (tr) tr->close();
    keepalive_timer.cancel();
    coalesce_timer.cancel();
    resolver.cancel();
    if (connect_done) {
        auto done = std::move(connect_done);
        connect_done = nullptr;
        done(ec, bench_connack{});
    }
    if (handlers.on_closed) handlers.on_closed(ec);
}

void bench_connection::impl::connect_to(const tcp::endpoint& ep) {
    boost::system::error_code oec;
    socket.open(ep.protocol(), oec);
    if (!oec && !opts.bind_address.empty()) {
        const auto addr = asio::ip::make_address(opts.bind_address, oec);
        if (!oec) socket.bind(tcp::endpoint(addr, 0), oec);
    }
    if (oec) {
        fail(make_error_code(net_error::connect_failed));
        return;
    }
    socket.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& cec) {
        if (self->closed) return;
        if (cec) {
            self->fail(make_error_code(net_error::connect_failed));
            return;
        }
        boost::system::error_code ignored;
        self->socket.set_option(tcp::no_delay(self->opts.nodelay), ignored);
        // start_write's direct write_some must return would_block, not wait.
        self->socket.non_blocking(true, ignored);
        if (self->opts.read_coalesce.count() > 0) self->raise_lowat();
        self->open = true;
        self->send_connect();
    });
}

void bench_connection::impl::open_transport() {
    tr = std::make_unique<detail::transport>(io.get_executor());
    client_options co;
    co.host = opts.host;
    co.port = opts.port;
    co.transport = opts.transport;
    co.ws_path = opts.ws_path;
    co.tls = opts.tls;
    co.bind_address = opts.bind_address;
    co.tcp_nodelay = opts.nodelay;
    asio::co_spawn(
        io, [self = shared_from_this(), co]() -> asio::awaitable<void> { co_await self->tr->open(co); },
        [self = shared_from_this()](std::exception_ptr e) {
            if (self->closed) return;
            if (e) {
                std::error_code ec = make_error_code(net_error::connect_failed);
                try {
                    std::rethrow_exception(e);
                } catch (const std::system_error& se) {
                    ec = se.code();
                } catch (...) {
                }
                self->fail(ec);
                return;
            }
            self->open = true;
            self->send_connect();
        });
}

void bench_connection::impl::schedule_flush() {
    if (flush_posted || write_in_flight || in_handler) return;
    flush_posted = true;
    asio::post(io, [self = shared_from_this()] {
        self->flush_posted = false;
        self->start_write();
    });
}

void bench_connection::impl::start_write() {
    if (write_in_flight || closed || pending.empty()) return;
    wrote_since_tick = true;
    if (tr) {
        std::swap(pending, writing);
        write_in_flight = true;
        asio::co_spawn(io, tr->write(asio::buffer(writing)),
                       [self = shared_from_this()](std::exception_ptr e, detail::io_result r) {
                           if (e) r.first = asio::error::operation_aborted;
                           self->written_total += r.second;
                           self->on_written(r.first);
                       });
        return;
    }
    boost::system::error_code ec;
    std::size_t n = socket.write_some(asio::buffer(pending), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        n = 0;
    }
    if (ec) {
        fail(make_error_code(net_error::connection_lost));
        return;
    }
    written_total += n;
    if (n == pending.size()) {
        pending.clear();
        after_flush();
        return;
    }
    writing.assign(pending.begin() + static_cast<std::ptrdiff_t>(n), pending.end());
    pending.clear();
    write_in_flight = true;
    asio::async_write(socket, asio::buffer(writing),
                      [self = shared_from_this()](const boost::system::error_code& wec, std::size_t m) {
                          self->written_total += m;
                          self->on_written(wec);
                      });
}

void bench_connection::impl::on_written(const boost::system::error_code& ec) {
    write_in_flight = false;
    writing.clear();
    if (ec) {
        fail(ec == asio::error::operation_aborted ? make_error_code(net_error::closed)
                                                  : make_error_code(net_error::connection_lost));
        return;
    }
    if (!pending.empty()) {
        start_write();  // calls after_flush once everything is out
        if (closed || !write_in_flight) return;
    } else if (disconnect_after_flush) {
        after_flush();
        return;
    }
    if (pending.size() < opts.max_unsent && handlers.on_writable && is_connected) handlers.on_writable();
}

void bench_connection::impl::after_flush() {
    if (disconnect_after_flush) {
        boost::system::error_code ignored;
        if (tr) {
            tr->send_fin();
        } else {
            socket.shutdown(tcp::socket::shutdown_send, ignored);
        }
        return;  // the broker closes; the reader sees EOF
    }
    // Publishes queued by on_writable go through a posted flush (in_handler is
    // false here), so a publisher that the kernel keeps up with still yields
    // to the loop's reads between batches.
    if (handlers.on_writable && is_connected) handlers.on_writable();
}

void bench_connection::impl::start_read() {
    // Grow while reads come back full; a frame larger than the buffer
    // grows it too (next_frame has checked its size against the limit).
    if ((last_read_full && in.size() < read_chunk) || in.size() - in_len < in.size() / 2)
        in.resize(in.size() * 2);
    if (tr) {
        asio::co_spawn(io, tr->read_some(asio::buffer(in.data() + in_len, in.size() - in_len)),
                       [self = shared_from_this()](std::exception_ptr e, detail::io_result r) {
                           if (e) r.first = asio::error::operation_aborted;
                           self->on_read(r.first, r.second);
                       });
        return;
    }
    socket.async_read_some(asio::buffer(in.data() + in_len, in.size() - in_len),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_read(ec, n); });
    arm_coalesce();
}

void bench_connection::impl::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (ec) {
        fail(disconnect_after_flush || closed ? make_error_code(net_error::closed)
                                              : make_error_code(net_error::connection_lost));
        return;
    }
    last_read_full = n == in.size() - in_len;
    in_len += n;
    read_total += n;
    std::size_t off = 0;
    in_handler = true;
    while (!closed) {
        std::error_code fec;
        const auto frame =
            next_frame(std::span<const std::uint8_t>(in.data() + off, in_len - off), lim, fec);
        if (fec) {
            fail(fec);
            return;
        }
        if (!frame) break;
        if (!handle(*frame)) return;
        off += frame->total;
    }
    in_handler = false;
    if (closed) return;
    // Keep the partial frame at the front of the buffer.
    if (off > 0) {
        std::memmove(in.data(), in.data() + off, in_len - off);
        in_len -= off;
    }
    start_write();  // the acks and publishes of this batch, in one write
    if (closed) return;
    ++reads_since_arm;
    if (opts.read_coalesce.count() > 0 && !lowat_raised && !tr) raise_lowat();
    start_read();
}

void bench_connection::impl::raise_lowat() {
    // Below a kernel cap of half the receive buffer; 256 KiB is far below it.
    set_lowat(static_cast<int>(std::clamp<std::size_t>(opts.read_coalesce_bytes, 1, 256 * 1024)));
}

void bench_connection::impl::set_lowat(int bytes) {
    boost::system::error_code ignored;
    // Lowering it makes the kernel signal data already queued (tcp_set_rcvlowat).
    socket.set_option(asio::socket_base::receive_low_watermark(bytes), ignored);
    lowat_raised = bytes > 1;
}

void bench_connection::impl::arm_coalesce() {
    if (coalesce_armed || !lowat_raised || closed) return;
    coalesce_armed = true;
    reads_since_arm = 0;
    coalesce_timer.expires_after(opts.read_coalesce);
    coalesce_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        self->coalesce_armed = false;
        if (ec || self->closed) return;
        if (self->reads_since_arm > 0) {
            self->arm_coalesce();  // data is flowing in full batches
        } else if (self->lowat_raised) {
            self->set_lowat(1);  // on_read raises it again; idle connections stop here
        }
    });
}

void bench_connection::impl::arm_keepalive(std::uint16_t secs) {
    // Half the keep alive: PINGREQ only when nothing else was written meanwhile.
    keepalive_timer.expires_after(std::chrono::milliseconds(secs * 500));
    keepalive_timer.async_wait([self = shared_from_this(), secs](const boost::system::error_code& ec) {
        if (ec || self->closed) return;
        if (!self->wrote_since_tick) {
            self->pending.push_back(0xC0);
            self->pending.push_back(0x00);
            self->schedule_flush();
        }
        self->wrote_since_tick = false;
        self->arm_keepalive(secs);
    });
}


bench_connection::bench_connection(bench_loop& loop, bench_connection_options opts, bench_handlers handlers)
    : impl_(std::make_shared<impl>(loop, std::move(opts), std::move(handlers))) {}

bench_connection::~bench_connection() {
    // Pending handlers keep the impl alive; the owner's callbacks must not run any more.
    impl_->handlers = {};
    impl_->connect_done = nullptr;
    impl_->sub_done.clear();
    impl_->fail(make_error_code(net_error::closed));
}

void bench_connection::connect(std::function<void(std::error_code, const bench_connack&)> done) {
    auto self = impl_;
    self->connect_done = std::move(done);
    if (self->opts.transport != transport_kind::tcp) {
        asio::post(self->io, [self] {
            if (!self->closed) self->open_transport();
        });
        return;
    }
    // An IP literal needs no resolver: async_resolve would hop to Asio's
    // resolver thread and run getaddrinfo for every one of thousands of clients.
    boost::system::error_code aec;
    const auto literal = asio::ip::make_address(self->opts.host, aec);
    if (!aec) {
        asio::post(self->io, [self, ep = tcp::endpoint(literal, self->opts.port)] {
            if (!self->closed) self->connect_to(ep);
        });
        return;
    }
    self->resolver.async_resolve(
        self->opts.host, std::to_string(self->opts.port),
        [self](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
            if (self->closed) return;
            if (ec) {
                self->fail(make_error_code(net_error::resolve_failed));
                return;
            }
            self->connect_to(results.begin()->endpoint());
        });
}

void bench_connection::subscribe(const std::string& filter, qos max_qos,
                                 std::function<void(std::error_code, const std::vector<reason>&)> done) {
    mqtt::subscribe s;
    s.packet_id = impl_->alloc_id();
    impl_->release_id(s.packet_id);  // SUBACK does not use the publish window
    s.entries.push_back(subscription{filter, max_qos});
    impl_->sub_done[s.packet_id] = std::move(done);
    if (auto ec = encode(packet{std::move(s)}, impl_->opts.version, impl_->pending)) {
        auto cb = std::move(impl_->sub_done.begin()->second);
        impl_->sub_done.clear();
        cb(ec, {});
        return;
    }
    impl_->schedule_flush();
}

std::uint16_t bench_connection::publish(std::string_view topic, std::span<const std::uint8_t> payload,
                                        qos level) {
    auto& m = *impl_;
    const bool v5 = m.opts.version == protocol_version::v5;
    const std::uint16_t id = level == qos::at_most_once ? 0 : m.alloc_id();
    const std::size_t remaining = 2 + topic.size() + (id != 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.size();
    auto& out = m.pending;
    out.push_back(static_cast<std::uint8_t>(0x30 | (static_cast<unsigned>(level) << 1)));
    encode_varint(static_cast<std::uint32_t>(remaining), out);
    put_u16(out, static_cast<std::uint16_t>(topic.size()));
    out.insert(out.end(), topic.begin(), topic.end());
    if (id != 0) put_u16(out, id);
    if (v5) out.push_back(0);  // empty property block
    out.insert(out.end(), payload.begin(), payload.end());
    m.schedule_flush();
    return id;
}

void bench_connection::coalesce_reads(std::chrono::microseconds period, std::size_t bytes) {
    auto& m = *impl_;
    m.opts.read_coalesce = period;
    m.opts.read_coalesce_bytes = bytes;
    if (m.closed || !m.open || m.tr) return;
    if (period.count() > 0) {
        m.raise_lowat();
        m.arm_coalesce();
    } else if (m.lowat_raised) {
        m.set_lowat(1);
    }
}

void bench_connection::disconnect() {
    auto& m = *impl_;
    if (m.closed || !m.open) {
        close();
        return;
    }
    m.pending.push_back(0xE0);
    m.pending.push_back(0x00);  // DISCONNECT, normal, no properties
    m.disconnect_after_flush = true;
    m.is_connected = false;
    m.schedule_flush();
}

void bench_connection::close() {
    impl_->fail(make_error_code(net_error::closed));
}

bool bench_connection::connected() const noexcept {
    return impl_->is_connected;
}

std::size_t bench_connection::unsent() const noexcept {
    return impl_->pending.size() + impl_->writing.size();
}

bool bench_connection::writable() const noexcept {
    return unsent() < impl_->opts.max_unsent;
}

std::size_t bench_connection::inflight() const noexcept {
    return impl_->inflight;
}

std::uint64_t bench_connection::bytes_written() const noexcept {
    return impl_->written_total;
}

std::uint64_t bench_connection::bytes_read() const noexcept {
    return impl_->read_total;
}

}  // namespace mqtt::net
