// SPDX-License-Identifier: MIT
// Broker listeners: TLS, WebSocket and secure WebSocket next to TCP, client
// certificates as credentials, and hostile input on those transports.
// Certificates are made at test time with the openssl CLI (P-256, SHA-256).
#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <mqtt/net/client.hpp>

#include "client_test_util.hpp"
#include "mosquitto_fixture.hpp"
#include "secure_broker_fixture.hpp"

using namespace mq::test;
using namespace mq::test::client_it;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::net::client;
using mqtt::net::transport_kind;

namespace {

struct tls_setup {
    temp_dir dir;
    test_pki pki = make_test_pki(dir);

    mqtt::net::server_options options(std::vector<std::string> urls) const {
        mqtt::net::server_options o;
        o.listeners.clear();
        for (auto& u : urls) o.listeners.push_back({std::move(u)});
        o.tls.cert_file = pki.server_cert;
        o.tls.key_file = pki.server_key;
        o.sys_interval = std::chrono::milliseconds(0);
        return o;
    }

    mqtt::net::client_options client(std::uint16_t port, transport_kind kind, std::string id) const {
        auto o = client_it::options(port, protocol_version::v5, std::move(id));
        o.transport = kind;
        o.tls.ca_file = pki.ca_cert;
        return o;
    }
};

std::vector<mqtt::subscription> subs(std::string filter) {
    mqtt::subscription s;
    s.filter = std::move(filter);
    s.max_qos = qos::at_least_once;
    return {s};
}

}  // namespace

TEST_CASE("mqtt, mqtts, ws and wss listeners on port 0 are listed and each round trips a message") {
    tls_setup s;
    secure_broker b(s.options(
        {"mqtt://127.0.0.1:0", "mqtts://127.0.0.1:0", "ws://127.0.0.1:0/mqtt", "wss://127.0.0.1:0"}));
    const auto ls = b.server().listeners();
    REQUIRE(ls.size() == 4);
    const std::vector<std::string> transports = {"tcp", "tls", "ws", "wss"};
    const std::vector<std::string> prefixes = {
        "mqtt://127.0.0.1:", "mqtts://127.0.0.1:", "ws://127.0.0.1:", "wss://127.0.0.1:"};
    for (std::size_t i = 0; i < ls.size(); ++i) {
        CHECK(ls[i].transport == transports[i]);
        CHECK(ls[i].port != 0);
        CHECK(ls[i].url == prefixes[i] + std::to_string(ls[i].port) + (i == 2 ? "/mqtt" : ""));
    }
    const std::vector<transport_kind> kinds = {transport_kind::tcp, transport_kind::tls, transport_kind::ws,
                                               transport_kind::wss};
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        // One subscriber per transport, each gets what every transport publishes.
        std::vector<std::unique_ptr<client>> subscribers;
        for (std::size_t i = 0; i < kinds.size(); ++i) {
            auto c = std::make_unique<client>(ex, s.client(ls[i].port, kinds[i], "sub" + std::to_string(i)));
            co_await c->connect();
            co_await c->subscribe(subs("x/#"));
            subscribers.push_back(std::move(c));
        }
        for (std::size_t i = 0; i < kinds.size(); ++i) {
            client pub(ex, s.client(ls[i].port, kinds[i], "pub" + std::to_string(i)));
            co_await pub.connect();
            auto r = co_await pub.publish(message("x/" + transports[i], transports[i], qos::at_least_once));
            CHECK(r.reason_code == mqtt::reason::success);
            co_await pub.disconnect();
            for (auto& sub : subscribers) {
                auto m = co_await sub->receive();
                REQUIRE(m.has_value());
                CHECK(m->topic == "x/" + transports[i]);
                CHECK(text(*m) == transports[i]);
            }
        }
        for (auto& sub : subscribers) co_await sub->disconnect();
    });
}

