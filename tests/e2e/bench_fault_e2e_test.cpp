// SPDX-License-Identifier: MIT
// `mq bench` against a deliberately faulty in-test broker: it drops, duplicates,
// reorders or delays the PUBLISH packets it forwards, and the bench must report
// exactly that (bench-method.md §5, issue 5 "latency figures are correct").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

#include "process.hpp"

namespace {

using clk = std::chrono::steady_clock;

enum class fault { none, drop_dup_swap, delay_20ms };

bool send_all(int fd, const std::vector<std::uint8_t>& b) {
    std::size_t off = 0;
    while (off < b.size()) {
        const ssize_t n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

/// Accepts the bench's subscriber and publisher (subscriber first, as the bench
/// connects them), answers CONNECT/SUBSCRIBE, and forwards the publisher's QoS 0
/// PUBLISH frames to the subscriber with `mode` applied by payload sequence number.
class fault_broker {
public:
    explicit fault_broker(fault mode, mqtt::connack connack = {}) : mode_(mode), connack_(std::move(connack)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listen_fd_, 8) == 0);
        socklen_t len = sizeof a;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~fault_broker() {
        stop_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        for (int fd : {sub_fd_.load(), pub_fd_.load()}) {
            if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
        }
        if (thread_.joinable()) thread_.join();
        if (delay_thread_.joinable()) delay_thread_.join();
        ::close(listen_fd_);
        for (int fd : {sub_fd_.load(), pub_fd_.load()}) {
            if (fd >= 0) ::close(fd);
        }
    }
    std::uint16_t port() const { return port_; }

private:
    // Reads frames from `fd` and calls `on` for each; returns when the peer leaves.
    template <class F>
    void read_frames(int fd, F on) {
        std::vector<std::uint8_t> buf;
        std::uint8_t chunk[65536];
        mqtt::limits lim;
        while (!stop_) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buf.insert(buf.end(), chunk, chunk + n);
            std::size_t off = 0;
            while (true) {
                std::error_code ec;
                auto f = mqtt::next_frame(std::span<const std::uint8_t>(buf).subspan(off), lim, ec);
                if (ec || !f) break;
                if (!on(*f)) return;
                off += f->total;
            }
            buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(off));
        }
    }

    // CONNECT -> CONNACK; returns false if the first frame was not CONNECT.
    bool handshake(int fd) {
        bool ok = false;
        read_frames(fd, [&](const mqtt::frame_view& f) {
            std::error_code ec;
            auto p = mqtt::decode_frame(f, mqtt::protocol_version::v5, mqtt::limits{}, ec);
            ok = !ec && std::holds_alternative<mqtt::connect>(p);
            std::vector<std::uint8_t> out;
            (void)mqtt::encode(mqtt::packet{connack_}, mqtt::protocol_version::v5, out);
            send_all(fd, out);
            return false;  // stop after the first frame
        });
        return ok;
    }

    static std::uint64_t seq_of(const mqtt::frame_view& f) {
        // QoS 0, v5: topic length, topic, property length (0), payload; seq at payload offset 16.
        const auto b = f.body;
        const std::size_t tlen = static_cast<std::size_t>((b[0] << 8) | b[1]);
        const std::size_t payload = 2 + tlen + 1;
        std::uint64_t s = 0;
        for (std::size_t i = 0; i < 8; ++i) s |= std::uint64_t{b[payload + 16 + i]} << (8 * i);
        return s;
    }

    void forward(const std::vector<std::uint8_t>& frame) { send_all(sub_fd_, frame); }

