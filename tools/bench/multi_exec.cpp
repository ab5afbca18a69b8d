// SPDX-License-Identifier: MIT
// Runs of a sweep or a side-by-side comparison, one whole run_bench() each
// (bench-method.md §3.2, §13), and the --require-idle wait before each (§10).
#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/multi_run.hpp"
#include "bench/resources.hpp"

namespace mq::tools::bench {

using nlohmann::json;

namespace {

// Sleeps `d` in short steps; false when interrupted.
bool nap(std::chrono::milliseconds d, const std::atomic<bool>& interrupted) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        if (interrupted.load()) return false;
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(end - std::chrono::steady_clock::now(),
                                                                       std::chrono::milliseconds(20)));
    }
    return !interrupted.load();
}

const std::atomic<bool>& flag(const multi_options& mo) {
    static const std::atomic<bool> never{false};
    return mo.interrupted ? *mo.interrupted : never;
}

// The --require-idle wait, then the run.
json idle_then_run(const bench_config& cfg, const multi_options& mo, const run_fn& run) {
    if (!mo.require_idle) return run(cfg);
    const idle_outcome idle = wait_for_idle(*mo.require_idle, mo.idle_cap, flag(mo));
    json s = run(cfg);
    if (!flag(mo).load()) apply_idle(s, idle, *mo.require_idle, mo.idle_cap);
    return s;
}

}  // namespace

idle_outcome wait_for_idle(double pct, std::chrono::seconds cap, const std::atomic<bool>& interrupted) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + cap;
    idle_outcome o{false, 100, 0};
    while (!o.idle) {
        const auto a = read_machine_ticks();
        if (!a) {
            o.idle = true;  // no /proc/stat: nothing to wait for
            break;
        }
        if (!nap(std::chrono::seconds(1), interrupted)) break;
        const auto b = read_machine_ticks();
        if (!b) break;
        o.busy_pct = busy_pct(*a, *b);
        o.idle = o.busy_pct < pct;
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    o.waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return o;
}

void apply_idle(json& s, const idle_outcome& o, double pct, std::chrono::seconds cap) {
    s["idle_wait_s"] = std::round(o.waited_s * 10) / 10;
    if (o.idle) return;
    s["noisy"] = true;
    s["notes"].push_back(
        fmt::format("the machine was not below {}% busy within {} s (last {:.0f}%)", pct, cap.count(), o.busy_pct));
}

json run_sweep(const bench_config& base, const std::vector<double>& rates, const multi_options& mo,
               const run_fn& run) {
    std::vector<json> steps;
    for (std::size_t i = 0; i < rates.size() && !flag(mo).load(); ++i) {
        bench_config cfg = base;
        cfg.rate = rates[i];
        // A fresh run id per step: a late message of the last step is foreign, not counted.
        cfg.run_id = base.run_id + static_cast<std::uint32_t>(i);
        steps.push_back(idle_then_run(cfg, mo, run));
        if (steps.back().value("interrupted", false)) break;
    }
    return sweep_summary(std::move(steps), flag(mo).load());
}

json run_compare(const bench_config& a, const bench_config& b, std::uint32_t pairs, const compare_targets& t,
                 const multi_options& mo, const run_fn& run) {
    // The order inside the first pair is random, seeded by the run id so that a
    // given --run-id repeats it; later pairs keep it, so the runs alternate.
    std::mt19937 rng(a.run_id);
    const bool b_first = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    const char order[2] = {b_first ? 'B' : 'A', b_first ? 'A' : 'B'};
    std::vector<compare_run> runs;
    std::vector<json> summaries;
    std::uint32_t next_id = a.run_id;
    bool stop = false;
    for (std::uint32_t p = 0; p < pairs && !stop; ++p) {
        for (int attempt = 0; attempt < 2 && !stop; ++attempt) {
            bool noisy = false;
            for (const char target : order) {
                bench_config cfg = target == 'A' ? a : b;
                cfg.run_id = next_id++;  // a fresh topic space per run
                summaries.push_back(idle_then_run(cfg, mo, run));
                runs.push_back({target, p, attempt == 1});
                noisy = noisy || summaries.back().value("noisy", false);
                if (summaries.back().value("interrupted", false) || flag(mo).load()) {
                    stop = true;
                    break;
                }
            }
            if (!noisy) break;  // a noisy pair gets one more try, then is kept as it is
        }
    }
    return compare_summary(t, pairs, runs, summaries, flag(mo).load());
}

}  // namespace mq::tools::bench
