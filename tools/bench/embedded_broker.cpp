// SPDX-License-Identifier: MIT
#include "bench/embedded_broker.hpp"

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <mqtt/net/server.hpp>

namespace mq::tools::bench {

struct embedded_broker::impl {
    std::unique_ptr<mqtt::net::server> server;
    std::thread thread;
    std::atomic<clockid_t> cpu_clock{};
    std::atomic<bool> have_clock{false};
    std::uint16_t port = 0;
};

embedded_broker::embedded_broker(std::uint32_t max_connections) : impl_(std::make_unique<impl>()) {
    mqtt::net::server_options o;
    o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
    o.limits.max_connections = std::max(o.limits.max_connections, max_connections);
    o.limits.max_sessions = std::max(o.limits.max_sessions, max_connections);
    o.sys_interval = std::chrono::milliseconds(0);
    impl_->server = std::make_unique<mqtt::net::server>(o);
    impl_->server->start();
    const auto ls = impl_->server->listeners();
    if (!ls.empty()) impl_->port = ls.front().port;
    impl_->thread = std::thread([m = impl_.get()] {
        clockid_t id{};
        if (pthread_getcpuclockid(pthread_self(), &id) == 0) {
            m->cpu_clock.store(id);
            m->have_clock.store(true);
        }
        m->server->run();
    });
}

embedded_broker::~embedded_broker() {
    impl_->server->stop(std::chrono::milliseconds(200));
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t embedded_broker::port() const noexcept {
    return impl_->port;
}

std::uint64_t embedded_broker::cpu_ns() const noexcept {
    if (!impl_->have_clock.load()) return 0;
    timespec ts{};
    if (clock_gettime(impl_->cpu_clock.load(), &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace mq::tools::bench
