// SPDX-License-Identifier: MIT
// Builds the per-second series while a run is going (bench-method.md §8): at each
// second boundary the main thread asks every worker for its finished seconds,
// merges them, adds CPU and memory figures and hands the record on.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench/series.hpp"
#include "bench/workers.hpp"

namespace mq::tools::bench::detail {

/// Process CPU, broker CPU and broker RSS, sampled once per second.
class resource_sampler {
public:
    explicit resource_sampler(const bench_config& cfg);
    /// Fills gen_cpu, broker_cpu and broker_rss_kb with the use since the last call.
    void sample(series_point& p);

private:
    const bench_config& cfg_;
    clock::time_point last_;
    std::uint64_t last_process_ns_ = 0;
    std::optional<std::uint64_t> last_broker_ns_;
    std::optional<std::uint64_t> broker_ns() const;
};

/// The series of an `e2e`/`pub`/`sub`/fan-in/fan-out run. Construct it just
/// before t0 and call poll() from the thread that waits for the phases.
class series_sampler {
public:
    series_sampler(const bench_config& cfg, const phases& ph,
                   const std::vector<std::unique_ptr<worker>>& workers, std::uint64_t connections);
    /// Completes every second that has ended by now (the last one ends at the window end).
    void poll(const std::atomic<bool>& interrupted);
    /// When the next second ends (far future once the series is complete).
    clock::time_point next_due() const;
    /// The window ends at `end` instead (--count reached): the series stops there.
    void end_window(clock::time_point end);
    std::vector<series_point> take() { return std::move(points_); }

    /// Running totals over the completed seconds, for the progress line.
    struct running {
        std::uint64_t sent = 0, acked = 0, received = 0, errors = 0;
        histogram latency;  // warm-up seconds until the window starts, then the window's
        std::optional<series_point> last;
    };
    const running& totals() const noexcept { return running_; }

private:
    void complete(std::int64_t sec, const std::atomic<bool>& interrupted);

    const bench_config& cfg_;
    const phases& ph_;
    const std::vector<std::unique_ptr<worker>>& workers_;
    std::uint64_t connections_;
    std::uint64_t closed_ = 0;
    std::int64_t next_sec_, last_sec_;
    clock::time_point window_end_;
    resource_sampler resources_;
    std::vector<series_point> points_;
    running running_;
};

}  // namespace mq::tools::bench::detail
