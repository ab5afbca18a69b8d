// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mq::tools::bench {

struct merge_result {
    nlohmann::json summary;  // the §8 object of the combined run
    std::vector<std::string> warnings;
};

/// Combines `--hist-out` dumps (bench-method.md §9 `mq bench merge`): counters
/// add, histograms merge exactly; runs are assumed concurrent (one window), so
/// rates add. Settings that differ produce warnings. Throws std::system_error
/// (tool_error::no_input) for unreadable files and (tool_error::data) for bad content.
merge_result merge_dumps(const std::vector<nlohmann::json>& dumps);
merge_result merge_files(const std::vector<std::string>& paths);

/// True when `j` is a `--hist-out` dump (`"type":"mq-bench-histograms"`).
bool is_hist_dump(const nlohmann::json& j);
/// The §8 summary of one `--hist-out` dump (rates from its counts and window,
/// latency and histograms from its histograms; no series), marked
/// `"source":"hist-out"`. Throws like merge_dumps().
nlohmann::json summary_of_dump(const nlohmann::json& dump);

}  // namespace mq::tools::bench