    void run() {
        const int s = ::accept(listen_fd_, nullptr, nullptr);
        if (s < 0) return;
        sub_fd_ = s;
        if (!handshake(s)) return;
        // SUBSCRIBE -> SUBACK (granted QoS 0), then the subscriber only reads.
        read_frames(s, [&](const mqtt::frame_view& f) {
            std::error_code ec;
            auto p = mqtt::decode_frame(f, mqtt::protocol_version::v5, mqtt::limits{}, ec);
            if (auto* sub = std::get_if<mqtt::subscribe>(&p)) {
                mqtt::suback ack;
                ack.packet_id = sub->packet_id;
                ack.reason_codes = {mqtt::reason::granted_qos_0};
                std::vector<std::uint8_t> out;
                (void)mqtt::encode(mqtt::packet{ack}, mqtt::protocol_version::v5, out);
                send_all(s, out);
                return false;
            }
            return true;
        });
        const int p = ::accept(listen_fd_, nullptr, nullptr);
        if (p < 0) return;
        pub_fd_ = p;
        if (!handshake(p)) return;
        if (mode_ == fault::delay_20ms) {
            delay_thread_ = std::thread([this] { run_delayed(); });
        }
        std::optional<std::vector<std::uint8_t>> held;
        read_frames(p, [&](const mqtt::frame_view& f) {
            if (f.type() == mqtt::packet_type::disconnect) return false;
            if (f.type() != mqtt::packet_type::publish) return true;
            const auto* start = f.body.data() - (f.total - f.body.size());
            std::vector<std::uint8_t> frame(start, start + f.total);
            const std::uint64_t seq = seq_of(f);
            switch (mode_) {
                case fault::none:
                    forward(frame);
                    break;
                case fault::delay_20ms: {
                    const std::lock_guard lock(mu_);
                    delayed_.emplace_back(clk::now() + std::chrono::milliseconds(20), std::move(frame));
                    break;
                }
                case fault::drop_dup_swap:
                    if (seq % 10 == 3) break;           // dropped
                    if (seq % 10 == 5) forward(frame);  // duplicated
                    if (seq % 10 == 7) {
                        held = std::move(frame);  // sent after 8: reordered
                        break;
                    }
                    forward(frame);
                    if (seq % 10 == 8 && held) {
                        forward(*held);
                        held.reset();
                    }
                    break;
            }
            return true;
        });
        publisher_gone_ = true;
    }

