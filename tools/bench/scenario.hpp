// SPDX-License-Identifier: MIT
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <mqtt/codec/types.hpp>
#include <mqtt/net/client.hpp>

#include "bench/report.hpp"
#include "bench/topic_template.hpp"

namespace mq::tools::bench {

/// "mq-bench/{run}/{pub}", the default template.
std::optional<topic_template> topic_template_or_default(const std::string& text = "mq-bench/{run}/{pub}");

/// Everything a bench run needs, resolved from the command line.
struct bench_config {
    std::string scenario = "e2e";  // e2e, pub, sub, conn
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    std::string url;  // for the report
    std::string bind_address;
    /// --source-ip: client k binds to source_ips[k % size] (subscribers first, then publishers).
    std::vector<std::string> source_ips;
    mqtt::net::transport_kind transport = mqtt::net::transport_kind::tcp;  // tls, ws, wss
    std::string ws_path = "/mqtt";
    mqtt::net::tls_options tls;
    mqtt::protocol_version version = mqtt::protocol_version::v5;
    std::uint16_t keep_alive = 60;  // -k
    mqtt::qos pub_qos = mqtt::qos::at_most_once;
    mqtt::qos sub_qos = mqtt::qos::at_most_once;
    std::uint32_t publishers = 1;
    std::uint32_t subscribers = 1;
    std::uint32_t clients = 100;  // conn
    std::uint64_t payload = 64;
    std::optional<double> rate;  // aggregate msg/s; nullopt: closed loop
    std::uint32_t window = 100;
    std::uint64_t max_unsent = 64 * 1024;
    std::chrono::nanoseconds warmup = std::chrono::seconds(5);
    std::chrono::nanoseconds duration = std::chrono::seconds(20);
    std::chrono::nanoseconds drain = std::chrono::seconds(5);
    std::chrono::nanoseconds hold = std::chrono::seconds(10);  // conn
    std::uint32_t connect_rate = 1000;
    std::uint32_t connect_concurrency = 100;
    topic_template topic = *topic_template_or_default();
    /// Subscribers join `$share/GROUP/filter` (bench-method §2 `shared`); empty: plain.
    std::string shared_group;
    /// Stop after this many messages in the window, over all publishers; --duration caps it.
    std::optional<std::uint64_t> count;
    std::uint32_t threads = 1;
    bool nodelay = true;
    std::uint32_t run_id = 0;
    bool wall_clock = false;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::optional<int> broker_pid;
    /// CPU time of an in-process broker (embedded), ns; empty when external.
    std::function<std::uint64_t()> broker_cpu_ns;
    bool embedded_broker = false;
    /// Called on the calling thread with each second of the series as it completes (--series).
    std::function<void(const series_point&)> on_second;
};

/// Runs one bench (connect, warm-up, window, drain, disconnect) and returns its
/// measurements. Throws std::system_error when clients cannot connect or
/// subscribe. `interrupted` ends the run early with partial results.
run_result run_bench(const bench_config& cfg, const std::atomic<bool>& interrupted);

/// The `conn` scenario: connects `clients` at the connect rate with bounded
/// concurrency, holds them, disconnects.
run_result run_conn_bench(const bench_config& cfg, const std::atomic<bool>& interrupted);

}  // namespace mq::tools::bench
