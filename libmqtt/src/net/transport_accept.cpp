// SPDX-License-Identifier: MIT
// The broker's side of transport: accepted sockets, TLS and WebSocket
// handshakes as the server, gather writes, closing codes.
#include "transport.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mqtt::net::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// The subject CN of a verified certificate, byte-exact; nullopt without one.
std::optional<std::string> common_name(X509* cert) {
    X509_NAME* subject = X509_get_subject_name(cert);
    if (!subject) return std::nullopt;
    const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx < 0) return std::nullopt;
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    if (!data) return std::nullopt;
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) return std::nullopt;
    std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

bool offers_mqtt(std::string_view list) {
    // Sec-WebSocket-Protocol is a comma-separated list of tokens (RFC 6455 section 11.3.4).
    while (!list.empty()) {
        const auto comma = list.find(',');
        auto tok = list.substr(0, comma);
        while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
        while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
        if (tok == "mqtt") return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

template <class Ws>
asio::awaitable<boost::system::error_code> ws_accept(Ws& ws, const accept_options& o) {
    beast::flat_buffer buf;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8 * 1024);
    auto [rec, n] = co_await http::async_read(ws.next_layer(), buf, parser, as_tuple(use_awaitable));
    (void)n;
    if (rec) co_return rec;
    const auto& req = parser.get();
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    http::status refusal = http::status::ok;
    if (!websocket::is_upgrade(req))
        refusal = http::status::upgrade_required;
    else if (!o.ws_path.empty() && target != o.ws_path)
        refusal = http::status::not_found;
    else if (!offers_mqtt(req[http::field::sec_websocket_protocol]))
        refusal = http::status::bad_request;  // [MQTT-6.0.0-3] the client must offer "mqtt"
    if (refusal != http::status::ok) {
        http::response<http::string_body> res{refusal, req.version()};
        res.set(http::field::connection, "close");
        res.body() = refusal == http::status::bad_request ? "subprotocol 'mqtt' required\n" : "";
        res.prepare_payload();
        (void)co_await http::async_write(ws.next_layer(), res, as_tuple(use_awaitable));
        co_return make_error_code(boost::system::errc::protocol_error);
    }
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::sec_websocket_protocol, "mqtt"); }));
    ws.binary(true);
    ws.read_message_max(o.max_message);  // hardening W04: close 1009 above it, nothing allocated
    auto [aec] = co_await ws.async_accept(req, as_tuple(use_awaitable));
    co_return aec;
}

}  // namespace

transport::transport(tcp::socket accepted, transport_kind kind, std::shared_ptr<ssl::context> tls_ctx)
    : tls_ctx_(std::move(tls_ctx)),
      stream_(std::in_place_index<0>, std::move(accepted)) {
    if (kind == transport_kind::tcp) return;
    tcp::socket s = std::move(std::get<0>(stream_));
    switch (kind) {
        case transport_kind::tls:
            stream_.emplace<1>(std::make_unique<tls_stream>(std::move(s), *tls_ctx_));
            break;
        case transport_kind::ws:
            stream_.emplace<2>(std::move(s));
            break;
        default:
            stream_.emplace<3>(std::move(s), *tls_ctx_);
            break;
    }
}

asio::awaitable<boost::system::error_code> transport::accept(const accept_options& o) {
    tls_stream* tls = nullptr;
    if (stream_.index() == 1) tls = &this->tls();
    if (auto* w = std::get_if<3>(&stream_)) tls = &w->next_layer();
    if (tls) {
        auto [ec] = co_await tls->async_handshake(ssl::stream_base::server, as_tuple(use_awaitable));
        if (ec) co_return ec;
        SSL* native = tls->native_handle();
        if (X509* cert = SSL_get1_peer_certificate(native)) {
            if (SSL_get_verify_result(native) == X509_V_OK) extra().peer_cn = common_name(cert);
            X509_free(cert);
        }
    }
    if (auto* w = std::get_if<2>(&stream_)) co_return co_await ws_accept(*w, o);
    if (auto* w = std::get_if<3>(&stream_)) co_return co_await ws_accept(*w, o);
    co_return boost::system::error_code{};
}

asio::awaitable<io_result> transport::write_gather(const std::vector<asio::const_buffer>& bufs) {
    boost::system::error_code ec;
    std::size_t n = 0;
    switch (stream_.index()) {
        case 0:
            std::tie(ec, n) = co_await asio::async_write(std::get<0>(stream_), bufs, as_tuple(use_awaitable));
            break;
        case 1: {
            // One copy so the batch becomes few TLS records instead of one per buffer.
            auto& scratch = extra().scratch;
            scratch.clear();
            for (const auto& b : bufs) {
                const auto* p = static_cast<const std::uint8_t*>(b.data());
                scratch.insert(scratch.end(), p, p + b.size());
            }
            std::tie(ec, n) = co_await asio::async_write(tls(), asio::buffer(scratch), as_tuple(use_awaitable));
            if (scratch.capacity() > 512 * 1024) std::vector<std::uint8_t>().swap(scratch);
            break;
        }
        case 2:
            std::tie(ec, n) = co_await std::get<2>(stream_).async_write(bufs, as_tuple(use_awaitable));
            break;
        default:
            std::tie(ec, n) = co_await std::get<3>(stream_).async_write(bufs, as_tuple(use_awaitable));
            break;
    }
    co_return io_result{ec, n};
}

bool transport::got_text() const noexcept {
    if (const auto* w = std::get_if<2>(&stream_)) return w->got_text();
    if (const auto* w = std::get_if<3>(&stream_)) return w->got_text();
    return false;
}

asio::awaitable<void> transport::close_ws(std::uint16_t code) {
    boost::system::error_code ec;
    const websocket::close_reason why(code);
    if (auto* w = std::get_if<2>(&stream_))
        std::tie(ec) = co_await w->async_close(why, as_tuple(use_awaitable));
    if (auto* w = std::get_if<3>(&stream_))
        std::tie(ec) = co_await w->async_close(why, as_tuple(use_awaitable));
    close();
}

void transport::send_fin() noexcept {
    boost::system::error_code ec;
    lowest().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> transport::finish() {
    if (stream_.index() == 0) {
        boost::system::error_code ec;
        std::get<0>(stream_).shutdown(tcp::socket::shutdown_send, ec);
        co_return;
    }
    co_await shutdown();
}

}  // namespace mqtt::net::detail
