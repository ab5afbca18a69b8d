// SPDX-License-Identifier: MIT
#pragma once
// Shared checks for the hardening tests: a bystander client that must keep
// working while other connections misbehave, and process-wide descriptor and
// memory readings (the broker runs in this process).
#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "broker_fixture.hpp"

namespace mq::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif
/// Under ASan freed memory stays resident in its quarantine, so RSS bounds are
/// only asserted in normal builds; time upper bounds get this factor there.
inline constexpr int timing_scale = sanitized ? 3 : 1;

/// Open descriptors of this process (broker sockets included).
inline int fd_count() {
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (::readdir(d)) ++n;
    ::closedir(d);
    return n - 3;  // ".", ".." and the directory's own descriptor
}

/// True once the descriptor count is back to `baseline` (the broker closes its
/// side asynchronously), waiting at most `bound`.
inline bool fds_back_to(int baseline, std::chrono::milliseconds bound = std::chrono::milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (fd_count() > baseline) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

/// Resident set size of this process in bytes (/proc/self/statm).
inline std::uint64_t rss_bytes() {
    std::ifstream in("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    in >> size >> resident;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

/// A v5 client connected all along, subscribed to its own topic `<id>/e` at QoS 1
/// (short, so that rows with a small --max-string-length still accept it).
class bystander {
public:
    bystander(std::uint16_t port, std::string id) : c_(port), topic_(id + "/e") {
        auto ack = c_.connect(id);
        ok_ = ack && ack->reason_code == mqtt::reason::success;
        auto sa = c_.subscribe(topic_, mqtt::qos::at_least_once);
        ok_ = ok_ && sa && sa->reason_codes.size() == 1 && sa->reason_codes[0] == mqtt::reason::granted_qos_1;
    }
    bool connected() const noexcept { return ok_; }

    /// Publishes `payload` at QoS 1 and requires both its PUBACK and the message back.
    bool round_trip(const std::string& payload) {
        if (!ok_) return false;
        next_id_ = static_cast<std::uint16_t>(next_id_ % 60000 + 1);
        const std::uint16_t id = next_id_;
        c_.send(make_publish(topic_, payload, mqtt::qos::at_least_once, id));
        bool acked = false, echoed = false;
        for (int i = 0; i < 2; ++i) {
            auto p = c_.receive(std::chrono::milliseconds(3000));
            if (!p) return false;
            if (auto* a = std::get_if<mqtt::puback>(&*p)) {
                acked = acked || a->packet_id == id;
            } else if (auto* m = std::get_if<mqtt::publish>(&*p)) {
                echoed = echoed || (m->topic == topic_ && payload_of(*m) == payload);
                c_.send(mqtt::puback{m->packet_id, mqtt::reason::success, {}});
            }
        }
        return acked && echoed;
    }

private:
    raw_client c_;
    std::string topic_;
    bool ok_ = false;
    std::uint16_t next_id_ = 0;
};

}  // namespace mq::test
