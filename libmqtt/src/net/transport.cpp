// SPDX-License-Identifier: MIT
#include "transport.hpp"

#include <sys/un.h>

#include <cctype>
#include <map>
#include <memory>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <mqtt/net/errors.hpp>

namespace mqtt::net::detail {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

[[noreturn]] void fail(net_error e, const std::string& what) {
    throw std::system_error(make_error_code(e), what);
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

// An X.509 name as RFC 2253 text ("CN=localhost,O=Example").
std::string name_text(const X509_NAME* n) {
    BIO* b = BIO_new(BIO_s_mem());
    if (b == nullptr) return "?";
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long len = BIO_get_mem_data(b, &data);
    std::string out(data != nullptr && len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string());
    BIO_free(b);
    return out;
}

// What a TLS failure message adds (cli-contract.md §2.2): each certificate the
// server presented (as far as verification got), SNI, ALPN and the version floor.
std::string tls_failure_detail(const client_options& o, const std::string& name,
                               const std::map<int, std::string>& presented) {
    std::string d;
    for (const auto& [depth, text] : presented) d += "; certificate " + std::to_string(depth) + ": " + text;
    d += is_ip_literal(name) ? "; SNI none (IP address)" : "; SNI '" + name + "'";
    d += "; ALPN ";
    if (o.tls.alpn.empty()) d += "none";
    for (std::size_t i = 0; i < o.tls.alpn.size(); ++i) d += (i ? "," : "") + o.tls.alpn[i];
    d += "; minimum version " + (o.tls.min_version.empty() ? std::string("tlsv1.2") : o.tls.min_version);
    return d;
}

std::string endpoint_text(const client_options& o) {
    const bool v6 = o.host.find(':') != std::string::npos;
    return (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

// Endpoints that need no resolver: an IP literal, or "localhost", which names
// the loopback addresses (RFC 6761 §6.3; IPv4 first, where brokers listen by
// default). Asio's async_resolve runs getaddrinfo on a thread it starts, which
// is a good part of a short `mq pub`'s run time.
std::vector<tcp::endpoint> literal_endpoints(const std::string& host, std::uint16_t port) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(host, ec);
    if (!ec) return {tcp::endpoint(addr, port)};
    std::string lower = host;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "localhost" || lower == "localhost.")
        return {tcp::endpoint(asio::ip::address_v4::loopback(), port), tcp::endpoint(asio::ip::address_v6::loopback(), port)};
    return {};
}

}  // namespace

transport::transport(asio::any_io_executor ex) : stream_(std::in_place_index<0>, ex) {}

transport::~transport() = default;

transport::extras& transport::extra() {
    if (!extra_) extra_ = std::make_unique<extras>();
    return *extra_;
}

const std::optional<std::string>& transport::peer_common_name() const noexcept {
    static const std::optional<std::string> none;
    return extra_ ? extra_->peer_cn : none;
}

tcp::socket& transport::lowest() noexcept {
    switch (stream_.index()) {
        case 0: return std::get<0>(stream_);
        case 1: return std::get<1>(stream_)->next_layer();
        case 2: return std::get<2>(stream_).next_layer();
        default: return std::get<3>(stream_).next_layer().next_layer();
    }
}

template <class F> decltype(auto) transport::with_socket(F&& f) noexcept {
    if (auto* u = std::get_if<4>(&stream_)) return f(*u);
    return f(lowest());
}

bool transport::is_open() const noexcept {
    return const_cast<transport*>(this)->with_socket([](auto& s) { return s.is_open(); });
}

void transport::close() noexcept {
    if (resolver_) resolver_->cancel();
    with_socket([](auto& s) {
        boost::system::error_code ec;
        s.cancel(ec);
        s.close(ec);
    });
}

asio::awaitable<void> transport::connect_unix(local_socket& s, const client_options& o) {
    const std::string where = "unix:" + o.unix_path;
    // sun_path is small (108 bytes on Linux); Asio would report a vague error.
    if (o.unix_path.empty() || o.unix_path.size() >= sizeof(sockaddr_un::sun_path))
        fail(net_error::connect_failed, "cannot connect to " + where + ": path empty or too long");
    auto [ec] = co_await s.async_connect(asio::local::stream_protocol::endpoint(o.unix_path), as_tuple(use_awaitable));
    if (!ec) co_return;
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
        fail(net_error::connect_timeout, "connecting to " + where + " timed out");
    fail(net_error::connect_failed, "cannot connect to " + where + ": " + ec.message());
}

asio::awaitable<void> transport::connect_tcp(tcp::socket& s, const client_options& o) {
    std::vector<tcp::endpoint> endpoints = literal_endpoints(o.host, o.port);
    if (endpoints.empty()) {
        resolver_ = std::make_unique<tcp::resolver>(s.get_executor());
        auto [rec, results] =
            co_await resolver_->async_resolve(o.host, std::to_string(o.port), as_tuple(use_awaitable));
        if (rec) {
            if (rec == asio::error::operation_aborted)
                fail(net_error::connect_timeout, "resolving '" + o.host + "' timed out");
            fail(net_error::resolve_failed, "cannot resolve '" + o.host + "': " + rec.message());
        }
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    boost::system::error_code last = asio::error::host_not_found;
    for (const auto& ep : endpoints) {
        boost::system::error_code ec;
        if (s.is_open()) s.close(ec);
        s.open(ep.protocol(), ec);
        if (ec) {
            last = ec;
            continue;
        }
        if (!o.bind_address.empty()) {
            const auto addr = asio::ip::make_address(o.bind_address, ec);
            if (!ec) s.bind(tcp::endpoint(addr, 0), ec);
            if (ec) fail(net_error::connect_failed, "cannot bind to '" + o.bind_address + "': " + ec.message());
        }
        auto [cec] = co_await s.async_connect(ep, as_tuple(use_awaitable));
        if (!cec) {
            if (o.tcp_nodelay) s.set_option(tcp::no_delay(true), ec);  // writer batching coalesces
            co_return;
        }
        last = cec;
        if (cec == asio::error::operation_aborted) break;
    }
    if (last == asio::error::operation_aborted || last == asio::error::bad_descriptor)
        fail(net_error::connect_timeout, "connecting to " + endpoint_text(o) + " timed out");
    fail(net_error::connect_failed, "cannot connect to " + endpoint_text(o) + ": " + last.message());
}

asio::awaitable<void> transport::tls_handshake(tls_stream& s, const client_options& o) {
    const std::string& name = o.tls.server_name.empty() ? o.host : o.tls.server_name;
    // SNI carries names only, never IP literals (RFC 6066 section 3).
    if (!is_ip_literal(name)) SSL_set_tlsext_host_name(s.native_handle(), name.c_str());
    // Subject and issuer per chain depth, as the verify callback saw them.
    auto presented = std::make_shared<std::map<int, std::string>>();
    if (!o.tls.insecure) {
        s.set_verify_mode(ssl::verify_peer);
        s.set_verify_callback([this, name, presented](bool preverified, ssl::verify_context& vctx) {
            X509_STORE_CTX* ctx = vctx.native_handle();
            if (const X509* cert = X509_STORE_CTX_get_current_cert(ctx)) {
                (*presented)[X509_STORE_CTX_get_error_depth(ctx)] = "subject '" + name_text(X509_get_subject_name(cert)) +
                                                                    "', issuer '" +
                                                                    name_text(X509_get_issuer_name(cert)) + "'";
            }
            if (!preverified) {
                if (extra().verify_error.empty()) {
                    const int err = X509_STORE_CTX_get_error(ctx);
                    extra().verify_error = std::string(X509_verify_cert_error_string(err)) + " (depth " +
                                    std::to_string(X509_STORE_CTX_get_error_depth(ctx)) + ")";
                }
                return false;
            }
            if (X509_STORE_CTX_get_error_depth(ctx) != 0) return true;
            if (!ssl::host_name_verification(name)(preverified, vctx)) {
                if (extra().verify_error.empty())
                    extra().verify_error = "certificate does not match host name '" + name + "'";
                return false;
            }
            return true;
        });
    } else {
        s.set_verify_mode(ssl::verify_none);
    }
    auto [ec] = co_await s.async_handshake(ssl::stream_base::client, as_tuple(use_awaitable));
    if (!ec) co_return;
    if (ec == asio::error::operation_aborted) fail(net_error::connect_timeout, "TLS handshake with " + endpoint_text(o) + " timed out");
    const std::string detail = tls_failure_detail(o, name, *presented);
    if (extra_ && !extra_->verify_error.empty())
        fail(net_error::tls_verify,
             "TLS certificate verification failed for '" + name + "': " + extra_->verify_error + detail);
    fail(net_error::tls_handshake, "TLS handshake with " + endpoint_text(o) + " failed: " + ec.message() + detail);
}

asio::awaitable<void> transport::open(const client_options& o) {
    // Copied before emplace() replaces the socket it belongs to.
    const asio::any_io_executor ex = with_socket([](auto& s) { return s.get_executor(); });
    if (!o.unix_path.empty()) {
        if (o.transport != transport_kind::tcp || !o.bind_address.empty())
            fail(net_error::connect_failed, "a Unix socket carries plain MQTT only (no TLS, WebSocket or bind address)");
        co_await connect_unix(stream_.emplace<4>(ex), o);
        co_return;
    }
    const bool tls = o.transport == transport_kind::tls || o.transport == transport_kind::wss;
    if (tls) tls_ctx_ = make_client_tls_context(o.tls);
    switch (o.transport) {
        case transport_kind::tcp: stream_.emplace<0>(ex); break;
        case transport_kind::tls: stream_.emplace<1>(std::make_unique<tls_stream>(ex, *tls_ctx_)); break;
        case transport_kind::ws: stream_.emplace<2>(ex); break;
        case transport_kind::wss: stream_.emplace<3>(ex, *tls_ctx_); break;
    }
    co_await connect_tcp(lowest(), o);
    if (stream_.index() == 1) co_await tls_handshake(this->tls(), o);
    if (auto* w = std::get_if<3>(&stream_)) co_await tls_handshake(w->next_layer(), o);
    if (stream_.index() < 2) co_return;

    // WebSocket upgrade: binary frames, subprotocol "mqtt" (MQTT 5.0 section 6).
    const std::string host_header = endpoint_text(o);
    const auto decorate = [](websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "mqtt");
    };
    websocket::response_type res;
    boost::system::error_code ec;
    const std::string path = o.ws_path.empty() ? "/" : o.ws_path;
    if (auto* w = std::get_if<2>(&stream_)) {
        w->set_option(websocket::stream_base::decorator(decorate));
        w->binary(true);
        w->read_message_max(static_cast<std::uint64_t>(o.max_packet_size) + 8);
        auto [hec] = co_await w->async_handshake(res, host_header, path, as_tuple(use_awaitable));
        ec = hec;
    } else if (auto* ws = std::get_if<3>(&stream_)) {
        ws->set_option(websocket::stream_base::decorator(decorate));
        ws->binary(true);
        ws->read_message_max(static_cast<std::uint64_t>(o.max_packet_size) + 8);
        auto [hec] = co_await ws->async_handshake(res, host_header, path, as_tuple(use_awaitable));
        ec = hec;
    }
    if (ec) {
        if (ec == asio::error::operation_aborted) fail(net_error::connect_timeout, "WebSocket upgrade timed out");
        fail(net_error::ws_upgrade, "WebSocket upgrade to " + host_header + path + " failed: " + ec.message() +
                                        (res.result_int() ? " (HTTP " + std::to_string(res.result_int()) + ")" : ""));
    }
    if (res[beast::http::field::sec_websocket_protocol] != "mqtt")
        fail(net_error::ws_upgrade, "WebSocket server did not select subprotocol 'mqtt'");
}

asio::awaitable<io_result> transport::read_some(asio::mutable_buffer b) {
    boost::system::error_code ec;
    std::size_t n = 0;
    switch (stream_.index()) {
        case 0: std::tie(ec, n) = co_await std::get<0>(stream_).async_read_some(b, as_tuple(use_awaitable)); break;
        case 1: std::tie(ec, n) = co_await tls().async_read_some(b, as_tuple(use_awaitable)); break;
        case 2: std::tie(ec, n) = co_await std::get<2>(stream_).async_read_some(b, as_tuple(use_awaitable)); break;
        case 4: std::tie(ec, n) = co_await std::get<4>(stream_).async_read_some(b, as_tuple(use_awaitable)); break;
        default: std::tie(ec, n) = co_await std::get<3>(stream_).async_read_some(b, as_tuple(use_awaitable)); break;
    }
    co_return io_result{ec, n};
}

bool transport::can_wait_readable() const noexcept {
    // TLS and WebSocket layers may hold decrypted or framed bytes of their own
    // that the socket's readiness does not show.
    return stream_.index() == 0 || stream_.index() == 4;
}

bool transport::readable_now() noexcept {
    boost::system::error_code ec;
    std::size_t n = 0;
    if (auto* t = std::get_if<0>(&stream_))
        n = t->available(ec);
    else if (auto* u = std::get_if<4>(&stream_))
        n = u->available(ec);
    else
        return true;  // TLS / WebSocket: read_some() decides
    return n > 0 || ec;
}

asio::awaitable<io_result> transport::write(asio::const_buffer b) {
    boost::system::error_code ec;
    std::size_t n = 0;
    switch (stream_.index()) {
        case 0: std::tie(ec, n) = co_await asio::async_write(std::get<0>(stream_), b, as_tuple(use_awaitable)); break;
        case 1: std::tie(ec, n) = co_await asio::async_write(tls(), b, as_tuple(use_awaitable)); break;
        case 2: std::tie(ec, n) = co_await std::get<2>(stream_).async_write(b, as_tuple(use_awaitable)); break;
        case 4: std::tie(ec, n) = co_await asio::async_write(std::get<4>(stream_), b, as_tuple(use_awaitable)); break;
        default: std::tie(ec, n) = co_await std::get<3>(stream_).async_write(b, as_tuple(use_awaitable)); break;
    }
    co_return io_result{ec, n};
}

asio::awaitable<void> transport::shutdown() {
    boost::system::error_code ec;
    switch (stream_.index()) {
        case 0:
        case 4: break;
        case 1: std::tie(ec) = co_await tls().async_shutdown(as_tuple(use_awaitable)); break;
        case 2:
            std::tie(ec) = co_await std::get<2>(stream_).async_close(websocket::close_code::normal, as_tuple(use_awaitable));
            break;
        default:
            std::tie(ec) = co_await std::get<3>(stream_).async_close(websocket::close_code::normal, as_tuple(use_awaitable));
            break;
    }
    with_socket([](auto& s) {
        boost::system::error_code ignored;
        s.shutdown(asio::socket_base::shutdown_both, ignored);
        s.close(ignored);
    });
}

}  // namespace mqtt::net::detail
