// SPDX-License-Identifier: MIT
// net::client over TLS against mosquitto with certificates made at test time
// (P-256, SHA-256) by the openssl CLI. Skipped when mosquitto is absent.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <mqtt/net/client.hpp>
#include <mqtt/net/errors.hpp>

#include "client_test_util.hpp"
#include "mosquitto_fixture.hpp"

using namespace mq::test;
using namespace mq::test::client_it;
using mqtt::net::client;
using mqtt::net::net_error;
using mqtt::protocol_version;
using mqtt::qos;

namespace {

struct tls_broker {
    temp_dir dir;
    test_pki pki = make_test_pki(dir);
    std::unique_ptr<mosquitto_fixture> broker;

    explicit tls_broker(bool require_client_cert = false) {
        mosquitto_options o;
        o.certfile = pki.server_cert;
        o.keyfile = pki.server_key;
        o.cafile = pki.ca_cert;
        o.require_certificate = require_client_cert;
        broker = std::make_unique<mosquitto_fixture>(o);
    }

    mqtt::net::client_options opts(const std::string& id) const {
        auto o = options(broker->port(), protocol_version::v5, id);
        o.transport = mqtt::net::transport_kind::tls;
        o.tls.ca_file = pki.ca_cert;
        return o;
    }
};

std::vector<mqtt::subscription> subs(std::string filter, qos q) {
    mqtt::subscription s;
    s.filter = std::move(filter);
    s.max_qos = q;
    return {s};
}

}  // namespace

TEST_CASE("TLS connect with the test CA verifies the server and round trips a message") {
    if (!mosquitto_fixture::available()) return;
    tls_broker b;
    for (const char* host : {"127.0.0.1", "localhost"}) {
        CAPTURE(host);
        run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            auto o = b.opts("tls-ok");
            o.host = host;
            client c(ex, o);
            co_await c.connect();
            co_await c.subscribe(subs("tls", qos::at_least_once));
            co_await c.publish(message("tls", "secret", qos::at_least_once));
            auto m = co_await c.receive();
            REQUIRE(m.has_value());
            CHECK(text(*m) == "secret");
            co_await c.disconnect();
        });
    }
}

TEST_CASE("T04 TLS with an unknown issuer fails verification and says why") {
    if (!mosquitto_fixture::available()) return;
    tls_broker b;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = b.opts("tls-bad-ca");
        o.tls.ca_file = b.pki.other_ca_cert;
        client c(ex, o);
        std::string what;
        auto ec = co_await error_of(c.connect(), &what);
        CHECK(ec == net_error::tls_verify);
        INFO(what);
        // OpenSSL's X509_verify_cert_error_string text, e.g. "self-signed certificate in
        // certificate chain" or "unable to get local issuer certificate".
        CHECK(what.find("certificate") != std::string::npos);
        CHECK(what.find("depth") != std::string::npos);
    });
}

TEST_CASE("T04 TLS with the wrong host name fails verification and names the host") {
    if (!mosquitto_fixture::available()) return;
    tls_broker b;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = b.opts("tls-bad-name");
        o.tls.server_name = "broker.example";
        client c(ex, o);
        std::string what;
        auto ec = co_await error_of(c.connect(), &what);
        CHECK(ec == net_error::tls_verify);
        CHECK(what.find("broker.example") != std::string::npos);
    });
}

TEST_CASE("T04 insecure skips verification of an untrusted server") {
    if (!mosquitto_fixture::available()) return;
    tls_broker b;
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = b.opts("tls-insecure");
        o.tls.ca_file = b.pki.other_ca_cert;
        o.tls.server_name = "broker.example";
        o.tls.insecure = true;
        client c(ex, o);
        auto ack = co_await c.connect();
        CHECK(ack.reason_code == mqtt::reason::success);
        co_await c.disconnect();
    });
}

TEST_CASE("TLS client certificate is presented when the broker requires one") {
    if (!mosquitto_fixture::available()) return;
    tls_broker b(true);
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        {
            client anon(ex, b.opts("tls-no-cert"));
            auto ec = co_await error_of(anon.connect());
            CHECK(ec);  // handshake alert or reset: no certificate
        }
        auto o = b.opts("tls-cert");
        o.tls.cert_file = b.pki.client_cert;
        o.tls.key_file = b.pki.client_key;
        client c(ex, o);
        auto ack = co_await c.connect();
        CHECK(ack.reason_code == mqtt::reason::success);
        co_await c.disconnect();
    });
}

TEST_CASE("TLS to a plain listener fails with tls_handshake") {
    if (!mosquitto_fixture::available()) return;
    mosquitto_fixture plain;
    temp_dir dir;
    const test_pki pki = make_test_pki(dir);
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(plain.port(), protocol_version::v5, "tls-plain");
        o.transport = mqtt::net::transport_kind::tls;
        o.tls.ca_file = pki.ca_cert;
        client c(ex, o);
        auto ec = co_await error_of(c.connect());
        CHECK((ec == net_error::tls_handshake || ec == net_error::connection_lost));
    });
}

TEST_CASE("an unreadable CA file is reported with its path") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto o = options(1, protocol_version::v5, "x");
        o.transport = mqtt::net::transport_kind::tls;
        o.tls.ca_file = "/nonexistent/ca.pem";
        client c(ex, o);
        std::string what;
        auto ec = co_await error_of(c.connect(), &what);
        CHECK(ec);
        CHECK(what.find("/nonexistent/ca.pem") != std::string::npos);
    });
}
