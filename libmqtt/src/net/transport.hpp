// SPDX-License-Identifier: MIT
// Private: the client's byte stream (TCP, TLS, WebSocket over either, or a Unix
// domain socket) behind one
// read/write/close surface, so the MQTT code above never branches on transport.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <mqtt/net/client.hpp>
#include <mqtt/net/server.hpp>

namespace mqtt::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;
using ws_stream = boost::beast::websocket::stream<tcp::socket>;
using wss_stream = boost::beast::websocket::stream<tls_stream>;
using local_socket = asio::local::stream_protocol::socket;

using io_result = std::pair<boost::system::error_code, std::size_t>;

/// Builds the TLS context for `o`: trust (CA file/dir or the OS store), client
/// certificate, minimum version, ciphers, ALPN, verification mode. Throws
/// std::system_error naming the file that could not be read.
std::shared_ptr<asio::ssl::context> make_client_tls_context(const tls_options& o);

/// Server TLS context (TLS 1.2 floor, certificate chain and key, optional
/// client-certificate verification). Throws config_error naming the file.
std::shared_ptr<asio::ssl::context> make_server_tls_context(const server_tls_options& o);

/// What the broker's side of a stream needs for its handshakes.
struct accept_options {
    std::string ws_path;                  // empty: any; else other paths get HTTP 404
    std::uint64_t max_message = 1 << 20;  // WebSocket message limit (close 1009 above)
};

class transport {
public:
    explicit transport(asio::any_io_executor ex);
    /// Broker side: an accepted socket of a listener of `kind`; `tls_ctx` is
    /// required for tls and wss. Call accept() before reading.
    transport(tcp::socket accepted, transport_kind kind, std::shared_ptr<asio::ssl::context> tls_ctx);
    ~transport();
    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    /// Resolves, connects (TCP_NODELAY, optional bind address) and runs the TLS
    /// and WebSocket handshakes; with `o.unix_path`, connects to that Unix
    /// domain socket instead. Throws std::system_error with a net_error
    /// (resolve_failed, connect_failed, tls_handshake, tls_verify, ws_upgrade);
    /// the OS / OpenSSL detail is in what(). close() from elsewhere aborts it.
    asio::awaitable<void> open(const client_options& o);

    /// Broker side: TLS handshake, then the WebSocket upgrade (path checked,
    /// subprotocol "mqtt" required and selected [MQTT-6.0.0-3]). On success the
    /// verified client certificate's subject CN, if any, is in peer_common_name().
    asio::awaitable<boost::system::error_code> accept(const accept_options& o);
    const std::optional<std::string>& peer_common_name() const noexcept;
    /// Writes the buffers in order: one WebSocket message on ws/wss, one copy
    /// into a contiguous buffer on TLS (one record per buffer otherwise).
    asio::awaitable<io_result> write_gather(const std::vector<asio::const_buffer>& bufs);
    /// True when the last WebSocket message read was a text frame (hardening W02).
    bool got_text() const noexcept;
    /// WebSocket close with `code` (ws/wss only), then the socket.
    asio::awaitable<void> close_ws(std::uint16_t code);
    /// Sends FIN (TCP) or the transport's orderly close; errors ignored.
    asio::awaitable<void> finish();
    /// TCP FIN only (another operation may be pending on the TLS/WS layer).
    void send_fin() noexcept;

    asio::awaitable<io_result> read_some(asio::mutable_buffer b);
    /// Plain TCP and Unix sockets: waits until bytes can be read, so an idle
    /// reader needs no buffer and no coroutine. False for TLS and WebSockets
    /// (their layers buffer bytes the socket does not show); read_some() is
    /// the way there.
    bool can_wait_readable() const noexcept;
    /// Bytes (or an error, or EOF) are ready in the kernel now. Asio's
    /// async_wait is not speculative: under edge-triggered epoll a wait started
    /// after the edge was consumed would sleep on bytes that are already
    /// there, so ask this first (on the connection's only thread, nothing
    /// polls in between).
    bool readable_now() noexcept;
    /// Calls `h(error_code)` once the socket is readable (can_wait_readable()
    /// only). A plain handler: the pending operation is Asio's small wait op,
    /// not a coroutine frame.
    template <class Handler>
    void async_wait_readable(Handler&& h) {
        if (auto* t = std::get_if<0>(&stream_))
            t->async_wait(tcp::socket::wait_read, std::forward<Handler>(h));
        else
            std::get<4>(stream_).async_wait(local_socket::wait_read, std::forward<Handler>(h));
    }
    /// Writes all of `b` (one WebSocket binary message on ws/wss).
    asio::awaitable<io_result> write(asio::const_buffer b);
    /// Orderly end: TLS close_notify / WebSocket close, then the socket. Errors ignored.
    asio::awaitable<void> shutdown();
    /// Cancels every pending operation and closes the socket now.
    void close() noexcept;
    bool is_open() const noexcept;

private:
    /// The socket under every layer: TCP for alternatives 0-3.
    tcp::socket& lowest() noexcept;
    /// The TLS stream of alternative 1.
    tls_stream& tls() noexcept { return *std::get<1>(stream_); }
    /// The rarely used state, made on first use.
    struct extras {
        std::string verify_error;  // first certificate problem seen by the verify callback
        std::optional<std::string> peer_cn;
        std::vector<std::uint8_t> scratch;  // TLS gather writes
    };
    extras& extra();
    /// Calls `f` with the bottom socket, TCP or Unix.
    template <class F> decltype(auto) with_socket(F&& f) noexcept;
    asio::awaitable<void> connect_tcp(tcp::socket& s, const client_options& o);
    asio::awaitable<void> connect_unix(local_socket& s, const client_options& o);
    asio::awaitable<void> tls_handshake(tls_stream& s, const client_options& o);

    // The broker holds one transport per connection, mostly idle TCP (issue
    // 4, memory per connection): the TLS stream (~440 bytes), the resolver
    // (client only, 80 bytes plus its state) and the extras live on the heap
    // only where used, so a TCP transport is the socket and three pointers.
    std::shared_ptr<asio::ssl::context> tls_ctx_;
    std::variant<tcp::socket, std::unique_ptr<tls_stream>, ws_stream, wss_stream, local_socket> stream_;
    std::unique_ptr<tcp::resolver> resolver_;  // while open() resolves a name
    std::unique_ptr<extras> extra_;
};

}  // namespace mqtt::net::detail