    void run_delayed() {
        while (!stop_) {
            std::optional<std::vector<std::uint8_t>> next;
            {
                const std::lock_guard lock(mu_);
                if (!delayed_.empty() && delayed_.front().first <= clk::now()) {
                    next = std::move(delayed_.front().second);
                    delayed_.pop_front();
                }
            }
            if (next) {
                forward(*next);
                continue;
            }
            if (publisher_gone_) {
                const std::lock_guard lock(mu_);
                if (delayed_.empty()) return;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }

    fault mode_;
    mqtt::connack connack_;  // sent to both clients
    int listen_fd_ = -1;
    std::atomic<int> sub_fd_{-1}, pub_fd_{-1};
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false}, publisher_gone_{false};
    std::thread thread_, delay_thread_;
    std::mutex mu_;
    std::deque<std::pair<clk::time_point, std::vector<std::uint8_t>>> delayed_;
};

nlohmann::json run_bench(std::uint16_t port, std::vector<std::string> extra) {
    std::vector<std::string> argv{
        MQ_BINARY, "bench",    "e2e",   "-h",         "127.0.0.1", "-p",      std::to_string(port),
        "--json",  "--warmup", "300ms", "--duration", "1s",        "--drain", "1s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    mq::test::process proc(argv);
    const auto r = proc.wait(std::chrono::seconds(30));
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("bench counts drops, duplicates and reordering done by a faulty broker") {
    fault_broker broker(fault::drop_dup_swap);
    const auto s = run_bench(broker.port(), {"--rate", "2000"});
    const auto& c = s["counts"];
    const double expected = c["expected"].get<double>();
    INFO(s.dump());
    REQUIRE(expected >= 1900);
    // One in ten of each kind; boundaries of the window may cut one of each.
    CHECK(std::abs(c["lost"].get<double>() - expected / 10) <= 2);
    CHECK(std::abs(c["duplicates"].get<double>() - expected / 10) <= 2);
    CHECK(std::abs(c["reordered"].get<double>() - expected / 10) <= 2);
    CHECK(c["late"] == 0);
    CHECK(c["received"].get<double>() + c["lost"].get<double>() == expected);
    CHECK(s["rates"]["delivered_ratio"].get<double>() == doctest::Approx(0.9).epsilon(0.01));
}

TEST_CASE("bench without faults reports no loss and matching counts") {
    fault_broker broker(fault::none);
    const auto s = run_bench(broker.port(), {"--rate", "2000"});
    const auto& c = s["counts"];
    INFO(s.dump());
    CHECK(c["lost"] == 0);
    CHECK(c["duplicates"] == 0);
    CHECK(c["reordered"] == 0);
    CHECK(c["received"] == c["expected"]);
    CHECK(s["latency_us"]["intended"]["p50"].get<double>() < 10'000);
}

TEST_CASE("bench reports wire bytes per second and the limits the broker advertised in CONNACK") {
    mqtt::connack ca;
    ca.props.set_int(mqtt::property_id::receive_maximum, 50);
    ca.props.set_int(mqtt::property_id::maximum_packet_size, 100000);
    ca.props.set_int(mqtt::property_id::topic_alias_maximum, 7);
    ca.props.set_int(mqtt::property_id::maximum_qos, 1);
    ca.props.set_int(mqtt::property_id::retain_available, 0);
    fault_broker broker(fault::none, ca);
    const auto s = run_bench(broker.port(), {"--rate", "2000"});
    INFO(s.dump());
    const auto& b = s["broker_limits"];
    REQUIRE(b.is_object());
    CHECK(b["receive_maximum"] == 50);
    CHECK(b["maximum_packet_size"] == 100000);
    CHECK(b["topic_alias_maximum"] == 7);
    CHECK(b["maximum_qos"] == 1);
    CHECK(b["retain_available"] == false);
    CHECK(b["wildcard_subscription_available"] == true);  // not sent: default
    CHECK(b["advertised"].size() == 5);
    // QoS 0 PUBLISH, v5, empty properties, 64-byte payload on "mq-bench/XXXXXXXX/0": 88 bytes a frame.
    const double frame = 1 + 1 + 2 + 19 + 1 + 64;
    const double delivered = s["rates"]["delivered"].get<double>(), sent = s["rates"]["sent"].get<double>();
    REQUIRE(delivered > 1900);
    CHECK(s["rates"]["bytes_received"].get<double>() == doctest::Approx(delivered * frame).epsilon(0.1));
    CHECK(s["rates"]["bytes_sent"].get<double>() == doctest::Approx(sent * frame).epsilon(0.1));
    CHECK(s["counts"]["bytes_received"].get<double>() ==
          doctest::Approx(s["counts"]["received"].get<double>() * frame).epsilon(0.1));
}

TEST_CASE("bench progress line: nothing when stderr is not a terminal, a live line when it is") {
    // stderr is a pipe here: not one byte of progress, even with a TERM that could show it.
    mq::test::process piped({MQ_BINARY, "bench", "e2e", "--json", "--warmup", "500ms", "--duration", "1500ms",
                             "--rate", "1000", "-q", "1"},
                            {{"TERM", "xterm"}});
    const auto r = piped.wait(std::chrono::seconds(30));
    REQUIRE(r.exit_code == 0);
    CHECK_MESSAGE(r.err.empty(), r.err);
    CHECK(nlohmann::json::parse(r.out)["type"] == "summary");

    // On a pseudo-terminal (script(1) gives the child one) the line appears, with its fields.
    if (std::system("command -v script >/dev/null 2>&1") != 0) {
        MESSAGE("script(1) not installed: TTY progress not checked end to end");
        return;
    }
    const std::string cmd = std::string(MQ_BINARY) +
                            " bench e2e --warmup 500ms --duration 1500ms --rate 1000 -q 1 --json >/dev/null";
    mq::test::process tty({"/usr/bin/script", "-qec", cmd, "/dev/null"}, {{"TERM", "xterm"}});
    const auto t = tty.wait(std::chrono::seconds(30));
    INFO("tty output: " << t.out);
    CHECK(t.exit_code == 0);
    CHECK(t.out.find("\r\033[K") != std::string::npos);
    CHECK(t.out.find("window +") != std::string::npos);
    CHECK(t.out.find("in-flight ") != std::string::npos);
    CHECK(t.out.find("p99 ") != std::string::npos);
    CHECK(t.out.find("errors 0") != std::string::npos);
}

TEST_CASE("bench latency percentiles move by a delay injected in the broker") {
    fault_broker broker(fault::delay_20ms);
    const auto s = run_bench(broker.port(), {"--rate", "1000"});
    INFO(s.dump());
    const auto& lat = s["latency_us"]["intended"];
    CHECK(lat["min"].get<double>() >= 20'000);
    CHECK(lat["p50"].get<double>() >= 20'000);
    CHECK(lat["p50"].get<double>() < 30'000);
    CHECK(s["latency_us"]["service"]["p50"].get<double>() >= 20'000);
    CHECK(s["counts"]["lost"] == 0);
}

TEST_CASE("bench fail-if gate trips with exit 1 and bad gate syntax is a usage error") {
    fault_broker broker(fault::drop_dup_swap);
    std::vector<std::string> argv{MQ_BINARY,
                                  "bench",
                                  "e2e",
                                  "-h",
                                  "127.0.0.1",
                                  "-p",
                                  std::to_string(broker.port()),
                                  "--json",
                                  "--warmup",
                                  "200ms",
                                  "--duration",
                                  "500ms",
                                  "--drain",
                                  "500ms",
                                  "--rate",
                                  "1000",
                                  "--fail-if",
                                  "lost>0"};
    mq::test::process proc(argv);
    const auto r = proc.wait(std::chrono::seconds(30));
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 1);
    const auto s = nlohmann::json::parse(r.out);
    CHECK(s["gates"][0]["passed"] == false);

    mq::test::process bad({MQ_BINARY, "bench", "e2e", "-h", "127.0.0.1", "-p", "1", "--fail-if", "p99>>5ms"});
    CHECK(bad.wait(std::chrono::seconds(10)).exit_code == 64);
    mq::test::process closed_latency(
        {MQ_BINARY, "bench", "e2e", "-h", "127.0.0.1", "-p", "1", "--fail-if", "p99>5ms"});
    CHECK(closed_latency.wait(std::chrono::seconds(10)).exit_code == 64);
}

TEST_CASE("bench without a host benchmarks an embedded broker") {
    mq::test::process proc({MQ_BINARY, "bench", "e2e", "--json", "--warmup", "200ms", "--duration", "1s",
                            "--rate", "1000", "-q", "1"});
    const auto r = proc.wait(std::chrono::seconds(30));
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    const auto s = nlohmann::json::parse(r.out);
    CHECK(s["type"] == "summary");
    CHECK(s["settings"]["embedded_broker"] == true);
    CHECK(s["settings"]["url"].get<std::string>().starts_with("mqtt://127.0.0.1:"));
    CHECK(s["counts"]["sent"].get<int>() >= 990);
    CHECK(s["counts"]["acked"] == s["counts"]["sent"]);
    CHECK(s["latency_us"]["ack"]["count"].get<int>() >= 990);
}

TEST_CASE("bench S11 interrupted by SIGINT prints a partial summary and exits 130") {
    fault_broker broker(fault::none);
    mq::test::process proc({MQ_BINARY, "bench", "e2e", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                            "--json", "--warmup", "0s", "--duration", "60s", "--rate", "500"});
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    proc.signal(SIGINT);
    const auto r = proc.wait(std::chrono::seconds(20));
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 130);
    const auto s = nlohmann::json::parse(r.out);
    CHECK(s["interrupted"] == true);
}
