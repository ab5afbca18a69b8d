// SPDX-License-Identifier: MIT
// TLS rows of hardening.md §2 T and §3 S05 against the in-process broker with
// a plain and a TLS listener on 127.0.0.1:0: a ClientHello on the plain port
// (T02), a TLS peer that drops TCP half way through a record (T05, broker
// side), and TLS garbage from 100 parallel connections (S05, suite "fault").
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "client_test_util.hpp"
#include "hardening_util.hpp"
#include "mosquitto_fixture.hpp"
#include "secure_broker_fixture.hpp"
#include "tls_raw_peer.hpp"

using namespace mq::test;
using mqtt::qos;
using mqtt::reason;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

long long ms_since(steady_clock::time_point t0) {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
}

// A broker with a plain listener (0) and a TLS listener (1).
struct tls_broker_setup {
    temp_dir dir;
    test_pki pki = make_test_pki(dir);

    mqtt::net::server_options options(milliseconds connect_timeout = milliseconds(10'000)) const {
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"},
                       mqtt::net::listener_options{"mqtts://127.0.0.1:0"}};
        o.tls.cert_file = pki.server_cert;
        o.tls.key_file = pki.server_key;
        o.sys_interval = milliseconds(0);
        o.limits.connect_timeout = connect_timeout;
        return o;
    }

    // A verifying mq::net client over TLS: the real thing must keep working.
    bool real_tls_client_round_trip(std::uint16_t port, const std::string& id) const {
        namespace cit = client_it;
        bool ok = false;
        auto o = cit::options(port, mqtt::protocol_version::v5, id);
        o.transport = mqtt::net::transport_kind::tls;
        o.tls.ca_file = pki.ca_cert;
        mqtt::subscription sub;
        sub.filter = id + "/t";
        sub.max_qos = qos::at_least_once;
        const std::vector<mqtt::subscription> subs{sub};
        const std::string payload = "over tls";
        const auto msg = cit::message(id + "/t", payload, qos::at_least_once);
        cit::run_async([&](cit::asio::any_io_executor ex) -> cit::asio::awaitable<void> {
            mqtt::net::client c(ex, o);
            co_await c.connect();
            co_await c.subscribe(subs);
            co_await c.publish(msg);
            auto m = co_await c.receive();
            ok = m && cit::text(*m) == payload;
            co_await c.disconnect();
        });
        return ok;
    }
};

mqtt::connect connect_with_will(const std::string& id) {
    mqtt::connect c;
    c.client_id = id;
    c.keep_alive = 60;
    c.will_msg = mqtt::will{"will/" + id, {'g', 'o', 'n', 'e'}, qos::at_most_once, false, {}};
    return c;
}

}  // namespace

TEST_CASE("T02 a TLS ClientHello sent to the plain MQTT port is closed at once; a bystander is unaffected") {
    tls_broker_setup s;
    secure_broker b(s.options());
    bystander by(b.port(0), "by");
    REQUIRE(by.connected());
    const int baseline = fd_count();
    const auto hello = client_hello_bytes();
    REQUIRE(hello.size() > 100);
    CHECK(hello[0] == 0x16);  // handshake record = CONNECT type with flags 6: malformed [MQTT-2.1.3-1]
    for (int i = 0; i < 3; ++i) {
        raw_client c(b.port(0));
        const auto t0 = steady_clock::now();
        c.send_bytes(hello);
        // No CONNACK, no bytes at all, and not held until the 10 s connect timeout.
        CHECK_FALSE(c.receive_frame(milliseconds(3000)).has_value());
        CHECK(c.peer_closed());
        CHECK(ms_since(t0) < 2000 * timing_scale);
    }
    CHECK(fds_back_to(baseline));
    CHECK(by.round_trip("after ClientHellos"));
}

TEST_CASE(
    "T05 a TLS peer dropping TCP mid-record without close_notify: abnormal close, its Will is published") {
    tls_broker_setup s;
    secure_broker b(s.options());
    bystander by(b.port(0), "by");
    REQUIRE(by.connected());
    raw_client watcher(b.port(0));
    REQUIRE(watcher.connect("watcher"));
    REQUIRE(watcher.subscribe("will/#", qos::at_most_once));
    const int baseline = fd_count();
    for (bool reset : {false, true}) {
        const std::string id = reset ? "tls-rst" : "tls-fin";
        CAPTURE(id);
        tls_raw_peer peer(b.port(1));
        peer.send(connect_with_will(id));
        const auto ack = peer.read_bytes(2);
        REQUIRE(ack.size() == 2);
        CHECK(ack[0] == 0x20);
        const auto rest = peer.read_bytes(ack[1]);
        REQUIRE(rest.size() == ack[1]);
        CHECK(rest[1] == 0x00);  // CONNACK success
        // A PUBLISH whose record is cut half way: nothing of it may be delivered.
        const auto record = peer.send_half_record(make_publish("will/partial", std::string(2000, 'p')));
        CHECK(record > 2000);
        std::this_thread::sleep_for(milliseconds(50));
        peer.drop(reset);
        const auto t0 = steady_clock::now();
        auto w = as<mqtt::publish>(watcher.receive(milliseconds(3000)));
        REQUIRE(w);
        CHECK(w->topic == "will/" + id);  // [MQTT-3.1.2-8] not closed by DISCONNECT: Will published
        CHECK(payload_of(*w) == "gone");
        CHECK(ms_since(t0) < 1000 * timing_scale);
        CHECK(watcher.silent_for(milliseconds(200)));  // and the half PUBLISH never was
    }
    CHECK(fds_back_to(baseline));
    CHECK(by.round_trip("after the drops"));
    CHECK(s.real_tls_client_round_trip(b.port(1), "after-drop"));
}

