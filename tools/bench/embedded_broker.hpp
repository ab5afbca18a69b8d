// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <memory>

namespace mq::tools::bench {

/// An in-process `mq broker` engine on 127.0.0.1 with an ephemeral port, run on
/// its own thread, so that `mq bench` without a host has something to measure.
class embedded_broker {
public:
    /// Starts the engine; throws std::system_error when it cannot bind.
    explicit embedded_broker(std::uint32_t max_connections);
    ~embedded_broker();
    embedded_broker(const embedded_broker&) = delete;
    embedded_broker& operator=(const embedded_broker&) = delete;

    std::uint16_t port() const noexcept;
    /// CPU time used by the broker's thread so far, ns.
    std::uint64_t cpu_ns() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace mq::tools::bench