TEST_CASE("T01 plain MQTT sent to the TLS port is closed without an answer; a bystander still works") {
    tls_setup s;
    secure_broker b(s.options({"mqtts://127.0.0.1:0", "wss://127.0.0.1:0"}));
    for (std::size_t listener : {0u, 1u}) {
        raw_client plain(b.port(listener));
        plain.send_hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
        CHECK_FALSE(plain.receive_frame(std::chrono::milliseconds(2000)).has_value());
        CHECK(plain.peer_closed());
    }
    raw_client garbage(b.port());
    garbage.send_hex("ff ff ff ff 00 01 02 03 04 05 06 07 08 09");
    CHECK(garbage.wait_closed());
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, s.client(b.port(), transport_kind::tls, "bystander"));
        co_await c.connect();
        co_await c.subscribe(subs("t"));
        co_await c.publish(message("t", "still fine", qos::at_least_once));
        auto m = co_await c.receive();
        REQUIRE(m.has_value());
        CHECK(text(*m) == "still fine");
        co_await c.disconnect();
    });
}

TEST_CASE("a verified client certificate's CN is the username the ACL sees") {
    tls_setup s;
    auto o = s.options({"mqtts://127.0.0.1:0"});
    o.tls.ca_file = s.pki.ca_cert;
    o.tls.require_client_cert = true;
    o.password_file = s.dir.file("passwd");
    o.acl_file = s.dir.file("acl");
    write_text(o.password_file, password_text({{"someone", "pw"}}));  // anonymous is refused
    write_text(o.acl_file, "allow user:mq-test-client readwrite cert/#\n");
    secure_broker b(o);
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto co = s.client(b.port(), transport_kind::tls, "with-cert");
        co.tls.cert_file = s.pki.client_cert;
        co.tls.key_file = s.pki.client_key;
        client c(ex, co);
        co_await c.connect();
        auto ok = co_await c.publish(message("cert/x", "by cert", qos::at_least_once));
        // Allowed: accepted, and nobody subscribes (sec-3.4.2.1).
        CHECK(ok.reason_code == mqtt::reason::no_matching_subscribers);
        auto denied = co_await c.publish(message("other", "no", qos::at_least_once));
        CHECK(denied.reason_code == mqtt::reason::not_authorized);
        co_await c.disconnect();

        // Without a certificate the handshake fails.
        client none(ex, s.client(b.port(), transport_kind::tls, "no-cert"));
        std::string what;
        const auto ec = co_await error_of(none.connect(), &what);
        CHECK(ec);
        CAPTURE(what);
    });
}

TEST_CASE("J01 the password file applies on WebSocket listeners too; a wrong path gets HTTP 404") {
    tls_setup s;
    auto o = s.options({"wss://127.0.0.1:0/mqtt", "ws://127.0.0.1:0/mqtt"});
    o.password_file = s.dir.file("passwd");
    write_text(o.password_file, password_text({{"alice", "pw"}}));
    secure_broker b(o);
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        for (std::size_t i = 0; i < 2; ++i) {
            auto co = s.client(b.port(i), i == 0 ? transport_kind::wss : transport_kind::ws, "ws-user");
            co.connect.username = "alice";
            co.connect.password = std::vector<std::uint8_t>{'b', 'a', 'd'};
            client bad(ex, co);
            const auto ec = co_await error_of(bad.connect());
            CHECK(ec.value() == 0x86);
            co.connect.password = std::vector<std::uint8_t>{'p', 'w'};
            client good(ex, co);
            co_await good.connect();
            co_await good.disconnect();
            co.ws_path = "/elsewhere";
            client lost(ex, co);
            std::string what;
            const auto pec = co_await error_of(lost.connect(), &what);
            CHECK(pec == mqtt::net::net_error::ws_upgrade);
            CHECK(what.find("404") != std::string::npos);
        }
    });
}

TEST_CASE("W02 MQTT in a WebSocket text frame is closed with 1003") {
    tls_setup s;
    secure_broker b(s.options({"ws://127.0.0.1:0"}));
    namespace websocket = boost::beast::websocket;
    asio::io_context io;
    websocket::stream<asio::ip::tcp::socket> ws(io);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), b.port()});
    ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(boost::beast::http::field::sec_websocket_protocol, "mqtt");
    }));
    ws.handshake("127.0.0.1", "/any/path");
    ws.text(true);
    const auto connect = from_hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
    ws.write(asio::buffer(connect));
    boost::beast::flat_buffer buf;
    boost::system::error_code ec;
    ws.read(buf, ec);
    CHECK(ec == websocket::error::closed);
    CHECK(ws.reason().code == websocket::close_code::unknown_data);  // 1003
}

