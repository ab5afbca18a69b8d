// SPDX-License-Identifier: MIT
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <system_error>
#include <vector>

namespace mq::test {
namespace {

using clock = std::chrono::steady_clock;
// Per direction: bytes read but not yet written. Reading pauses above it, so a
// slow receiver slows the sender as a real network path would.
constexpr std::size_t max_pending = 1024 * 1024;
constexpr int poll_ms = 10;

struct chunk {
    std::vector<std::uint8_t> bytes;
    std::size_t off = 0;
    clock::time_point due;
};

struct conn {
    int fd[2] = {-1, -1};           // [0] client side, [1] server side
    bool eof[2] = {false, false};   // read side of fd[i] finished
    bool shut[2] = {false, false};  // write side of fd[i] shut down
    std::deque<chunk> q[2];         // q[d]: bytes travelling in direction d
    std::size_t queued[2] = {0, 0};
    bool hup[2] = {false, false};  // fd[i] reported hang-up or error
    bool dead = false;
};

// Direction d reads from fd[src(d)] and writes to fd[dst(d)].
constexpr int src(int d) {
    return d == 0 ? 0 : 1;
}
constexpr int dst(int d) {
    return d == 0 ? 1 : 0;
}

void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// Close with RST instead of FIN: what a crashed host or a middlebox reset looks like.
void reset_close(int fd) {
    if (fd < 0) return;
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

void close_conn(conn& c, bool reset) {
    for (int& fd : c.fd) {
        if (reset)
            reset_close(fd);
        else if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
    c.dead = true;
}

}  // namespace

fault_proxy::fault_proxy(std::uint16_t upstream_port) : upstream_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "fault_proxy socket");
    auto addr = loopback(0);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 1024) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const int e = errno;
        ::close(listen_fd_);
        throw std::system_error(e, std::generic_category(), "fault_proxy listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
}

fault_proxy::~fault_proxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
}

void fault_proxy::set(mode m, std::chrono::milliseconds delay) {
    set(direction::to_server, m, delay);
    set(direction::to_client, m, delay);
}

void fault_proxy::set(direction d, mode m, std::chrono::milliseconds delay) {
    delay_ms_[static_cast<int>(d)] = delay.count();
    mode_[static_cast<int>(d)] = static_cast<int>(m);
}

