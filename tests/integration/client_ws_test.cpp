// SPDX-License-Identifier: MIT
// net::client over WebSocket. Debian's mosquitto cannot open WebSocket listeners
// here, so an in-process Beast proxy (WebSocket in, TCP out) fronts its TCP port.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>

#include <mqtt/net/client.hpp>
#include <mqtt/net/errors.hpp>

#include "client_test_util.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::client_it;
using mqtt::net::client;
using mqtt::protocol_version;
using mqtt::qos;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

/// Accepts WebSocket connections and relays their binary messages to a TCP
/// port and back. `select_mqtt` false answers without the subprotocol (W01).
class ws_proxy {
public:
    ws_proxy(asio::any_io_executor ex, std::uint16_t target, bool select_mqtt)
        : acceptor_(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          target_(target),
          select_mqtt_(select_mqtt) {
        asio::co_spawn(ex, accept_loop(), asio::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string last_path;

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(acceptor_.get_executor(), relay(std::move(sock)), asio::detached);
        }
    }

    asio::awaitable<void> relay(tcp::socket sock) {
        auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(sock));
        const bool select = select_mqtt_;
        ws->set_option(websocket::stream_base::decorator([select](websocket::response_type& res) {
            if (select) res.set(beast::http::field::sec_websocket_protocol, "mqtt");
        }));
        beast::http::request<beast::http::string_body> req;
        beast::flat_buffer hbuf;
        auto [rec, rn] = co_await beast::http::async_read(ws->next_layer(), hbuf, req, asio::as_tuple(asio::use_awaitable));
        if (rec) co_return;
        last_path = std::string(req.target());
        auto [aec] = co_await ws->async_accept(req, asio::as_tuple(asio::use_awaitable));
        if (aec) co_return;
        ws->binary(true);
        auto up = std::make_shared<tcp::socket>(ws->get_executor());
        auto [cec] = co_await up->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), target_),
                                                asio::as_tuple(asio::use_awaitable));
        if (cec) co_return;
        auto down = [ws, up]() -> asio::awaitable<void> {  // broker -> client
            std::vector<std::uint8_t> buf(16 * 1024);
            for (;;) {
                auto [ec, n] = co_await up->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
                if (ec) break;
                auto [wec, wn] = co_await ws->async_write(asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
                if (wec) break;
            }
            boost::system::error_code ignored;
            ws->next_layer().close(ignored);
        };
        asio::co_spawn(ws->get_executor(), down(), asio::detached);
        beast::flat_buffer buf;
        for (;;) {  // client -> broker
            auto [ec, n] = co_await ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
            if (ec) break;
            auto [wec, wn] = co_await asio::async_write(*up, buf.data(), asio::as_tuple(asio::use_awaitable));
            if (wec) break;
            buf.consume(buf.size());
        }
        boost::system::error_code ignored;
        up->close(ignored);
    }

    tcp::acceptor acceptor_;
    std::uint16_t target_;
    bool select_mqtt_;
};

}  // namespace

TEST_CASE("W03 WebSocket transport with subprotocol mqtt round trips small and large messages") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture broker;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        ws_proxy proxy(ex, broker.port(), true);
        auto o = options(proxy.port(), protocol_version::v5, "ws-client");
        o.transport = mqtt::net::transport_kind::ws;
        o.ws_path = "/mqtt";
        client c(ex, o);
        co_await c.connect();
        CHECK(proxy.last_path == "/mqtt");
        mqtt::subscription s;
        s.filter = "ws/t";
        s.max_qos = qos::exactly_once;
        std::vector<mqtt::subscription> list{s};
        co_await c.subscribe(std::move(list));
        const std::string big(100'000, 'w');
        co_await c.publish(message("ws/t", "small", qos::at_least_once));
        co_await c.publish(message("ws/t", big, qos::exactly_once));
        auto m1 = co_await c.receive();
        auto m2 = co_await c.receive();
        REQUIRE(m1.has_value());
        REQUIRE(m2.has_value());
        CHECK(text(*m1) == "small");
        CHECK(text(*m2) == big);
        co_await c.disconnect();
    });
}

TEST_CASE("W01 a WebSocket server that does not select subprotocol mqtt fails with ws_upgrade") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        ws_proxy proxy(ex, 1, false);
        auto o = options(proxy.port(), protocol_version::v5, "ws-no-proto");
        o.transport = mqtt::net::transport_kind::ws;
        client c(ex, o);
        std::string what;
        auto ec = co_await error_of(c.connect(), &what);
        CHECK(ec == mqtt::net::net_error::ws_upgrade);
        CHECK(what.find("mqtt") != std::string::npos);
    });
}