TEST_CASE("bad TLS material or a TLS listener without a certificate stops start()") {
    tls_setup s;
    const auto start_error = [](mqtt::net::server_options o) -> std::string {
        mqtt::net::server srv(std::move(o));
        try {
            srv.start();
        } catch (const mqtt::net::config_error& e) {
            return e.what();
        }
        return "started";
    };
    auto o = s.options({"mqtts://127.0.0.1:0"});
    o.tls.cert_file.clear();
    CHECK(start_error(o).find("need --tls-cert") != std::string::npos);
    o = s.options({"wss://127.0.0.1:0"});
    o.tls.key_file = s.pki.client_key;  // not the certificate's key
    CHECK(start_error(o).find(s.pki.client_key) != std::string::npos);
    o = s.options({"mqtts://127.0.0.1:0"});
    o.tls.cert_file = s.dir.file("missing.pem");
    CHECK(start_error(o).find("missing.pem") != std::string::npos);
    o = s.options({"mqtts://127.0.0.1:0"});
    o.tls.min_version = "tlsv1.1";
    CHECK(start_error(o).find("unsupported TLS version") != std::string::npos);
}

TEST_CASE("T03 a ClientHello or WebSocket request then silence is closed at the connect timeout") {
    tls_setup s;
    auto o = s.options({"mqtts://127.0.0.1:0", "ws://127.0.0.1:0"});
    o.limits.connect_timeout = std::chrono::milliseconds(300);
    secure_broker b(o);
    raw_client hello(b.port(0));
    hello.send_hex("16 03 01 02 00 01 00 01 fc 03 03");  // the start of a ClientHello
    raw_client upgrade(b.port(1));
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";  // headers never finished
    upgrade.send_bytes(std::span(reinterpret_cast<const std::uint8_t*>(req.data()), req.size()));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(hello.wait_closed(std::chrono::milliseconds(3000)));
    CHECK(upgrade.wait_closed(std::chrono::milliseconds(3000)));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2500));
}

TEST_CASE("tls ephemeral CA: clients trusting the written CA verify the broker as localhost and 127.0.0.1") {
    temp_dir dir;
    mqtt::net::server_options o;
    o.listeners = {mqtt::net::listener_options{"mqtts://127.0.0.1:0"}};
    o.tls.ephemeral_ca_file = dir.file("ca.pem");
    o.sys_interval = std::chrono::milliseconds(0);
    secure_broker b(o);
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        for (const char* host : {"localhost", "127.0.0.1"}) {
            auto co = client_it::options(b.port(), protocol_version::v5, "eph");
            co.host = host;
            co.transport = transport_kind::tls;
            co.tls.ca_file = dir.file("ca.pem");
            client c(ex, co);
            co_await c.connect();
            co_await c.disconnect();
        }
        // A client trusting another CA refuses it.
        tls_setup other;
        client wrong(ex, other.client(b.port(), transport_kind::tls, "wrong-ca"));
        const auto ec = co_await error_of(wrong.connect());
        CHECK(ec == mqtt::net::net_error::tls_verify);
    });
}

TEST_CASE("W04 W05 a frame claiming 2^63 bytes gets close 1009, an unmasked frame close 1002") {
    tls_setup s;
    secure_broker b(s.options({"ws://127.0.0.1:0"}));
    namespace websocket = boost::beast::websocket;
    struct row {
        const char* hex;
        websocket::close_code expected;
    };
    const std::vector<row> rows = {
        {"82 ff 7f ff ff ff ff ff ff ff 01 02 03 04", websocket::close_code::too_big},
        {"82 02 00 00", websocket::close_code::protocol_error},
    };
    for (const auto& r : rows) {
        CAPTURE(r.hex);
        asio::io_context io;
        websocket::stream<asio::ip::tcp::socket> ws(io);
        ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), b.port()});
        ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(boost::beast::http::field::sec_websocket_protocol, "mqtt");
        }));
        ws.handshake("127.0.0.1", "/");
        const auto raw = from_hex(r.hex);
        asio::write(ws.next_layer(), asio::buffer(raw));
        boost::beast::flat_buffer buf;
        boost::system::error_code ec;
        ws.read(buf, ec);
        CHECK(ec == websocket::error::closed);
        CHECK(ws.reason().code == r.expected);
    }
    // The broker still serves WebSocket clients.
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, s.client(b.port(), transport_kind::ws, "after"));
        co_await c.connect();
        co_await c.disconnect();
    });
}