namespace {

// One S05 attacker connection: what it sends and when it may be closed at the latest.
enum class garbage { random_bytes, plain_connect, hello_then_silence, hello_to_plain };

struct slot {
    int fd = -1;
    garbage kind = garbage::random_bytes;
    steady_clock::time_point opened;
};

int open_nonblocking(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

TEST_SUITE("fault" * doctest::skip()) {
    TEST_CASE(
        "S05 TLS garbage (T01-T03) from 100 parallel connections: timeouts enforced, descriptors back, real "
        "TLS "
        "clients connect") {
        constexpr int parallel = 100;
        const milliseconds timeout(500);
        const milliseconds run_for(4000);
        tls_broker_setup s;
        secure_broker b(s.options(timeout));
        bystander by(b.port(0), "by");
        REQUIRE(by.connected());
        const int baseline = fd_count();
        const auto hello = client_hello_bytes();
        const auto plain_connect = from_hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
        std::mt19937 rng(6);

        // Real TLS connects before and during the storm, timed.
        const auto t_base = steady_clock::now();
        REQUIRE(s.real_tls_client_round_trip(b.port(1), "base"));
        const long long baseline_ms = std::max<long long>(ms_since(t_base), 1);
        std::atomic<bool> stop{false};
        std::atomic<int> real_ok{0}, real_failed{0};
        std::atomic<long long> real_worst{0};
        std::thread real([&] {
            for (int i = 0; !stop; ++i) {
                const auto t0 = steady_clock::now();
                bool ok = false;
                try {
                    ok = s.real_tls_client_round_trip(b.port(1), "real" + std::to_string(i));
                } catch (...) {
                }
                (ok ? real_ok : real_failed)++;
                real_worst = std::max<long long>(real_worst, ms_since(t0));
                std::this_thread::sleep_for(milliseconds(50));
            }
        });

        std::vector<slot> slots(parallel);
        long long opened = 0, worst_close_ms = 0, late = 0;
        auto open_slot = [&](slot& sl, int i) {
            sl.kind = static_cast<garbage>((i + opened) % 4);
            sl.fd = open_nonblocking(sl.kind == garbage::hello_to_plain ? b.port(0) : b.port(1));
            sl.opened = steady_clock::now();
            ++opened;
            if (sl.fd < 0) return;
            pollfd p{sl.fd, POLLOUT, 0};
            ::poll(&p, 1, 1000);
            std::vector<std::uint8_t> bytes;
            switch (sl.kind) {
                case garbage::random_bytes:
                    bytes.resize(64 + rng() % 512);
                    for (auto& x : bytes) x = static_cast<std::uint8_t>(rng());
                    break;
                case garbage::plain_connect:
                    bytes = plain_connect;
                    break;
                case garbage::hello_then_silence:
                    bytes = hello;
                    break;  // T03: the server answers, then waits
                case garbage::hello_to_plain:
                    bytes = hello;
                    break;
            }
            (void)::send(sl.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        };
        const auto t0 = steady_clock::now();
        for (int i = 0; i < parallel; ++i) open_slot(slots[static_cast<std::size_t>(i)], i);
        while (ms_since(t0) < run_for.count()) {
            std::vector<pollfd> p;
            for (auto& sl : slots) p.push_back({sl.fd, POLLIN, 0});
            ::poll(p.data(), p.size(), 20);
            for (std::size_t i = 0; i < slots.size(); ++i) {
                auto& sl = slots[i];
                const long long age = ms_since(sl.opened);
                bool closed = sl.fd < 0;
                if (!closed && p[i].revents) {
                    std::uint8_t buf[4096];
                    const ssize_t r = ::recv(sl.fd, buf, sizeof buf, MSG_DONTWAIT);
                    closed = r == 0 || (r < 0 && errno != EAGAIN);  // alerts may come first
                }
                if (closed) {
                    worst_close_ms = std::max(worst_close_ms, age);
                    if (sl.fd >= 0) ::close(sl.fd);
                    open_slot(sl, static_cast<int>(i));
                } else if (age > 3 * timeout.count() + 1000) {
                    ++late;  // the broker let it live far past --connect-timeout
                    ::close(sl.fd);
                    open_slot(sl, static_cast<int>(i));
                }
            }
        }
        for (auto& sl : slots)
            if (sl.fd >= 0) ::close(sl.fd);
        stop = true;
        real.join();
        MESSAGE("S05: ", opened, " garbage connections in ", ms_since(t0), " ms, slowest close ",
                worst_close_ms, " ms (timeout ", timeout.count(), " ms); real TLS round trips ",
                real_ok.load(), " ok, ", real_failed.load(), " failed, worst ", real_worst.load(),
                " ms (baseline ", baseline_ms, " ms)");
        CHECK(late == 0);
        CHECK(worst_close_ms < timeout.count() + 1500 * timing_scale);
        CHECK(opened > parallel * 2);  // connections really were closed and replaced
        CHECK(real_failed == 0);
        CHECK(real_ok > 0);
        CHECK(real_worst < std::max<long long>(2000, 4 * baseline_ms) * timing_scale);
        CHECK(fds_back_to(baseline, milliseconds(5000)));
        CHECK(by.round_trip("after S05"));
        CHECK(s.real_tls_client_round_trip(b.port(1), "after"));
    }
}  // TEST_SUITE("fault")
