// SPDX-License-Identifier: MIT
#include "hostile_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

namespace mq::test {
namespace {

using clock = std::chrono::steady_clock;

int remaining_ms(clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left > 200 ? 200 : left);  // short slices: stop_ is polled
}

// Header length and remaining length of a complete fixed header at the start
// of `b`, or nullopt when more bytes are needed.
std::optional<std::pair<std::size_t, std::size_t>> fixed_header(const byte_string& b) {
    std::size_t len = 0, mult = 1;
    for (std::size_t i = 1; i < b.size() && i <= 4; ++i) {
        len += (b[i] & 0x7fu) * mult;
        if ((b[i] & 0x80u) == 0) return std::pair{i + 1, len};
        mult *= 128;
    }
    return std::nullopt;
}

}  // namespace

byte_string mqtt_packet(std::uint8_t first, const byte_string& body) {
    byte_string out{first};
    std::size_t n = body.size();
    do {
        std::uint8_t b = n % 128;
        n /= 128;
        out.push_back(n ? static_cast<std::uint8_t>(b | 0x80) : b);
    } while (n);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

byte_string connack_v5_ok() { return {0x20, 0x03, 0x00, 0x00, 0x00}; }

byte_string suback_for(const raw_packet& sub, const byte_string& codes, bool v5) {
    byte_string body{sub.body.size() > 0 ? sub.body[0] : std::uint8_t{0}, sub.body.size() > 1 ? sub.body[1] : std::uint8_t{1}};
    if (v5) body.push_back(0x00);
    body.insert(body.end(), codes.begin(), codes.end());
    return mqtt_packet(0x90, body);
}

std::optional<raw_packet> hostile_peer::connection::read_packet(std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
        if (buf_.size() >= 2) {
            if (auto h = fixed_header(buf_); h && buf_.size() >= h->first + h->second) {
                raw_packet p;
                p.first = buf_[0];
                p.body.assign(buf_.begin() + static_cast<std::ptrdiff_t>(h->first),
                              buf_.begin() + static_cast<std::ptrdiff_t>(h->first + h->second));
                buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(h->first + h->second));
                peer_.keep(p);
                return p;
            }
        }
        if (peer_.stop_ || clock::now() >= deadline) return std::nullopt;
        pollfd pfd{fd_, POLLIN, 0};
        const int r = ::poll(&pfd, 1, remaining_ms(deadline));
        if (r < 0 && errno != EINTR) return std::nullopt;
        if (r <= 0) continue;
        std::uint8_t tmp[4096];
        const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return std::nullopt;
        buf_.insert(buf_.end(), tmp, tmp + n);
    }
}

std::optional<raw_packet> hostile_peer::connection::expect(std::uint8_t type, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        auto p = read_packet(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
        if (!p) return std::nullopt;
        if (p->type() == type) return p;
    }
    return std::nullopt;
}

bool hostile_peer::connection::send(const byte_string& bytes) {
    std::size_t off = 0;
    const auto deadline = clock::now() + std::chrono::seconds(10);
    while (off < bytes.size()) {
        if (peer_.stop_ || clock::now() >= deadline) return false;
        pollfd pfd{fd_, POLLOUT, 0};
        const int r = ::poll(&pfd, 1, remaining_ms(deadline));
        if (r < 0 && errno != EINTR) return false;
        if (r <= 0) continue;
        const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

void hostile_peer::connection::close_now() { ::shutdown(fd_, SHUT_RDWR); }

hostile_peer::hostile_peer(script s) : hostile_peer(std::vector<script>{std::move(s)}) {}

hostile_peer::hostile_peer(std::vector<script> scripts) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("hostile_peer: socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error("hostile_peer: bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, s = std::move(scripts)]() mutable { run(std::move(s)); });
}

hostile_peer::~hostile_peer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
}

void hostile_peer::keep(raw_packet p) {
    std::lock_guard lock(mu_);
    received_.push_back(std::move(p));
}

void hostile_peer::run(std::vector<script> scripts) {
    for (auto& s : scripts) {
        // Accept, bounded so a client that never comes does not hold the test.
        const auto deadline = clock::now() + std::chrono::seconds(20);
        int fd = -1;
        while (fd < 0 && !stop_ && clock::now() < deadline) {
            pollfd pfd{listen_fd_, POLLIN, 0};
            if (::poll(&pfd, 1, remaining_ms(deadline)) > 0) fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        }
        if (fd < 0) break;
        connection c(*this, fd);
        s(c);
        while (!stop_ && c.read_packet(std::chrono::seconds(15))) {
        }
        ::close(fd);
    }
    done_ = true;
}

std::vector<raw_packet> hostile_peer::finish(std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (!done_ && clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    return received_;
}

bool hostile_peer::has_disconnect(const std::vector<raw_packet>& packets, std::uint8_t code) {
    for (const auto& p : packets) {
        if (p.first == 0xe0 && !p.body.empty() && p.body[0] == code) return true;
    }
    return false;
}

}  // namespace mq::test
