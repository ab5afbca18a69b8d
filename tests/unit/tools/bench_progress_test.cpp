// SPDX-License-Identifier: MIT
// The live progress line of `mq bench` (bench-method.md §8 "Progress").
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <doctest/doctest.h>

#include "bench/progress.hpp"

using namespace mq::tools::bench;

TEST_CASE("bench progress line shows rate, in-flight, p99 so far and errors") {
    progress_state s;
    s.phase = "window";
    s.elapsed_s = 3.26;
    s.sent_per_s = 20000;
    s.received_per_s = 19998;
    s.in_flight = 12;
    s.p99_us = 88.4;
    s.errors = 3;
    s.connections = 2;
    CHECK(progress_text(s) ==
          "window +3.3s  sent 20.0k/s  received 20.0k/s  in-flight 12  p99 88 µs  errors 3  conns 2");
    s.phase = "warm-up";
    s.elapsed_s = -1.5;
    s.sent_per_s = 1500;
    s.received_per_s = 2'500'000;
    s.in_flight.reset();  // QoS 0 without subscribers here
    s.p99_us = 12'346.0;
    s.errors = 0;
    CHECK(progress_text(s) ==
          "warm-up -1.5s  sent 1500/s  received 2.50M/s  in-flight -  p99 12.35 ms  errors 0  conns 2");
    // Closed loop: no latency is measured, so none is shown.
    s.p99_us.reset();
    CHECK(progress_text(s).find("p99") == std::string::npos);
    // The line is one line: the caller rewrites it with "\r\033[K".
    CHECK(progress_text(s).find('\n') == std::string::npos);
}

TEST_CASE("bench progress only on a terminal with a usable TERM") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    CHECK_FALSE(progress_wanted(fds[1]));  // a pipe is not a terminal
    ::close(fds[0]);
    ::close(fds[1]);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    REQUIRE(null_fd >= 0);
    CHECK_FALSE(progress_wanted(null_fd));
    ::close(null_fd);
    // A pseudo-terminal is one, unless TERM says it cannot rewrite a line.
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
        MESSAGE("no pseudo-terminals here: TTY case not checked");
        return;
    }
    const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    REQUIRE(slave >= 0);
    const char* old = std::getenv("TERM");
    const std::string saved = old ? old : "";
    ::setenv("TERM", "xterm", 1);
    CHECK(progress_wanted(slave));
    ::setenv("TERM", "dumb", 1);
    CHECK_FALSE(progress_wanted(slave));
    ::unsetenv("TERM");
    CHECK_FALSE(progress_wanted(slave));
    if (old) ::setenv("TERM", saved.c_str(), 1);
    ::close(slave);
    ::close(master);
}
