// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <functional>
#include <string>

namespace mq::tools {

/// The progress line of cli-contract.md §11: on stderr only, when stderr is a
/// terminal, TERM is not `dumb` and --quiet is off; one line rewritten at most
/// 4 times a second.
class progress_line {
public:
    progress_line();
    ~progress_line();
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;

    bool enabled() const noexcept { return enabled_; }
    /// Rewrites the line with `text()` unless it was written less than 250 ms ago.
    void update(const std::function<std::string()>& text);
    /// Erases the line (before other output on stderr and at exit).
    void clear();

private:
    bool enabled_ = false;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace mq::tools