void fault_proxy::cut() {
    const auto want = ++cut_requests_;
    const auto deadline = clock::now() + std::chrono::seconds(2);
    while (cuts_done_.load() < want && clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void fault_proxy::loop() {
    std::vector<conn> conns;
    std::vector<pollfd> pfds;
    std::vector<std::uint8_t> buf(64 * 1024);
    while (!stop_) {
        if (const auto want = cut_requests_.load(); cuts_done_.load() < want) {
            for (auto& c : conns) close_conn(c, true);
            conns.clear();
            cuts_done_ = want;
        }
        mode m[2];
        std::chrono::milliseconds delay[2];
        for (int d = 0; d < 2; ++d) {
            m[d] = static_cast<mode>(mode_[d].load());
            delay[d] = std::chrono::milliseconds(delay_ms_[d].load());
        }
        const auto now = clock::now();
        auto wait = std::chrono::milliseconds(poll_ms);

        pfds.clear();
        pfds.push_back({listen_fd_, POLLIN, 0});
        for (auto& c : conns) {
            short ev[2] = {0, 0};
            for (int d = 0; d < 2; ++d) {
                if (m[d] != mode::stall && !c.eof[src(d)] && c.queued[d] < max_pending) ev[src(d)] |= POLLIN;
                if (!c.q[d].empty() && m[d] != mode::stall) {
                    if (c.q[d].front().due <= now)
                        ev[dst(d)] |= POLLOUT;
                    else
                        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  c.q[d].front().due - now) +
                                                  std::chrono::milliseconds(1));
                }
            }
            // A hung-up socket nobody reads (stall) would wake poll() at once, forever:
            // leave it out until its direction reads again.
            for (int f = 0; f < 2; ++f) pfds.push_back({(c.hup[f] && ev[f] == 0) ? -1 : c.fd[f], ev[f], 0});
        }
        if (::poll(pfds.data(), pfds.size(), static_cast<int>(wait.count())) < 0 && errno != EINTR) break;
        // The mode may have changed while poll() waited: bytes read from here on obey
        // the new one (a test sets drop, then sends, and expects that packet dropped).
        for (int d = 0; d < 2; ++d) {
            m[d] = static_cast<mode>(mode_[d].load());
            delay[d] = std::chrono::milliseconds(delay_ms_[d].load());
        }

        for (std::size_t i = 0; i < conns.size(); ++i) {
            auto& c = conns[i];
            const short rev[2] = {pfds[1 + 2 * i].revents, pfds[2 + 2 * i].revents};
            for (int f = 0; f < 2; ++f)
                if (rev[f] & (POLLHUP | POLLERR)) c.hup[f] = true;
            for (int d = 0; d < 2 && !c.dead; ++d) {
                const int s = src(d);
                if ((rev[s] & (POLLIN | POLLHUP | POLLERR)) && (pfds[1 + 2 * i + s].events & POLLIN)) {
                    const ssize_t n = ::recv(c.fd[s], buf.data(), buf.size(), 0);
                    if (n > 0) {
                        if (m[d] == mode::drop) {
                            dropped_[d] += static_cast<std::uint64_t>(n);
                        } else {
                            const auto due = m[d] == mode::delay ? clock::now() + delay[d] : clock::now();
                            c.q[d].push_back(
                                {std::vector<std::uint8_t>(buf.begin(), buf.begin() + n), 0, due});
                            c.queued[d] += static_cast<std::size_t>(n);
                        }
                    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        c.eof[s] = true;
                    }
                }
                const int t = dst(d);
                while (!c.q[d].empty() && m[d] != mode::stall && c.q[d].front().due <= clock::now()) {
                    auto& ch = c.q[d].front();
                    const ssize_t n =
                        ::send(c.fd[t], ch.bytes.data() + ch.off, ch.bytes.size() - ch.off, MSG_NOSIGNAL);
                    if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR) close_conn(c, true);  // peer reset: pass it on
                        break;
                    }
                    ch.off += static_cast<std::size_t>(n);
                    c.queued[d] -= static_cast<std::size_t>(n);
                    forwarded_[d] += static_cast<std::uint64_t>(n);
                    if (ch.off < ch.bytes.size()) break;
                    c.q[d].pop_front();
                }
                // A close travels once everything before it has; in drop mode it is swallowed.
                if (!c.dead && c.eof[s] && c.q[d].empty() && !c.shut[t] && m[d] != mode::drop &&
                    m[d] != mode::stall) {
                    ::shutdown(c.fd[t], SHUT_WR);
                    c.shut[t] = true;
                }
            }
            if (!c.dead && c.shut[0] && c.shut[1]) close_conn(c, false);
        }
        std::erase_if(conns, [](const conn& c) { return c.dead; });

        if (pfds[0].revents & POLLIN) {
            for (;;) {
                const int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (cfd < 0) break;
                const int ufd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                auto up = loopback(upstream_);
                if (ufd < 0 || ::connect(ufd, reinterpret_cast<sockaddr*>(&up), sizeof up) != 0) {
                    if (ufd >= 0) ::close(ufd);
                    reset_close(cfd);
                    continue;
                }
                set_nonblocking(cfd);
                set_nonblocking(ufd);
                conn c;
                c.fd[0] = cfd;
                c.fd[1] = ufd;
                conns.push_back(std::move(c));
            }
        }
        open_ = static_cast<int>(conns.size());
    }
    for (auto& c : conns) close_conn(c, false);
    open_ = 0;
}

}  // namespace mq::test
