// SPDX-License-Identifier: MIT
#include "bench/series_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "bench/resources.hpp"

namespace mq::tools::bench::detail {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

double seconds(clock::duration d) {
    return std::chrono::duration<double>(d).count();
}
double round3(double v) {
    return std::round(v * 1000.0) / 1000.0;
}

}  // namespace

resource_sampler::resource_sampler(const bench_config& cfg)
    : cfg_(cfg), last_(clock::now()), last_process_ns_(process_cpu_ns()), last_broker_ns_(broker_ns()) {}

std::optional<std::uint64_t> resource_sampler::broker_ns() const {
    if (cfg_.broker_cpu_ns) return cfg_.broker_cpu_ns();
    if (cfg_.broker_pid) return pid_cpu_ns(*cfg_.broker_pid);
    return std::nullopt;
}

void resource_sampler::sample(series_point& p) {
    const auto now = clock::now();
    const std::uint64_t process = process_cpu_ns();
    const auto broker = broker_ns();
    const double elapsed = seconds(now - last_);
    if (elapsed > 0) {
        double gen_ns = static_cast<double>(process - std::min(process, last_process_ns_));
        std::optional<double> broker_delta;
        if (broker && last_broker_ns_ && *broker >= *last_broker_ns_)
            broker_delta = static_cast<double>(*broker - *last_broker_ns_);
        // An embedded broker's thread is part of this process: its time is not the generator's.
        if (cfg_.broker_cpu_ns && broker_delta) gen_ns = std::max(0.0, gen_ns - *broker_delta);
        p.gen_cpu = round3(gen_ns / 1e9 / elapsed);
        if (broker_delta) p.broker_cpu = round3(*broker_delta / 1e9 / elapsed);
    }
    if (cfg_.broker_pid) p.broker_rss_kb = pid_rss_kb(*cfg_.broker_pid);
    last_ = now;
    last_process_ns_ = process;
    last_broker_ns_ = broker;
}

series_sampler::series_sampler(const bench_config& cfg, const phases& ph,
                               const std::vector<std::unique_ptr<worker>>& workers, std::uint64_t connections)
    : cfg_(cfg),
      ph_(ph),
      workers_(workers),
      connections_(connections),
      // The first second is the one t0 falls in; the last one ends at the window end.
      next_sec_(-static_cast<std::int64_t>((cfg.warmup.count() + ns_per_s - 1) / ns_per_s)),
      last_sec_(static_cast<std::int64_t>((cfg.duration.count() + ns_per_s - 1) / ns_per_s) - 1),
      window_end_(ph.window_end),
      resources_(cfg) {}

clock::time_point series_sampler::next_due() const {
    if (next_sec_ > last_sec_) return clock::time_point::max();
    return std::min(ph_.window_start + std::chrono::seconds(next_sec_ + 1), window_end_);
}

void series_sampler::end_window(clock::time_point end) {
    if (end >= window_end_) return;
    window_end_ = std::max(end, ph_.window_start);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(window_end_ - ph_.window_start).count();
    last_sec_ = std::max<std::int64_t>(next_sec_ - 1, (ns + ns_per_s - 1) / ns_per_s - 1);
}

void series_sampler::poll(const std::atomic<bool>& interrupted) {
    while (next_sec_ <= last_sec_ && !interrupted.load()) {
        if (clock::now() < next_due()) return;
        complete(next_sec_++, interrupted);
    }
}

void series_sampler::complete(std::int64_t sec, const std::atomic<bool>& interrupted) {
    // Each worker hands over its seconds on its own thread: no locks on the hot path.
    struct handover {
        std::mutex mu;
        std::vector<second_slice> slices;
        completion_counter done;
    };
    auto h = std::make_shared<handover>();
    for (const auto& wp : workers_) {
        worker& w = *wp;
        w.loop.post([&w, h, sec] {
            auto mine = w.series.take_through(sec);
            {
                const std::lock_guard lock(h->mu);
                for (auto& s : mine) h->slices.push_back(std::move(s));
            }
            h->done.done({});
        });
    }
    h->done.wait(workers_.size(), interrupted);

    series_point p;
    second_counts c;
    histogram latency;
    {
        const std::lock_guard lock(h->mu);
        for (const auto& s : h->slices) {
            c.add(s.counts);
            latency.merge(s.latency);
        }
    }
    const auto begin = std::max(ph_.window_start + std::chrono::seconds(sec), ph_.t0);
    const auto end = std::min(ph_.window_start + std::chrono::seconds(sec + 1), window_end_);
    p.t = static_cast<double>(sec);
    p.span_s = std::clamp(seconds(end - begin), 0.001, 1.0);
    p.phase = sec < 0 ? "warmup" : "measure";
    p.sent = c.sent;
    p.acked = c.acked;
    p.received = c.received;
    p.duplicates = c.duplicates;
    p.reordered = c.reordered;
    p.errors = c.errors;
    p.offered = cfg_.rate ? round3(*cfg_.rate * p.span_s) : static_cast<double>(c.sent);
    closed_ += c.closed;
    p.connections = connections_ - std::min(connections_, closed_);
    if (cfg_.rate) set_latency(p, latency);
    running_.sent += c.sent;
    running_.acked += c.acked;
    running_.received += c.received;
    running_.errors += c.errors;
    if (sec == 0) running_.latency = histogram{};  // "so far" means the window once it started
    running_.latency.merge(latency);
    resources_.sample(p);
    if (cfg_.on_second) cfg_.on_second(p);
    running_.last = p;
    points_.push_back(std::move(p));
}

}  // namespace mq::tools::bench::detail
