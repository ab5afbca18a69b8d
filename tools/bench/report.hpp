// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "bench/fail_if.hpp"
#include "bench/histogram.hpp"
#include "bench/series.hpp"

namespace mq::tools::bench {

/// The settings that change results (bench-method.md §1 rule 4).
struct bench_settings {
    std::string url;
    int protocol = 5;
    int qos = 0;
    std::uint64_t payload = 64;
    std::uint32_t publishers = 1;
    std::uint32_t subscribers = 1;
    std::uint32_t clients = 0;             // conn scenario
    std::optional<double> rate;            // aggregate msg/s; nullopt = max (closed loop)
    std::uint32_t window = 100;            // --window
    std::uint32_t effective_window = 100;  // min(window, broker Receive Maximum)
    bool receive_maximum_known = true;     // false on 3.1.1
    bool nodelay = true;
    bool tls = false;
    std::uint32_t threads = 1;
    std::string topic = "mq-bench/{run}/{pub}";  // --topic template
    std::optional<std::uint64_t> count;          // --count
    std::uint32_t connect_rate = 1000;           // clients started per second
    std::vector<std::string> source_ips;         // --source-ip, round-robin
    double warmup_s = 5;
    double duration_s = 20;
    std::string clock = "monotonic";
    bool embedded_broker = false;
};

/// The broker's limits from CONNACK (MQTT 5 properties), as they apply: a
/// property the broker left out has its spec default; `advertised` names the
/// ones it sent.
struct broker_limits {
    std::uint32_t receive_maximum = 65535;
    std::optional<std::uint32_t> maximum_packet_size;  // nullopt: no limit
    std::uint32_t topic_alias_maximum = 0;
    std::uint32_t maximum_qos = 2;
    bool retain_available = true;
    bool wildcard_subscription_available = true;
    bool subscription_identifier_available = true;
    bool shared_subscription_available = true;
    std::optional<std::uint32_t> server_keep_alive;  // nullopt: ours applies
    std::vector<std::string> advertised;              // property names as in the summary
};

/// A shared subscription's group (bench-method §2 `shared`): members and the
/// smallest and largest share of the group's deliveries one member got.
struct shared_result {
    std::string group;
    std::uint32_t members = 0;
    std::optional<double> min_share, max_share;
};

struct cpu_usage {
    std::optional<double> generator_cores, generator_us_per_msg;
    std::optional<double> broker_cores, broker_us_per_msg;
    std::optional<std::uint64_t> broker_rss_kb;
    std::optional<double> machine_busy_pct;
};

/// Everything one run measured; make_summary() turns it into the §8 object.
struct run_result {
    std::string run_id;
    std::string scenario = "e2e";
    bench_settings settings;
    double window_s = 0;  // measurement window length actually used for rates

    std::uint64_t sent = 0;      // messages with intended time in the window that were written
    std::uint64_t acked = 0;     // of those, PUBACK/PUBCOMP received (QoS 0: = sent)
    std::uint64_t expected = 0;  // deliveries expected (sent x matching subscribers); 0 = unknown
    std::uint64_t received = 0;  // unique deliveries in the window
    std::uint64_t lost = 0, duplicates = 0, reordered = 0, late = 0, foreign = 0, overruns = 0;
    std::uint64_t dup_flags = 0;                        // received PUBLISH packets with DUP set
    std::uint64_t bytes_sent = 0, bytes_received = 0;   // wire bytes of every client over the window
    std::map<std::string, std::uint64_t> ack_failures;  // "0x10" -> count
    std::vector<std::uint64_t> delivered_per_second;
    std::vector<series_point> series;  // one record per second, warm-up included (§8)

    histogram intended, service, ack, send_lag;  // recorded in open loop only

    std::uint64_t connect_ok = 0;
    std::map<std::string, std::uint64_t> connect_failed;
    histogram handshake;
    std::optional<double> connect_rate;           // conn: successful connects per second
    std::optional<double> broker_bytes_per_conn;  // conn with --broker-pid: RSS growth / clients

    std::optional<broker_limits> limits;  // nullopt: MQTT 3.1.1 (none advertised) or no CONNACK
    std::optional<shared_result> shared;  // subscribers in a shared subscription
    std::vector<std::string> notes;       // besides "closed-loop run"

    cpu_usage cpu;
    bool generator_bound = false;
    bool interrupted = false;
    bool noisy = false;
    std::vector<std::string> invalid_reasons;
};

/// Open-loop validity of §3.2: offered rate below 99 % of R, more than 1 % overruns
/// or a CPU-bound generator make the run invalid; appends the reasons.
void check_validity(run_result& r);

/// Median of the per-second delivered counts without the first and last second (§7);
/// nullopt with fewer than three seconds.
std::optional<double> steady_rate(const std::vector<std::uint64_t>& per_second);

/// The summary object of bench-method.md §8 (one line with dump()).
nlohmann::json make_summary(const run_result& r);
/// Adds "gates" (and sets nothing else); returns true when any gate failed.
bool attach_gates(nlohmann::json& summary, const std::vector<gate_result>& results);
/// Histogram dump for `--hist-out`: settings, counters and every histogram.
nlohmann::json make_hist_dump(const run_result& r);
/// The "broker_limits" member of the summary (null for nullopt) and back.
nlohmann::json limits_json(const std::optional<broker_limits>& l);
std::optional<broker_limits> limits_from_json(const nlohmann::json& j);

/// Human-readable summary of a summary object, several lines ending in '\n'.
std::string summary_text(const nlohmann::json& summary);

}  // namespace mq::tools::bench
