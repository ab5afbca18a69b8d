// SPDX-License-Identifier: MIT
// Several runs of one `mq bench` invocation (bench-method.md §3.2, §13): the
// side-by-side comparison of two brokers (--compare, --pairs) and the rate
// sweep (--rate R1,R2,...). Each run is a whole run_bench(); this file only
// orders the runs and summarises their §8 summaries.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "bench/scenario.hpp"

namespace mq::tools::bench {

/// One whole run with `cfg`: its §8 summary with gates attached.
using run_fn = std::function<nlohmann::json(const bench_config&)>;

/// Parses "1000,5000,20000" (at least two rates, each 1..1e8 msg/s, increasing);
/// nullopt and `err` set otherwise.
std::optional<std::vector<double>> parse_rate_list(std::string_view text, std::string& err);

/// The knee of a sweep (§3.2): the first step that is invalid or delivered fewer
/// messages than it offered (delivered_ratio < 1). `why` says which.
std::optional<std::size_t> find_knee(const std::vector<nlohmann::json>& steps, std::string& why);

/// The sweep object of bench-method §8.1: {"type":"sweep","steps":[...],"knee":...}.
nlohmann::json sweep_summary(std::vector<nlohmann::json> steps, bool interrupted);
/// One table, a row per step, the knee marked.
std::string sweep_text(const nlohmann::json& sweep);

/// One run of a comparison as it went: which target, which pair.
struct compare_run {
    char target = 'A';  // 'A' or 'B'
    std::uint32_t pair = 0;
    bool repeat = false;  // a second attempt at a noisy pair
};

struct compare_targets {
    std::string url_a, url_b;
    std::optional<int> pid_a, pid_b;
};

/// The comparison object of bench-method §8.2 from the runs in the order they
/// ran (`summaries[i]` is the summary of `runs[i]`): per metric each target's median, min and max over the kept pairs and
/// the ratio B/A (computed per pair) with its median, min and max.
nlohmann::json compare_summary(const compare_targets& t, std::uint32_t pairs, const std::vector<compare_run>& runs,
                               const std::vector<nlohmann::json>& summaries, bool interrupted);
/// The human table of a comparison object.
std::string compare_text(const nlohmann::json& cmp);

/// Median of `v` (mean of the middle two for an even count); nullopt when empty.
std::optional<double> median_of(std::vector<double> v);

/// Orchestration. `require_idle`: before each run wait up to 180 s for the
/// machine to be below that busy percentage over one second, else mark the run
/// noisy (bench-method §10).
struct multi_options {
    std::optional<double> require_idle;
    std::chrono::seconds idle_cap{180};
    const std::atomic<bool>* interrupted = nullptr;
};

/// --rate R1,R2,...: one run per rate, each with its own warm-up and window.
nlohmann::json run_sweep(const bench_config& base, const std::vector<double>& rates, const multi_options& mo,
                         const run_fn& run);

/// --compare: `pairs` pairs A,B in an order chosen at random (seeded by the run
/// id) for the first pair and kept, so the runs alternate. A pair with a noisy
/// run is repeated once, then kept noisy.
nlohmann::json run_compare(const bench_config& a, const bench_config& b, std::uint32_t pairs,
                           const compare_targets& t, const multi_options& mo, const run_fn& run);

/// Waits for the machine to be below `pct` busy over one second (/proc/stat),
/// for at most `cap`: whether it was, the last sample and the time waited.
struct idle_outcome {
    bool idle = true;
    double busy_pct = 0;
    double waited_s = 0;
};
idle_outcome wait_for_idle(double pct, std::chrono::seconds cap, const std::atomic<bool>& interrupted);
/// Records the wait in a run's summary: `idle_wait_s`, and when the machine
/// never became idle, `noisy: true` and a note.
void apply_idle(nlohmann::json& summary, const idle_outcome& o, double pct, std::chrono::seconds cap);

/// §10: a run is noisy when the machine's busy time minus the generator's and
/// the broker's exceeds 10 % of all cores.
bool is_noisy(double machine_busy_pct, double generator_cores, double broker_cores, unsigned cores) noexcept;

}  // namespace mq::tools::bench
