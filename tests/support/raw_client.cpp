// SPDX-License-Identifier: MIT
#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

namespace mq::test {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Large limits: the test peer must see whatever the broker sends.
mqtt::limits peer_limits() {
    mqtt::limits l;
    return l;
}

}  // namespace

std::vector<std::uint8_t> from_hex(std::string_view text) {
    std::vector<std::uint8_t> out;
    int hi = -1;
    bool comment = false;
    for (char c : text) {
        if (comment) {
            if (c == '\n') comment = false;
            continue;
        }
        if (c == '#') {
            comment = true;
            continue;
        }
        const int d = hex_digit(c);
        if (d < 0) continue;
        if (hi < 0) {
            hi = d;
        } else {
            out.push_back(static_cast<std::uint8_t>(hi * 16 + d));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i) s.push_back(' ');
        s.push_back(digits[bytes[i] >> 4]);
        s.push_back(digits[bytes[i] & 0xf]);
    }
    return s;
}

raw_client::raw_client(std::uint16_t port, mqtt::protocol_version v) : version(v) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int e = errno;
        ::close(fd_);
        fd_ = -1;
        throw std::system_error(e, std::generic_category(), "connect");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

raw_client::~raw_client() {
    close();
}

void raw_client::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void raw_client::send_bytes(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size() && fd_ >= 0) {
        const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // the broker may already have closed; receive() reports it
        }
        done += static_cast<std::size_t>(n);
    }
}

void raw_client::send(const mqtt::packet& p) {
    std::vector<std::uint8_t> out;
    if (auto ec = mqtt::encode(p, version, out)) throw std::system_error(ec, "encode");
    send_bytes(out);
}

bool raw_client::fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || peer_closed_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    pollfd p{fd_, POLLIN, 0};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    const int r = ::poll(&p, 1, static_cast<int>(ms) + 1);
    if (r <= 0) return false;
    std::uint8_t tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
        if (n < 0 && errno == EINTR) return true;
        peer_closed_ = true;
        return false;
    }
    buf_.insert(buf_.end(), tmp, tmp + n);
    return true;
}

std::optional<std::vector<std::uint8_t>> raw_client::receive_frame(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto lim = peer_limits();
    for (;;) {
        std::error_code ec;
        auto f = mqtt::next_frame(buf_, lim, ec);
        if (ec) return std::nullopt;
        if (f) {
            std::vector<std::uint8_t> out(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(f->total));
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(f->total));
            return out;
        }
        if (!fill(deadline)) return std::nullopt;
    }
}

std::optional<mqtt::packet> raw_client::receive(std::chrono::milliseconds timeout) {
    auto bytes = receive_frame(timeout);
    if (!bytes) return std::nullopt;
    std::error_code ec;
    auto f = mqtt::next_frame(*bytes, peer_limits(), ec);
    if (!f) return std::nullopt;
    auto p = mqtt::decode_frame(*f, version, peer_limits(), ec);
    if (ec) return std::nullopt;
    return p;
}

bool raw_client::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!peer_closed_) {
        buf_.clear();
        if (!fill(deadline) && !peer_closed_) return false;
    }
    return true;
}

bool raw_client::silent_for(std::chrono::milliseconds quiet) {
    const auto deadline = std::chrono::steady_clock::now() + quiet;
    const std::size_t before = buf_.size();
    while (std::chrono::steady_clock::now() < deadline) {
        if (!fill(deadline)) break;
    }
    return buf_.size() == before && !peer_closed_;
}

std::optional<mqtt::connack> raw_client::connect(mqtt::connect c) {
    c.version = version;
    send(c);
    return as<mqtt::connack>(receive());
}

std::optional<mqtt::connack> raw_client::connect(std::string client_id, bool clean_start) {
    mqtt::connect c;
    c.client_id = std::move(client_id);
    c.clean_start = clean_start;
    c.keep_alive = 60;
    return connect(std::move(c));
}

std::optional<mqtt::suback> raw_client::subscribe(std::string filter, mqtt::qos q, std::uint16_t packet_id,
                                                  std::uint8_t retain_handling, bool no_local,
                                                  bool retain_as_published,
                                                  std::optional<std::uint32_t> subscription_id) {
    mqtt::subscribe s;
    s.packet_id = packet_id;
    mqtt::subscription e;
    e.filter = std::move(filter);
    e.max_qos = q;
    e.retain_handling = retain_handling;
    e.no_local = no_local;
    e.retain_as_published = retain_as_published;
    s.entries.push_back(std::move(e));
    if (subscription_id) s.props.add_int(mqtt::property_id::subscription_identifier, *subscription_id);
    send(s);
    return as<mqtt::suback>(receive());
}

}  // namespace mq::test
