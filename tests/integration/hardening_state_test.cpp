// SPDX-License-Identifier: MIT
// Hardening rows whose answer is a behaviour over many packets rather than one
// reply (hardening.md §1.1 fixed rules, B14 C04 C08 C17 C19 D05 D09): per-session
// state stays bounded, bytes are forwarded unchanged, sockets get TCP keepalive.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <cstdlib>
#include <set>

#include "hardening_util.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;
using std::chrono::milliseconds;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

std::uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

std::uint16_t peer_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

// The broker's end of the connection whose client side is bound to `client_port`
// (the broker runs in this process, so its sockets are ours to inspect); -1 if none.
int broker_side_fd(std::uint16_t broker_port, std::uint16_t client_port) {
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return -1;
    int found = -1;
    while (auto* e = ::readdir(d)) {
        const int fd = std::atoi(e->d_name);
        if (fd <= 2) continue;
        if (local_port(fd) == broker_port && peer_port(fd) == client_port) found = fd;
    }
    ::closedir(d);
    return found;
}

int int_option(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    ::getsockopt(fd, level, name, &v, &len);
    return v;
}

}  // namespace

TEST_CASE("B14 keepalive 0 is accepted and not timed out; the accepted socket has TCP keepalive 300/30/4") {
    broker_fixture b;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(b.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const auto c = from_hex("10 0d 00 04 4d 51 54 54 04 02 00 00 00 01 6b");  // keepalive 0
    REQUIRE(::send(fd, c.data(), c.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(c.size()));
    std::uint8_t ack[4] = {};
    REQUIRE(::recv(fd, ack, sizeof ack, MSG_WAITALL) == 4);
    CHECK(to_hex(ack) == "20 02 00 00");
    // [MQTT-3.1.2-?] keepalive 0: the broker never closes for silence; the dead-peer
    // bound is TCP keepalive on the broker's socket (hardening.md §1.1).
    const int server_fd = broker_side_fd(b.port(), local_port(fd));
    REQUIRE(server_fd >= 0);
    CHECK(int_option(server_fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(int_option(server_fd, IPPROTO_TCP, TCP_KEEPIDLE) == 300);
    CHECK(int_option(server_fd, IPPROTO_TCP, TCP_KEEPINTVL) == 30);
    CHECK(int_option(server_fd, IPPROTO_TCP, TCP_KEEPCNT) == 4);
    pollfd p{fd, POLLIN, 0};
    CHECK(::poll(&p, 1, 2000) == 0);  // 2 s of silence: nothing sent, not closed
    const auto ping = from_hex("c0 00");
    ::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL);
    std::uint8_t pong[2] = {};
    CHECK(::recv(fd, pong, sizeof pong, MSG_WAITALL) == 2);
    CHECK(to_hex(pong) == "d0 00");
    ::close(fd);
}

TEST_CASE(
    "MQTT-4.3.3-10 C08 the same QoS 2 id 10000 times: PUBREC each, delivered once, the id set does not "
    "grow") {
    broker_fixture b([](mqtt::net::broker_limits& l) { l.receive_maximum = 10; });
    auto sub = b.client("sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("c08", qos::at_most_once));
    auto c = b.client("pub");
    REQUIRE(b.ok);
    const auto rss0 = rss_bytes();
    for (int batch = 0; batch < 100; ++batch) {
        for (int i = 0; i < 100; ++i) c->send(make_publish("c08", "once", qos::exactly_once, 1));
        for (int i = 0; i < 100; ++i) {
            auto r = as<mqtt::pubrec>(c->receive());
            REQUIRE(r);
            REQUIRE(r->packet_id == 1);
            REQUIRE(r->reason_code == reason::success);
        }
    }
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "once");
    CHECK(sub->silent_for(milliseconds(200)));  // exactly one delivery
    if (!sanitized) CHECK(rss_bytes() < rss0 + 4 * MiB);
    // Receive Maximum 10: ids 2..10 still fit beside id 1, so id 1 is held once...
    for (std::uint16_t id = 2; id <= 10; ++id) {
        c->send(make_publish("c08", "n", qos::exactly_once, id));
        auto r = as<mqtt::pubrec>(c->receive());
        REQUIRE(r);
        CHECK(r->reason_code == reason::success);
    }
    // ...and the 11th distinct id is over the limit [MQTT-3.3.4-9].
    c->send(make_publish("c08", "n", qos::exactly_once, 11));
    auto d = as<mqtt::disconnect>(c->receive());
    REQUIRE(d);
    CHECK(d->reason_code == reason::receive_maximum_exceeded);
}

TEST_CASE(
    "D05 subscribe a/b and unsubscribe $share/g/a/b, and the reverse, 10000 loops: 0x11, consistent, RSS "
    "flat") {
    broker_fixture b;
    auto c = b.client("d05");
    REQUIRE(b.ok);
    auto send_sub = [&](const char* f, std::uint16_t id) {
        mqtt::subscribe s;
        s.packet_id = id;
        s.entries.push_back(mqtt::subscription{f, qos::at_most_once});
        c->send(s);
    };
    auto send_unsub = [&](const char* f, std::uint16_t id) {
        mqtt::unsubscribe u;
        u.packet_id = id;
        u.filters.push_back(f);
        c->send(u);
    };
    std::uint64_t rss_warm = 0;
    for (int loop = 0; loop < 10'000; ++loop) {
        if (loop == 1000) rss_warm = rss_bytes();
        send_sub("a/b", 1);
        send_unsub("$share/g/a/b", 2);  // nothing shared yet: 0x11
        send_sub("$share/g/a/b", 3);
        send_unsub("a/b", 4);
        send_unsub("$share/g/a/b", 5);
        const std::vector<reason> want = {reason::success, reason::no_subscription_existed, reason::success,
                                          reason::success, reason::success};
        for (std::size_t k = 0; k < want.size(); ++k) {
            auto p = c->receive();
            REQUIRE(p);
            if (auto* sa = std::get_if<mqtt::suback>(&*p)) {
                REQUIRE(sa->reason_codes.size() == 1);
                REQUIRE(sa->reason_codes[0] == want[k]);
            } else {
                auto* ua = std::get_if<mqtt::unsuback>(&*p);
                REQUIRE(ua);
                REQUIRE(ua->packet_id == k + 1);
                REQUIRE(ua->reason_codes == std::vector<reason>{want[k]});
            }
        }
    }
    if (!sanitized) CHECK(rss_bytes() < rss_warm + 4 * MiB);
    // Nothing is left subscribed; one plain subscription gets exactly one copy.
    auto pub = b.client("p");
    REQUIRE(b.ok);
    pub->send(make_publish("a/b", "none"));
    CHECK(c->silent_for(milliseconds(200)));
    REQUIRE(c->subscribe("a/b", qos::at_most_once, 6));
    pub->send(make_publish("a/b", "one"));
    auto m = as<mqtt::publish>(c->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "one");
    CHECK(c->silent_for(milliseconds(200)));
}

TEST_CASE("MQTT-1.5.4-3 C04 C17 a BOM topic and 65535 bytes of Correlation Data are forwarded byte-exact, PUBACK 0x00") {
    broker_fixture b;
    auto sub = b.client("sub");
    REQUIRE(b.ok);
    REQUIRE(sub->subscribe("#", qos::at_most_once));
    auto pub = b.client("pub");
    REQUIRE(b.ok);
    const std::string bom_topic =
        "\xef\xbb\xbf"
        "a/b";
    mqtt::binary corr(65'535);
    for (std::size_t i = 0; i < corr.size(); ++i) corr[i] = static_cast<std::uint8_t>(i * 7 + 3);
    auto p = make_publish(bom_topic, "payload", qos::at_least_once, 3);
    p.props.set_binary(mqtt::property_id::correlation_data, corr);
    pub->send(p);
    // sec-3.4.2.1: a subscriber matched, so Success (broker.txt C04a: 0x10 without one).
    const auto ack = pub->receive_frame();
    REQUIRE(ack);
    CHECK(to_hex(*ack) == "40 02 00 03");
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(m->topic == bom_topic);
    const auto* got = m->props.get_binary(mqtt::property_id::correlation_data);
    REQUIRE(got);
    CHECK(*got == corr);
    CHECK(payload_of(*m) == "payload");
}

TEST_CASE("MQTT-4.7.2-1 C19 $foo/x is routed but not matched by #") {
    broker_fixture b;
    auto all = b.client("all");
    REQUIRE(b.ok);
    REQUIRE(all->subscribe("#", qos::at_most_once));
    auto dollar = b.client("dollar");
    REQUIRE(b.ok);
    REQUIRE(dollar->subscribe("$foo/#", qos::at_most_once));
    auto pub = b.client("pub");
    REQUIRE(b.ok);
    pub->send(make_publish("$foo/x", "d", qos::at_least_once, 1));
    auto ack = as<mqtt::puback>(pub->receive());
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::success);
    auto m = as<mqtt::publish>(dollar->receive());
    REQUIRE(m);
    CHECK(m->topic == "$foo/x");
    CHECK(all->silent_for(milliseconds(200)));
}

// D09: retained messages matched by a SUBSCRIBE wait in a backlog that
// max_queued does not limit (server_session::deliver_retained) and go out as
// the client acknowledges. Before, they went through the session queue and
// drop-oldest evicted 18,991 of 20,000.
TEST_CASE("D09 a # subscriber gets 20000 retained messages at its own pace, none dropped, others unaffected") {
    // max_queued 1000: had the retained set been copied into the queue, 19,000 would drop.
    broker_fixture b;
    bystander by(b.port(), "by");
    REQUIRE(by.connected());
    auto pub = b.client("pub");
    REQUIRE(b.ok);
    constexpr int total = 20'000;
    for (int i = 0; i < total; ++i) {
        pub->send(make_publish("r/" + std::to_string(i), std::string(100, 'r'), qos::at_least_once,
                               static_cast<std::uint16_t>(i % 60'000 + 1), true));
        REQUIRE(as<mqtt::puback>(pub->receive()));
    }
    const auto rss0 = rss_bytes();

    raw_client sub(b.port());
    mqtt::connect conn;
    conn.client_id = "hash";
    conn.props.set_int(mqtt::property_id::receive_maximum, 10);
    REQUIRE(sub.connect(conn));
    mqtt::subscribe s;
    s.packet_id = 1;
    s.entries.push_back(mqtt::subscription{"#", qos::at_least_once});
    sub.send(s);
    REQUIRE(as<mqtt::suback>(sub.receive()));
    // Unacknowledged: the window (10) and nothing more arrives.
    std::vector<std::uint16_t> held;
    while (auto m = as<mqtt::publish>(sub.receive(milliseconds(300)))) held.push_back(m->packet_id);
    CHECK(held.size() == 10);
    CHECK(by.round_trip("while the window is full"));
    std::set<std::string> topics;
    for (auto id : held) sub.send(mqtt::puback{id, reason::success, {}});
    int received = static_cast<int>(held.size());
    while (received < total) {
        auto m = as<mqtt::publish>(sub.receive(milliseconds(3000)));
        INFO("received ", received, ", dropped ", b.server().stats().messages_dropped, " (queue full ",
             b.server().stats().dropped_queue_full, ")");
        REQUIRE(m);
        sub.send(mqtt::puback{m->packet_id, reason::success, {}});
        if (m->topic.rfind("by/", 0) == 0) continue;  // the bystander's own echo
        CHECK(m->retain);
        topics.insert(m->topic);
        ++received;
    }
    CHECK(received == total);
    CHECK(topics.size() == static_cast<std::size_t>(total - 10));  // no duplicates after the first window
    CHECK(b.server().stats().messages_dropped == 0);
    if (!sanitized) CHECK(rss_bytes() < rss0 + 16 * MiB);
    CHECK(by.round_trip("after"));
}

TEST_CASE(
    "D06 30000-level filter and topic (limits raised): subscribed, matched and delivered without deep "
    "recursion") {
    broker_fixture b([](mqtt::net::broker_limits& l) {
        l.max_topic_levels = 40'000;
        l.max_topic_length = 65'535;  // topics and filters have their own length limit
    });
    auto sub = b.client("deep-sub");
    REQUIRE(b.ok);
    std::string filter, topic;
    for (int i = 0; i < 29'999; ++i) {
        filter += "+/";
        topic += "a/";
    }
    filter += "#";
    topic += "a";
    auto sa = sub->subscribe(filter, qos::at_most_once);
    REQUIRE(sa);
    CHECK(sa->reason_codes == std::vector<reason>{reason::granted_qos_0});
    REQUIRE(sub->subscribe(topic, qos::at_most_once, 2));  // and the exact topic as a filter
    auto pub = b.client("deep-pub");
    REQUIRE(b.ok);
    pub->send(make_publish(topic, "deep"));
    // Overlapping subscriptions: one copy, or one per subscription [MQTT-3.3.4-2].
    auto m = as<mqtt::publish>(sub->receive());
    REQUIRE(m);
    CHECK(m->topic == topic);
    CHECK(payload_of(*m) == "deep");
    pub->send_hex("c0 00");
    auto f = pub->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "d0 00");
}
