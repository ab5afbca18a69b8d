// SPDX-License-Identifier: MIT
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <mqtt/net/bench_connection.hpp>

#include "bench/histogram.hpp"
#include "bench/loss_tracker.hpp"
#include "bench/pacing.hpp"
#include "bench/scenario.hpp"
#include "bench/series.hpp"

namespace mq::tools::bench::detail {

using clock = mqtt::net::bench_loop::clock;

/// Phase boundaries of one run, as steady deadlines and as payload stamps.
struct phases {
    clock::time_point t0, window_start, window_end;
    std::int64_t t0_stamp = 0, ws_stamp = 0, we_stamp = 0;
};

/// Loss accounting of a shared subscription (bench-method §5): one stream per
/// (publisher, group), fed by every member of the group from any thread.
class group_streams {
public:
    arrival observe(std::uint32_t publisher, std::uint64_t seq);
    /// Called after the threads are joined.
    const std::vector<std::unique_ptr<loss_tracker>>& streams() const noexcept { return by_pub_; }
    const std::vector<std::uint64_t>& first_seq() const noexcept { return first_seq_; }

private:
    std::mutex mu_;
    std::vector<std::unique_ptr<loss_tracker>> by_pub_;
    std::vector<std::uint64_t> first_seq_;
};

/// Read-only for the workers once the run starts.
struct run_context {
    const bench_config* cfg = nullptr;
    std::uint32_t clock_domain = 0;
    std::optional<pacing> pace;
    phases ph;
    group_streams* group = nullptr;  // shared subscription: the group's streams
    std::int64_t stamp_now() const noexcept;
};

/// Counts completions across threads and keeps the first error.
class completion_counter {
public:
    void done(std::error_code ec);
    /// The first error so far.
    std::error_code error();
    /// Waits until `n` completions or an error; returns the first error.
    std::error_code wait(std::size_t n, const std::atomic<bool>& interrupted);

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::size_t count_ = 0;
    std::error_code first_;
};

struct worker;

/// One publishing client.
struct publisher {
    publisher(worker& w, std::uint32_t index);
    void start();
    void fire();
    void fill_closed();
    void send(std::int64_t intended, std::int64_t actual);
    void on_ack(std::uint16_t id, std::uint8_t rc);
    void finish();

    worker& w;
    std::uint32_t index;
    std::string topic;
    bool per_message_topic = false;  // the template has %c: a topic per message
    std::vector<std::uint8_t> payload;
    mqtt::net::bench_connection conn;
    mqtt::net::bench_timer timer;
    std::uint64_t seq = 0;
    std::uint16_t window = 100;
    std::uint64_t quota = UINT64_MAX;          // --count: this publisher's share of the window's messages
    std::atomic<std::int64_t> last_send{0};    // stamp of the last send in the window
    std::vector<std::int64_t> intended_by_id;  // QoS 1/2: packet id -> intended stamp
    bool done = false;
    bool waiting = false;  // QoS 1/2 window full or socket backlog full at the due time
    /// Late sends made back to back before fire() yields to the loop.
    static constexpr std::uint32_t max_late_burst = 256;
    std::atomic<std::uint64_t> sent_in_window{0};
    std::atomic<std::uint64_t> acked_in_window{0};  // acks of any reason
};

/// One subscribing client.
struct subscriber {
    subscriber(worker& w, std::uint32_t index);
    void on_message(const mqtt::net::bench_message& m);

    worker& w;
    std::uint32_t index;
    mqtt::net::bench_connection conn;
    std::vector<std::unique_ptr<loss_tracker>> streams;  // by publisher id
    std::vector<std::uint64_t> first_seq;                // sub scenario: first number per stream
    std::atomic<std::uint64_t> received_in_window{0};    // unique
    std::uint64_t received_local = 0;
};

/// Per-thread measurements, merged after the threads are joined.
struct worker_stats {
    histogram intended, service, ack, send_lag;
    std::uint64_t overruns = 0, foreign = 0, dup_flags = 0, acked_ok = 0;
    std::map<std::string, std::uint64_t> ack_failures;
    std::vector<std::uint64_t> per_second;
    std::uint64_t cpu_start_ns = 0, cpu_end_ns = 0;
    // Wire bytes of this thread's clients at the window's start and end.
    std::uint64_t bytes_sent_start = 0, bytes_sent_end = 0, bytes_received_start = 0, bytes_received_end = 0;
    bool bytes_end_taken = false;
    std::error_code closed_error;  // first unexpected connection loss
};

/// One event-loop thread with its clients.
struct worker {
    explicit worker(const run_context& ctx);
    ~worker();
    void start_thread();
    void stop_and_join();

    const run_context& ctx;
    mqtt::net::bench_loop loop;
    std::thread thread;
    std::vector<std::unique_ptr<publisher>> pubs;
    std::vector<std::unique_ptr<subscriber>> subs;
    mqtt::net::bench_timer cpu_timer_start, cpu_timer_end;
    worker_stats stats;
    second_recorder series;  // per-second counts for --series and the report
    std::atomic<std::uint32_t> pubs_done{0};
    // Publishers that sent their whole --count quota. Not pubs_done: a paced
    // publisher also finishes when its next slot falls past the window, up to
    // one interval before the window's end, and that is not "count reached".
    std::atomic<std::uint32_t> pubs_at_quota{0};
    bool tearing_down = false;

    /// Totals of bytes_written() and bytes_read() over this thread's clients.
    std::pair<std::uint64_t, std::uint64_t> wire_bytes() const;
};

/// The broker's limits from the first successful CONNACK of a run (any thread).
class limits_recorder {
public:
    void note(const mqtt::net::bench_connack& ca, bool v5);
    std::optional<broker_limits> take();

private:
    std::mutex mu_;
    bool seen_ = false;
    std::optional<broker_limits> limits_;
};

/// Options of client number `client` of the run (its --source-ip is chosen round-robin).
mqtt::net::bench_connection_options client_options(const bench_config& cfg, const std::string& client_id,
                                                   std::uint64_t client);

}  // namespace mq::tools::bench::detail
