// SPDX-License-Identifier: MIT
// mq pub --topic-alias N (MQTT 5.0 section 3.3.2.3.4): once the message that
// binds the alias has gone out, repeated publishes to the same topic send an
// empty topic name. A recording peer standing in for the broker shows the
// wire; a real broker shows that subscribers still get the full topic.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {

struct seen_publish {
    std::string topic;
    std::uint32_t alias = 0;
};

// Accepts one MQTT 5 client on 127.0.0.1, answers CONNECT with a CONNACK
// advertising Topic Alias Maximum 5, acknowledges QoS 1 and records every
// PUBLISH until DISCONNECT or close. Bounded: gives up after 15 s.
class recording_peer {
public:
    recording_peer() {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listen_fd_, 1) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~recording_peer() {
        if (thread_.joinable()) thread_.join();
        ::close(listen_fd_);
    }
    recording_peer(const recording_peer&) = delete;
    recording_peer& operator=(const recording_peer&) = delete;

    std::string port_text() const { return std::to_string(port_); }
    /// Waits for the session to end, then returns what was published.
    const std::vector<seen_publish>& publishes() {
        if (thread_.joinable()) thread_.join();
        return seen_;
    }

private:
    void serve() {
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 15'000) <= 0) return;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        std::vector<std::uint8_t> in;
        const mqtt::limits lim{};
        bool done = false;
        while (!done && std::chrono::steady_clock::now() < deadline) {
            std::error_code ec;
            auto frame = mqtt::next_frame(in, lim, ec);
            if (ec) break;
            if (!frame) {
                pollfd q{fd, POLLIN, 0};
                if (::poll(&q, 1, 100) <= 0) continue;
                std::uint8_t buf[4096];
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) break;
                in.insert(in.end(), buf, buf + n);
                continue;
            }
            const auto pkt = mqtt::decode_frame(*frame, mqtt::protocol_version::v5, lim, ec);
            const std::size_t used = frame->total;
            if (ec) break;
            if (std::holds_alternative<mqtt::connect>(pkt)) {
                mqtt::connack ack;
                ack.props.set_int(mqtt::property_id::topic_alias_maximum, 5);
                reply(fd, ack);
            } else if (const auto* pub = std::get_if<mqtt::publish>(&pkt)) {
                seen_.push_back({pub->topic, pub->props.get_int(mqtt::property_id::topic_alias).value_or(0)});
                if (pub->level == mqtt::qos::at_least_once) {
                    mqtt::puback ack;
                    ack.packet_id = pub->packet_id;
                    reply(fd, ack);
                }
            } else if (std::holds_alternative<mqtt::disconnect>(pkt)) {
                done = true;
            }
            in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(used));
        }
        ::close(fd);
    }

    static void reply(int fd, const mqtt::packet& p) {
        std::vector<std::uint8_t> out;
        REQUIRE(!mqtt::encode(p, mqtt::protocol_version::v5, out));
        REQUIRE(::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()));
    }

    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::vector<seen_publish> seen_;
};

std::vector<std::string> topics_of(const std::vector<seen_publish>& v) {
    std::vector<std::string> out;
    for (const auto& p : v) out.push_back(p.topic);
    return out;
}

}  // namespace

