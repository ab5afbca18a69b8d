// SPDX-License-Identifier: MIT
// hardening.md S07, the CI-sized version: `mq broker` as its own process, a
// storm of up to 10,000 idle connections (bystander included) opened at most
// 500 at a time, every one CONNACKed; a bystander still round trips; the
// broker's descriptors return to baseline once they close; the broker's
// memory per idle connection stays under a bound. Bounded to 30 s.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "raw_client.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

// Idle memory bound (issue 4): measured ~1,650 B per connection here (no
// resident coroutine or timer per connection, slim objects); the design with
// three coroutines and timers each took ~7,500. 3,000 leaves room for
// allocator noise and still fails on a return to per-connection coroutines.
// Sanitizer builds pad every allocation, so the bound is not asserted there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool assert_idle_memory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool assert_idle_memory = false;
#else
constexpr bool assert_idle_memory = true;
#endif
#else
constexpr bool assert_idle_memory = true;
#endif
constexpr long max_idle_bytes_per_connection = 3'000;

long long ms_since(steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
}

int fd_count_of(pid_t pid) {
    DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!d) return -1;
    int n = 0;
    while (auto* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n;
}

bool fds_back_to(pid_t pid, int baseline, std::chrono::milliseconds bound) {
    const auto deadline = steady_clock::now() + bound;
    while (fd_count_of(pid) > baseline) {
        if (steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

int start_connect(std::uint16_t port) {
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

// 3.1.1 CONNECT, clean session, keepalive 120 s, client id "c<i>".
std::vector<std::uint8_t> connect_311(int i) {
    const std::string id = "c" + std::to_string(i);
    std::vector<std::uint8_t> out = {0x10, static_cast<std::uint8_t>(12 + id.size()),
                                     0x00, 0x04,
                                     'M',  'Q',
                                     'T',  'T',
                                     0x04, 0x02,
                                     0x00, 0x78,
                                     0x00, static_cast<std::uint8_t>(id.size())};
    out.insert(out.end(), id.begin(), id.end());
    return out;
}

bool round_trip(raw_client& c, const std::string& payload, std::uint16_t id) {
    mqtt::publish p;
    p.topic = "by/e";
    p.payload.assign(payload.begin(), payload.end());
    p.level = mqtt::qos::at_least_once;
    p.packet_id = id;
    c.send(p);
    bool acked = false, echoed = false;
    for (int i = 0; i < 2; ++i) {
        auto r = c.receive(5000ms);
        if (!r) return false;
        if (auto* a = std::get_if<mqtt::puback>(&*r)) acked = a->packet_id == id;
        if (auto* m = std::get_if<mqtt::publish>(&*r)) {
            echoed = std::string(m->payload.begin(), m->payload.end()) == payload;
            c.send(mqtt::puback{m->packet_id, mqtt::reason::success, {}});
        }
    }
    return acked && echoed;
}

}  // namespace

TEST_CASE(
    "e2e S07-lite storm of 10000 idle connections to mq broker: all CONNACKed, bystander served, fds back") {
    constexpr int wanted = 10'000;  // connections in all; the default --max-sessions is 10,000
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;  // the broker inherits it
    ::setrlimit(RLIMIT_NOFILE, &rl);
    const long room = static_cast<long>(rl.rlim_cur) - 300;
    if (room < 5'000) {
        MESSAGE("skipped: RLIMIT_NOFILE hard limit ", rl.rlim_max,
                " leaves room for fewer than 5,000 connections");
        return;
    }
    const int storm = static_cast<int>(std::min<long>(wanted - 1, room));  // plus the bystander
    if (storm < wanted - 1)
        MESSAGE("RLIMIT_NOFILE ", rl.rlim_cur, ": storm reduced to ", storm, " connections");

    process broker(mq_cmd(
        {"broker", "--listen", "mqtt://127.0.0.1:0", "--max-connections", "10100", "--sys-interval", "0"}));
    const auto ready = broker.read_line(10s);
    REQUIRE(ready);
    const auto port = nlohmann::json::parse(*ready).at("listeners").at(0).at("port").get<std::uint16_t>();
    raw_client by(port);
    REQUIRE(by.connect("by"));
    REQUIRE(by.subscribe("by/e", mqtt::qos::at_least_once));
    REQUIRE(round_trip(by, "before", 1));
    const int fd_baseline = fd_count_of(broker.pid());
    const long rss_before = vm_rss_kib(broker.pid()).value_or(-1);

    enum class st { connecting, sent, done, failed };
    std::vector<int> fds(storm, -1);
    std::vector<st> state(storm, st::connecting);
    std::vector<std::uint8_t> got(storm, 0);  // CONNACK bytes read so far
    std::vector<std::array<std::uint8_t, 4>> ack(storm);
    int next = 0, active = 0, done = 0, failed = 0, bad_ack = 0;
    const auto t0 = steady_clock::now();
    std::vector<pollfd> pfds;
    std::vector<int> which;
    while (done + failed < storm && ms_since(t0) < 25'000) {
        while (active < 500 && next < storm) {  // a bounded ramp: never more than 500 handshakes at once
            fds[next] = start_connect(port);
            if (fds[next] < 0) {
                state[next] = st::failed;
                ++failed;
            } else {
                ++active;
            }
            ++next;
        }
        pfds.clear();
        which.clear();
        for (int i = 0; i < next; ++i) {
            if (state[i] == st::connecting)
                pfds.push_back({fds[i], POLLOUT, 0});
            else if (state[i] == st::sent)
                pfds.push_back({fds[i], POLLIN, 0});
            else
                continue;
            which.push_back(i);
        }
        if (::poll(pfds.data(), pfds.size(), 100) <= 0) continue;
        for (std::size_t k = 0; k < pfds.size(); ++k) {
            const int i = which[k];
            if (!pfds[k].revents) continue;
            if (state[i] == st::connecting) {
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
                const auto c = connect_311(i);
                if (err != 0 ||
                    ::send(fds[i], c.data(), c.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(c.size())) {
                    state[i] = st::failed, ++failed, --active;
                } else {
                    state[i] = st::sent;
                }
            } else {
                const ssize_t n = ::recv(fds[i], ack[i].data() + got[i], 4u - got[i], 0);
                if (n <= 0) {
                    state[i] = st::failed, ++failed, --active;
                    continue;
                }
                got[i] = static_cast<std::uint8_t>(got[i] + n);
                if (got[i] == 4) {
                    if (to_hex(ack[i]) != "20 02 00 00") ++bad_ack;
                    state[i] = st::done, ++done, --active;
                }
            }
        }
    }
    const auto connect_ms = ms_since(t0);
    const int fd_held = fd_count_of(broker.pid());
    const long rss_held = vm_rss_kib(broker.pid()).value_or(-1);
    MESSAGE("S07-lite: ", done, " of ", storm, " idle connections CONNACKed in ", connect_ms, " ms (", failed,
            " failed); broker fds ", fd_baseline, " -> ", fd_held, ", VmRSS ", rss_before, " -> ", rss_held,
            " KiB (", storm > 0 ? (rss_held - rss_before) * 1024 / storm : 0, " B per connection)");
    CHECK(done == storm);
    CHECK(failed == 0);
    CHECK(bad_ack == 0);
    CHECK(fd_held >= fd_baseline + storm);  // all held open at once
    CHECK(round_trip(by, "during", 2));     // the bystander is served with every connection open
    if (assert_idle_memory && rss_before > 0 && rss_held > 0 && storm > 0)
        CHECK((rss_held - rss_before) * 1024 / storm <= max_idle_bytes_per_connection);

    const auto t1 = steady_clock::now();
    for (int fd : fds)
        if (fd >= 0) ::close(fd);
    CHECK(fds_back_to(broker.pid(), fd_baseline, 10s));
    MESSAGE("descriptors back to baseline ", ms_since(t1), " ms after the close");
    CHECK(round_trip(by, "after", 3));
    CHECK(ms_since(t0) < 30'000);
    broker.signal(SIGTERM);
    CHECK(broker.wait(10s).exit_code == 0);
}
