// SPDX-License-Identifier: MIT
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mq::tools::bench {

enum class gate_op { lt, le, gt, ge, eq, ne };

/// One `--fail-if` condition, `METRIC OP VALUE[UNIT]` (bench-method.md §11).
/// The gate "trips" (the run fails) when the condition holds.
struct gate {
    std::string expr;    // as written, for the report
    std::string metric;  // summary path, or a short name resolved per scenario
    gate_op op = gate_op::gt;
    double value = 0;  // in the summary's unit (µs for times)
    /// p50/p90/p99/p99.9/min/max/mean: intended latency (ack latency for `pub`).
    bool latency_short = false;
};

/// Parses a comma-separated list of gates, e.g. `p99>5ms,lost>0,rate<10000`.
/// METRIC: a dotted summary path (`rates.delivered`, `cpu.broker_us_per_msg`),
/// a latency short name, or a bare counter/rate name (`lost`, `delivered_ratio`,
/// `rate` = delivered rate). OP: < <= > >= == !=. VALUE: a number, with `ns us ms s`
/// for time metrics (stored in µs) or `k`/`M` for others. nullopt with `error` on bad syntax.
std::optional<std::vector<gate>> parse_gates(std::string_view text, std::string& error);

/// True when evaluating the gate needs latency figures (refused in closed loop).
bool needs_latency(const gate& g) noexcept;

/// Result of one gate against a summary.
struct gate_result {
    std::string expr;
    bool passed = false;  // false when the condition holds, the metric is missing or the run is invalid
    std::optional<double> actual;
};

/// Evaluates the gates against a summary object (report.hpp). An invalid run
/// (`"valid":false`) fails every gate.
std::vector<gate_result> evaluate_gates(const std::vector<gate>& gates, const nlohmann::json& summary);

}  // namespace mq::tools::bench
