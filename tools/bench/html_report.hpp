// SPDX-License-Identifier: MIT
// `mq bench --report FILE` and `mq bench report FILE... -o OUT`: one
// self-contained HTML page (inline SVG, no scripts, no network resources)
// built from §8 summary objects, which carry the histograms and the series.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mq::tools::bench {

struct report_run {
    std::string label;        // shown in legends and tables, e.g. the file name
    nlohmann::json summary;  // a `mq bench --json` summary object or a `--hist-out` dump
};

/// Why `summary` cannot be reported, or nullopt when it can (a summary or a
/// `--hist-out` dump with settings and histograms).
std::optional<std::string> check_report_summary(const nlohmann::json& summary);

/// The whole page. Ratios in the table are run k / run 1.
std::string html_report(const std::vector<report_run>& runs);

/// Reads `--json` summaries or `--hist-out` dumps from files (one JSON object
/// each) for `mq bench report`.
/// Throws std::system_error: tool_error::no_input when a file cannot be opened,
/// tool_error::data when it holds no summary.
std::vector<report_run> load_report_runs(const std::vector<std::string>& paths);

}  // namespace mq::tools::bench
