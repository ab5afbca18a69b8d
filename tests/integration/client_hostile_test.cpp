// SPDX-License-Identifier: MIT
// net::client against a scripted fake broker sending exact bytes (hardening E rows).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <mqtt/net/client.hpp>
#include <mqtt/net/errors.hpp>

#include "client_test_util.hpp"

using namespace mq::test::client_it;
using mqtt::net::client;
using mqtt::net::net_error;
using mqtt::protocol_version;
using bytes = std::vector<std::uint8_t>;

namespace {

const bytes connack_v5 = {0x20, 0x03, 0x00, 0x00, 0x00};

/// Accepts one connection; after each read from the client sends the next
/// scripted reply, then reads until EOF, keeping everything the client sent.
class fake_broker {
public:
    explicit fake_broker(asio::any_io_executor ex)
        : acceptor_(ex, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void start(std::vector<bytes> replies) {
        asio::co_spawn(acceptor_.get_executor(), run(std::move(replies)), [this](std::exception_ptr) {
            finished = true;
        });
    }

    /// Waits (bounded) until the client closed its side.
    asio::awaitable<void> wait_closed() {
        for (int i = 0; i < 300 && !finished; ++i) co_await sleep_for(10ms);
        CHECK(finished);
    }

    bool received_contains(const bytes& needle) const {
        return std::search(received.begin(), received.end(), needle.begin(), needle.end()) != received.end();
    }

    bytes received;
    bool finished = false;

private:
    asio::awaitable<void> run(std::vector<bytes> replies) {
        auto sock = co_await acceptor_.async_accept(asio::use_awaitable);
        std::uint8_t buf[4096];
        for (const auto& reply : replies) {
            auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            received.insert(received.end(), buf, buf + n);
            if (!reply.empty()) co_await asio::async_write(sock, asio::buffer(reply), asio::use_awaitable);
        }
        for (;;) {
            auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            received.insert(received.end(), buf, buf + n);
        }
    }

    asio::ip::tcp::acceptor acceptor_;
};

}  // namespace

TEST_CASE("E04 no CONNACK fails with connect_timeout after the connect timeout") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        fake.start({bytes{}});  // reads CONNECT, answers nothing
        auto o = options(fake.port(), protocol_version::v5, "e04");
        o.connect_timeout = 300ms;
        client c(ex, o);
        std::string what;
        auto ec = co_await error_of(c.connect(), &what);
        CHECK(ec == net_error::connect_timeout);
        CHECK(what.find("CONNACK") != std::string::npos);
    });
}

TEST_CASE("MQTT-3.2.2-2 E03 CONNACK with an undefined reason code fails the connect") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        fake.start({bytes{0x20, 0x03, 0x00, 0x03, 0x00}});
        client c(ex, options(fake.port(), protocol_version::v5, "e03"));
        auto ec = co_await error_of(c.connect());
        CHECK(ec);
        CHECK(ec.category() != mqtt::reason_category());  // not "the broker refused"
    });
}

TEST_CASE("CONNACK refusal throws the reason code of the broker") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        fake.start({bytes{0x20, 0x03, 0x00, 0x87, 0x00}});
        client c(ex, options(fake.port(), protocol_version::v5, "refused"));
        auto ec = co_await error_of(c.connect());
        CHECK(ec == mqtt::reason::not_authorized);
    });
}

TEST_CASE("MQTT-3.9.3-1 E01 SUBACK without reason codes is a protocol error and sends DISCONNECT") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        fake.start({connack_v5, bytes{0x90, 0x03, 0x00, 0x01, 0x00}});
        client c(ex, options(fake.port(), protocol_version::v5, "e01"));
        co_await c.connect();
        mqtt::subscription s;
        s.filter = "a";
        std::vector<mqtt::subscription> list{s};
        auto ec = co_await error_of(c.subscribe(std::move(list)));
        CHECK(ec);
        co_await fake.wait_closed();
        // DISCONNECT with 0x82 (session check) or 0x81 (decoder check)
        const bool sent = fake.received_contains({0xe0, 0x01, 0x82}) || fake.received_contains({0xe0, 0x01, 0x81}) ||
                          fake.received_contains({0xe0, 0x02, 0x82}) || fake.received_contains({0xe0, 0x02, 0x81});
        CHECK(sent);
    });
}

