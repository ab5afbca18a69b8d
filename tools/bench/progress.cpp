// SPDX-License-Identifier: MIT
#include "bench/progress.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace mq::tools::bench {

namespace {

std::string rate_text(double v) {
    if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
    if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
    return fmt::format("{:.0f}", v);
}

std::string latency_text(double us) {
    if (us >= 1e6) return fmt::format("{:.2f} s", us / 1e6);
    if (us >= 1e3) return fmt::format("{:.2f} ms", us / 1e3);
    return fmt::format("{:.0f} µs", us);
}

}  // namespace

std::string progress_text(const progress_state& s) {
    std::string out = fmt::format("{} {:+.1f}s  sent {}/s  received {}/s", s.phase, s.elapsed_s,
                                  rate_text(s.sent_per_s), rate_text(s.received_per_s));
    out += s.in_flight ? fmt::format("  in-flight {}", *s.in_flight) : std::string("  in-flight -");
    if (s.p99_us) out += "  p99 " + latency_text(*s.p99_us);
    out += fmt::format("  errors {}  conns {}", s.errors, s.connections);
    return out;
}

bool progress_wanted(int fd) {
    const char* term = std::getenv("TERM");
    return ::isatty(fd) == 1 && term != nullptr && *term != '\0' && std::string_view(term) != "dumb";
}

}  // namespace mq::tools::bench
