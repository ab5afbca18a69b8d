// SPDX-License-Identifier: MIT
// The live progress line of a bench run (bench-method.md §8 "Progress"): on
// stderr, only when it is a terminal, one line rewritten in place.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace mq::tools::bench {

/// What the line shows; the numbers come from the completed seconds of the series.
struct progress_state {
    std::string phase;        // "warm-up", "window", "drain"
    double elapsed_s = 0;     // from the window start (negative in warm-up)
    double sent_per_s = 0;    // last completed second
    double received_per_s = 0;
    std::optional<std::uint64_t> in_flight;  // QoS 1/2: sent, not acked; QoS 0: sent, not yet received
    std::optional<double> p99_us;            // open loop: p99 of everything received so far
    std::uint64_t errors = 0;                // so far: failed acks, lost connections
    std::uint64_t connections = 0;
};

/// The line's text, without the leading "\r\033[K".
std::string progress_text(const progress_state& s);

/// True when `fd` is a terminal and TERM is set and not "dumb": only then is there a line.
bool progress_wanted(int fd);

}  // namespace mq::tools::bench
