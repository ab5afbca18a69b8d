// SPDX-License-Identifier: MIT
// bench_connection's state, shared by its I/O half (bench_connection.cpp:
// connect, reads, writes, timers) and its protocol half
// (bench_connection_protocol.cpp: CONNECT, acks, incoming packets).
#pragma once
#include <map>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mqtt/codec/decode.hpp>
#include <mqtt/net/bench_connection.hpp>

#include "bench_loop_impl.hpp"
#include "transport.hpp"

namespace mqtt::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace bench_detail {

// The read buffer starts small and doubles while reads fill it, up to
// read_chunk: a subscriber under load reads in big batches, while an idle
// connection (10,000 of them in `bench conn`) costs a few KiB, not 256 KiB of
// zeroed memory each (which also made every connect take ~0.5 ms of memset).
constexpr std::size_t read_chunk = 256 * 1024;
constexpr std::size_t initial_read = 4 * 1024;

inline void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

inline std::uint16_t get_u16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace bench_detail

struct bench_connection::impl : std::enable_shared_from_this<impl> {
    impl(bench_loop& l, bench_connection_options o, bench_handlers h)
        : io(l.get().io),
          socket(io),
          resolver(io),
          keepalive_timer(io),
          coalesce_timer(io),
          opts(std::move(o)),
          handlers(std::move(h)) {
        in.resize(bench_detail::initial_read);
    }

    asio::io_context& io;
    tcp::socket socket;
    // TLS / WebSocket: the client's transport (coroutines); null for plain TCP.
    std::unique_ptr<detail::transport> tr;
    tcp::resolver resolver;
    asio::steady_timer keepalive_timer;
    // read_coalesce: while the low-water mark is raised, this timer makes sure that
    // less than read_coalesce_bytes (the last packets of a run, a slow stream) waits at
    // most about two periods: a period without a read lowers the mark to 1 byte.
    asio::steady_timer coalesce_timer;
    bool lowat_raised = false, coalesce_armed = false;
    std::uint64_t reads_since_arm = 0;
    bench_connection_options opts;
    bench_handlers handlers;

    // Output: publishes are appended to `pending`; one write of `writing` is in
    // flight at a time, and the two swap when it completes (batching for free).
    std::vector<std::uint8_t> pending, writing;
    bool write_in_flight = false;
    bool flush_posted = false;
    bool wrote_since_tick = false;
    bool disconnect_after_flush = false;
    // True while on_read dispatches frames: output they queue (acks, publishes from
    // on_ack) is written when the batch ends instead of through a posted flush.
    bool in_handler = false;

    std::vector<std::uint8_t> in;
    std::size_t in_len = 0;
    std::uint64_t written_total = 0, read_total = 0;
    bool last_read_full = false;  // the last read filled the free space: grow

    bool open = false;
    bool is_connected = false;
    bool closed = false;
    std::function<void(std::error_code, const bench_connack&)> connect_done;
    std::map<std::uint16_t, std::function<void(std::error_code, const std::vector<reason>&)>> sub_done;

    std::vector<std::uint8_t> in_use;  // packet ids of outgoing QoS 1/2 messages in flight
    std::uint16_t next_id = 1;
    std::size_t inflight = 0;
    mqtt::limits lim;

    std::uint16_t alloc_id();

    void release_id(std::uint16_t id);

    void fail(std::error_code ec);

    void connect_to(const tcp::endpoint& ep);

    // TLS / WebSocket: connect, handshakes, then CONNECT as for TCP.
    void open_transport();

    void schedule_flush();

    // Plain TCP first tries a direct non-blocking write: when the kernel takes it
    // all (acks, windowed publishes) no completion handler runs, so the loop makes
    // no extra pass through Asio's scheduler (each posted completion cost an
    // epoll_wait(0) and a handler dispatch per message at QoS 1). Only the rest of
    // a partial write goes through async_write.
    void start_write();

    void on_written(const boost::system::error_code& ec);

    // Everything queued so far was taken by the kernel.
    void after_flush();

    void start_read();

    void on_read(const boost::system::error_code& ec, std::size_t n);

    void raise_lowat();

    void set_lowat(int bytes);

    void arm_coalesce();

    void ack(std::uint8_t first, std::uint16_t id);

    // Returns false when the connection was closed by the frame.
    bool handle(const frame_view& f);

    bool protocol_error();

    bool handle_publish(const frame_view& f);

    bool handle_other(const frame_view& f);

    bool on_connack(const connack& ca);

    void arm_keepalive(std::uint16_t secs);

    void send_connect();
};

}  // namespace mqtt::net
