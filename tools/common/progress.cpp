// SPDX-License-Identifier: MIT
#include "common/progress.hpp"

#include <cstdlib>
#include <string_view>

#include <unistd.h>

#include "common/globals.hpp"
#include "common/stdio.hpp"

namespace mq::tools {

progress_line::progress_line() {
    const char* term = std::getenv("TERM");
    enabled_ = isatty(2) == 1 && term != nullptr && std::string_view(term) != "dumb" && !globals().quiet;
}

progress_line::~progress_line() { clear(); }

void progress_line::update(const std::function<std::string()>& text) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    shown_ = true;
    (void)write_all(2, "\r\033[K" + text());
}

void progress_line::clear() {
    if (!shown_) return;
    shown_ = false;
    (void)write_all(2, "\r\033[K");
}

}  // namespace mq::tools
