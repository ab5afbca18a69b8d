// SPDX-License-Identifier: MIT
// `mq sub`'s subscription list (cli-contract.md §5): one mqtt::subscription per
// `-t`, with the per-filter options `-q`, `--no-local`, `--retain-as-published`
// and `--retain-handling`. Each of these, given once, applies to every filter;
// given once per `-t`, the n-th applies to the n-th filter; any other count is
// a usage error (64).
#pragma once
#include <string>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

struct sub_filter_options {
    std::vector<std::string> qos;                  // "0" | "1" | "2"
    std::vector<std::string> no_local;             // "true" | "false" (a bare flag is "true")
    std::vector<std::string> retain_as_published;  // "true" | "false"
    std::vector<std::string> retain_handling;      // "0" | "1" | "2"

    /// True when a v5-only option (no-local, retain-as-published, retain-handling) is set anywhere.
    bool uses_v5_options() const;
};

/// The subscriptions for `filters`; throws std::system_error(tool_error::usage)
/// on a bad value or a count that is neither 1 nor filters.size().
std::vector<mqtt::subscription> build_subscriptions(const std::vector<std::string>& filters,
                                                    const sub_filter_options& o);

}  // namespace mq::tools
