// SPDX-License-Identifier: MIT
#pragma once
// A fault-injecting TCP proxy for loopback tests (hardening.md §3): it listens
// on 127.0.0.1:0, connects each accepted client to 127.0.0.1:<upstream>, and
// forwards bytes on its own thread. Each direction can be switched at any time
// to delay, drop (black-hole), stall (stop reading, so TCP back-pressure builds)
// or cut (reset both sockets). Buffers are bounded; no root or traffic shaping.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

namespace mq::test {

class fault_proxy {
public:
    enum class mode : int {
        pass,   // forward as fast as the receiver takes it
        delay,  // forward each chunk `delay` after it was read
        drop,   // read and discard; a close is not passed on either (half-open peer)
        stall,  // read nothing: the sender's socket buffers fill up
    };
    enum class direction : int { to_server = 0, to_client = 1 };

    /// Starts listening and the forwarding thread (throws std::system_error).
    explicit fault_proxy(std::uint16_t upstream_port);
    /// Stops the thread and closes every socket (bounded: the loop polls every 10 ms).
    ~fault_proxy();
    fault_proxy(const fault_proxy&) = delete;
    fault_proxy& operator=(const fault_proxy&) = delete;

    std::uint16_t port() const noexcept { return port_; }

    /// Both directions.
    void set(mode m, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
    void set(direction d, mode m, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
    /// Resets (RST) every current connection on both sides; later ones are forwarded.
    /// Returns once the proxy thread has done it.
    void cut();

    /// Client connections currently open through the proxy.
    int connections() const noexcept { return open_.load(); }
    /// Bytes forwarded (not dropped) in a direction.
    std::uint64_t forwarded(direction d) const noexcept { return forwarded_[static_cast<int>(d)].load(); }
    /// Bytes read and discarded in drop mode.
    std::uint64_t dropped(direction d) const noexcept { return dropped_[static_cast<int>(d)].load(); }

private:
    void loop();

    std::uint16_t port_ = 0;
    std::uint16_t upstream_ = 0;
    int listen_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> mode_[2]{0, 0};
    std::atomic<long long> delay_ms_[2]{0, 0};
    std::atomic<std::uint64_t> cut_requests_{0};
    std::atomic<std::uint64_t> cuts_done_{0};
    std::atomic<int> open_{0};
    std::atomic<std::uint64_t> forwarded_[2]{0, 0};
    std::atomic<std::uint64_t> dropped_[2]{0, 0};
    std::thread thread_;
};

}  // namespace mq::test