TEST_CASE("MQTT-3.3.2-11 E05 PUBLISH with a topic alias above our maximum gets DISCONNECT 0x94") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        // PUBLISH QoS 0, topic "t", properties: Topic Alias 1, payload "x"
        bytes pub = {0x30, 0x08, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x01, 'x'};
        bytes script = connack_v5;
        script.insert(script.end(), pub.begin(), pub.end());
        fake.start({script});
        client c(ex, options(fake.port(), protocol_version::v5, "e05"));
        co_await c.connect();
        auto ec = co_await error_of(c.receive());
        CHECK(ec == net_error::protocol_violation);
        co_await fake.wait_closed();
        CHECK((fake.received_contains({0xe0, 0x01, 0x94}) || fake.received_contains({0xe0, 0x02, 0x94})));
    });
}

TEST_CASE("MQTT-3.1.2-24 E06 PUBLISH above our Maximum Packet Size gets DISCONNECT 0x95") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        bytes pub = {0x30, 0x83, 0x01, 0x00, 0x01, 't', 0x00};  // remaining length 131
        pub.resize(pub.size() + 127, 'p');
        bytes script = connack_v5;
        script.insert(script.end(), pub.begin(), pub.end());
        fake.start({script});
        auto o = options(fake.port(), protocol_version::v5, "e06");
        o.max_packet_size = 100;
        client c(ex, o);
        co_await c.connect();
        auto ec = co_await error_of(c.receive());
        CHECK(ec == mqtt::codec_error::packet_too_large);
        co_await fake.wait_closed();
        CHECK((fake.received_contains({0xe0, 0x01, 0x95}) || fake.received_contains({0xe0, 0x02, 0x95})));
    });
}

TEST_CASE("E08 PUBREL for an unknown id gets PUBCOMP 0x92 and E09 DISCONNECT reason string is escaped") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        fake_broker fake(ex);
        bytes script = connack_v5;
        const bytes pubrel = {0x62, 0x02, 0x00, 0x07};
        const bytes puback = {0x40, 0x02, 0x00, 0x09};  // unknown id: ignored
        script.insert(script.end(), pubrel.begin(), pubrel.end());
        script.insert(script.end(), puback.begin(), puback.end());
        // DISCONNECT 0x8B, Reason String "bye\x1b[2J"
        const bytes disc = {0xe0, 0x0c, 0x8b, 0x0a, 0x1f, 0x00, 0x07, 'b', 'y', 'e', 0x1b, '[', '2', 'J'};
        fake.start({script, disc});
        client c(ex, options(fake.port(), protocol_version::v5, "e08"));
        co_await c.connect();
        std::string what;
        auto ec = co_await error_of(c.receive(), &what);
        CHECK(ec == mqtt::reason::server_shutting_down);
        CHECK(what.find("bye") != std::string::npos);
        CHECK(what.find('\x1b') == std::string::npos);
        co_await fake.wait_closed();
        CHECK((fake.received_contains({0x70, 0x03, 0x00, 0x07, 0x92}) ||
               fake.received_contains({0x70, 0x04, 0x00, 0x07, 0x92, 0x00})));
    });
}

TEST_CASE("broker closing the socket without DISCONNECT is connection_lost") {
    run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        asio::ip::tcp::acceptor acc(ex, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        const auto port = acc.local_endpoint().port();
        auto server = [&]() -> asio::awaitable<void> {
            auto sock = co_await acc.async_accept(asio::use_awaitable);
            std::uint8_t buf[512];
            co_await sock.async_read_some(asio::buffer(buf), asio::use_awaitable);
            co_await asio::async_write(sock, asio::buffer(connack_v5), asio::use_awaitable);
            sock.close();
        };
        asio::co_spawn(ex, server(), asio::detached);
        client c(ex, options(port, protocol_version::v5, "lost"));
        co_await c.connect();
        auto ec = co_await error_of(c.receive());
        CHECK(ec == net_error::connection_lost);
    });
}
