// SPDX-License-Identifier: MIT
#pragma once
// The broker engine in-process with full server_options (listeners, TLS,
// password and ACL files), plus helpers that write those files.
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <mqtt/core/password_file.hpp>
#include <mqtt/net/password_hash.hpp>
#include <mqtt/net/server.hpp>

#include "broker_workers.hpp"
#include "raw_client.hpp"

namespace mq::test {

class secure_broker {
public:
    explicit secure_broker(mqtt::net::server_options o) {
        o.workers = broker_workers();
        server_ = std::make_unique<mqtt::net::server>(std::move(o));
        server_->start();
        thread_ = std::thread([this] { server_->run(); });
    }
    ~secure_broker() {
        server_->stop(std::chrono::milliseconds(500));
        thread_.join();
    }
    secure_broker(const secure_broker&) = delete;
    secure_broker& operator=(const secure_broker&) = delete;

    std::uint16_t port(std::size_t listener = 0) const { return server_->listeners().at(listener).port; }
    mqtt::net::server& server() noexcept { return *server_; }

private:
    std::unique_ptr<mqtt::net::server> server_;
    std::thread thread_;
};

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
}

/// Password file text for (user, password) pairs; 1,000 iterations keep tests fast.
inline std::string password_text(const std::vector<std::pair<std::string, std::string>>& users) {
    std::string out = "# test users\n";
    for (const auto& [u, p] : users)
        out += mqtt::core::format_password_entry(mqtt::net::hash_password(u, p, 1000)) + "\n";
    return out;
}

/// CONNECT with optional credentials and Will.
inline mqtt::connect connect_packet(std::string id, std::optional<std::string> user = std::nullopt,
                                    std::optional<std::string> password = std::nullopt,
                                    mqtt::protocol_version v = mqtt::protocol_version::v5) {
    mqtt::connect c;
    c.version = v;
    c.client_id = std::move(id);
    c.keep_alive = 30;
    c.username = std::move(user);
    if (password) c.password = std::vector<std::uint8_t>(password->begin(), password->end());
    return c;
}

/// Sends `c` and returns the hex of the answer frame ("" when none came).
inline std::string connack_hex(raw_client& rc, const mqtt::connect& c) {
    rc.send(mqtt::packet{c});
    auto f = rc.receive_frame();
    return f ? to_hex(*f) : std::string();
}

}  // namespace mq::test