TEST_CASE("e2e pub --topic-alias: repeats after the binding message send an empty topic") {
    const std::vector<std::string> bound{"plant/t", "", ""};
    {
        recording_peer peer;  // QoS 0: the binding message is written before the next
        const auto r = run_mq({"pub", "-h", "127.0.0.1", "-p", peer.port_text(), "-t", "plant/t", "-m", "21",
                               "--repeat", "3", "--topic-alias", "2"});
        CHECK(r.exit_code == 0);
        const auto& seen = peer.publishes();
        CHECK(topics_of(seen) == bound);
        for (const auto& p : seen) CHECK(p.alias == 2);
    }
    {
        recording_peer peer;  // QoS 1, one in flight: each PUBACK comes before the next message
        const auto r = run_mq({"pub", "-h", "127.0.0.1", "-p", peer.port_text(), "-t", "plant/t", "-m", "21",
                               "--repeat", "3", "-q", "1", "-M", "1", "--topic-alias", "1"});
        CHECK(r.exit_code == 0);
        CHECK(topics_of(peer.publishes()) == bound);
    }
    {
        recording_peer peer;  // -l: every line goes to -t
        const auto r = run_mq(
            {"pub", "-h", "127.0.0.1", "-p", peer.port_text(), "-t", "plant/t", "-l", "--topic-alias", "1"}, "a\nb\n");
        CHECK(r.exit_code == 0);
        CHECK(topics_of(peer.publishes()) == std::vector<std::string>{"plant/t", ""});
    }
    {
        recording_peer peer;  // --ndjson lines name their topics: always in full
        const auto r = run_mq({"pub", "-h", "127.0.0.1", "-p", peer.port_text(), "--ndjson", "--topic-alias", "1"},
                              "{\"topic\":\"a\",\"payload\":\"1\"}\n{\"topic\":\"a\",\"payload\":\"2\"}\n");
        CHECK(r.exit_code == 0);
        CHECK(topics_of(peer.publishes()) == std::vector<std::string>{"a", "a"});
    }
    {
        recording_peer peer;  // above the peer's Topic Alias Maximum (5): 65, nothing published
        const auto r = run_mq({"pub", "-h", "127.0.0.1", "-p", peer.port_text(), "-t", "plant/t", "-m", "21",
                               "--topic-alias", "6"});
        CHECK(r.exit_code == 65);
        CHECK(r.err.find("Topic Alias Maximum (5)") != std::string::npos);
        CHECK(peer.publishes().empty());
    }
    CHECK(run_mq({"pub", "-p", "1", "-t", "a", "-m", "x", "--topic-alias", "0"}).exit_code == 64);
}

TEST_CASE("e2e pub --topic-alias through a broker: subscribers get the full topic") {
    e2e_broker broker;
    process sub(mq_cmd({"sub", "-p", broker.port_text(), "-t", "alias/#", "-v", "-W", "20"}));
    REQUIRE(wait_subscribed(sub, broker, "alias/sync"));
    const auto r = run_mq({"pub", "-p", broker.port_text(), "-t", "alias/t", "-m", "m", "--repeat", "3", "-q", "1",
                           "-M", "1", "--topic-alias", "1"});
    CHECK(r.exit_code == 0);
    std::vector<std::string> lines;
    while (lines.size() < 3) {
        auto line = sub.read_line(5s);
        if (!line) break;
        if (line->starts_with("alias/sync")) continue;  // extra sync messages
        lines.push_back(*line);
    }
    CHECK(lines == std::vector<std::string>{"alias/t m", "alias/t m", "alias/t m"});
    sub.signal(SIGTERM);
    CHECK(sub.wait(5s).exit_code == 0);
}

TEST_CASE("e2e sub --topic-alias-maximum: the broker's outbound aliases still print full topics") {
    e2e_broker broker;
    // Topic Alias Maximum 1: the two topics take turns redefining alias 1.
    process sub(mq_cmd({"sub", "-p", broker.port_text(), "-t", "alias/#", "-v", "-W", "20",
                        "--topic-alias-maximum", "1"}));
    REQUIRE(wait_subscribed(sub, broker, "alias/sync"));
    for (const char* t : {"alias/a", "alias/a", "alias/b", "alias/a", "alias/b", "alias/b"})
        REQUIRE(run_mq({"pub", "-p", broker.port_text(), "-t", t, "-m", "m", "-q", "1"}).exit_code == 0);
    std::vector<std::string> lines;
    while (lines.size() < 6) {
        auto line = sub.read_line(5s);
        if (!line) break;
        if (line->starts_with("alias/sync")) continue;
        lines.push_back(*line);
    }
    CHECK(lines == std::vector<std::string>{"alias/a m", "alias/a m", "alias/b m", "alias/a m", "alias/b m",
                                            "alias/b m"});
    sub.signal(SIGTERM);
    CHECK(sub.wait(5s).exit_code == 0);
}
