// SPDX-License-Identifier: MIT
#pragma once
// The broker engine in-process with a persistence directory that outlives
// it: restart() stops the engine (bounded) and starts a new one on the same
// directory and a new port. Log lines are captured for the warning checks.
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/net/log.hpp>
#include <mqtt/net/server.hpp>

#include "mosquitto_fixture.hpp"  // temp_dir
#include "broker_workers.hpp"
#include "raw_client.hpp"

namespace mq::test {

class capture_sink : public mqtt::net::log_sink {
public:
    void write(const mqtt::net::log_record& r) override {
        std::lock_guard lk(mu_);
        lines_.push_back(std::string(mqtt::net::to_string(r.level)) + " " + std::string(r.message));
    }
    bool contains(std::string_view text) const {
        std::lock_guard lk(mu_);
        for (const auto& l : lines_)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
    void clear() {
        std::lock_guard lk(mu_);
        lines_.clear();
    }

private:
    mutable std::mutex mu_;
    std::vector<std::string> lines_;
};

class persist_broker {
public:
    explicit persist_broker(std::string dir, std::uint64_t compact_bytes = 64ull * 1024 * 1024)
        : dir_(std::move(dir)), compact_bytes_(compact_bytes) {
        start();
    }
    ~persist_broker() { stop(); }
    persist_broker(const persist_broker&) = delete;
    persist_broker& operator=(const persist_broker&) = delete;

    void restart() {
        stop();
        start();
    }
    void stop() {
        if (!server_) return;
        server_->stop(std::chrono::milliseconds(500));
        thread_.join();
        server_.reset();  // closes the journal: everything written and synced
    }
    std::uint16_t port() const noexcept { return port_; }
    capture_sink& log() noexcept { return *sink_; }

    std::unique_ptr<raw_client> client(const std::string& id, bool clean = true, std::uint32_t expiry = 0,
                                       bool* present = nullptr) {
        auto c = std::make_unique<raw_client>(port_);
        mqtt::connect cn;
        cn.client_id = id;
        cn.clean_start = clean;
        if (expiry) cn.props.set_int(mqtt::property_id::session_expiry_interval, expiry);
        auto ack = c->connect(std::move(cn));
        ok = ack && ack->reason_code == mqtt::reason::success;
        if (present) *present = ack && ack->session_present;
        return c;
    }
    bool ok = false;

private:
    void start() {
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
        o.sys_interval = std::chrono::milliseconds(0);
        o.persistence_dir = dir_;
        o.compact_bytes = compact_bytes_;
        mqtt::net::logger lg;
        lg.sink = sink_;
        lg.level = mqtt::net::log_level::info;
        o.workers = broker_workers();
        server_ = std::make_unique<mqtt::net::server>(std::move(o), lg);
        server_->start();
        port_ = server_->listeners().at(0).port;
        thread_ = std::thread([this] { server_->run(); });
    }

    std::string dir_;
    std::uint64_t compact_bytes_;
    std::shared_ptr<capture_sink> sink_ = std::make_shared<capture_sink>();
    std::unique_ptr<mqtt::net::server> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace mq::test
