// SPDX-License-Identifier: MIT
// hardening.md §1.2 "stdout queue": a broker that floods PUBLISH faster than
// `mq sub`'s standard output drains must not make the client buffer without
// bound. The real binary runs with stdout into a pipe this test reads slowly;
// its VmRSS is sampled from /proc while it runs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "e2e_broker.hpp"
#include "hostile_peer.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {


struct slow_run {
    int exit_code = -1;
    bool timed_out = false;
    std::size_t lines = 0;
    long peak_rss_kib = 0;
    std::string err;
};

/// Runs `argv` with stdout into a pipe read in 64 KiB steps `pause` apart,
/// stderr into a file; SIGKILL after `limit`.
slow_run run_with_slow_stdout(const std::vector<std::string>& argv, std::chrono::milliseconds pause,
                              std::chrono::milliseconds limit) {
    slow_run out;
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    char err_path[] = "/tmp/mq-flood-stderr-XXXXXX";
    const int err_fd = ::mkstemp(err_path);
    REQUIRE(err_fd >= 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(err_fd, 2);
        // ASan builds: a small quarantine, so freed memory does not count as growth.
        ::setenv("ASAN_OPTIONS", "quarantine_size_mb=8:detect_leaks=1", 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto next_sample = std::chrono::steady_clock::now();
    std::vector<char> buf(64 * 1024);
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            out.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (now >= next_sample) {
            if (auto rss = vm_rss_kib(pid)) out.peak_rss_kib = std::max(out.peak_rss_kib, *rss);
            next_sample = now + 20ms;
        }
        pollfd pfd{fds[0], POLLIN, 0};
        if (::poll(&pfd, 1, 20) <= 0) continue;
        const ssize_t n = ::read(fds[0], buf.data(), buf.size());
        if (n <= 0) break;  // EOF: the client closed its stdout (exited)
        for (ssize_t i = 0; i < n; ++i) out.lines += buf[static_cast<std::size_t>(i)] == '\n';
        std::this_thread::sleep_for(pause);
    }
    ::close(fds[0]);
    int status = 0;
    // Bounded reap: the child closed stdout, so it is exiting.
    for (int i = 0; i < 500 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(10ms);
    if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        out.timed_out = true;
    }
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::ifstream err(err_path);
    out.err.assign(std::istreambuf_iterator<char>(err), {});
    ::close(err_fd);
    ::unlink(err_path);
    return out;
}

}  // namespace

TEST_CASE("e2e flood of PUBLISH faster than stdout keeps mq sub's memory bounded and exits 0") {
    constexpr std::size_t payload_size = 8 * 1024;
    constexpr std::size_t wanted = 2000;       // -C: 16 MiB of output
    constexpr std::size_t flood_cap = 40'000;  // 320 MiB if the client buffered it all
    std::atomic<std::size_t> sent{0};
    hostile_peer peer([&](hostile_peer::connection& c) {
        if (!c.expect(1) || !c.send(connack_v5_ok())) return;
        const auto sub = c.expect(8);
        if (!sub || !c.send(suback_for(*sub, {0x00}))) return;
        byte_string body{0x00, 0x01, 'a', 0x00};  // topic "a", no properties
        body.resize(body.size() + payload_size, 'p');
        const byte_string one = mqtt_packet(0x30, body);
        byte_string batch;
        for (int i = 0; i < 16; ++i) batch.insert(batch.end(), one.begin(), one.end());
        while (sent < flood_cap && c.send(batch)) sent += 16;
    });

    const auto r = run_with_slow_stdout(
        mq_cmd({"sub", "-V", "5", "-p", peer.port_text(), "-t", "a", "-C", std::to_string(wanted)}), 5ms, 60s);
    peer.finish();
    INFO("stderr: " << r.err);
    INFO("peak VmRSS KiB: " << r.peak_rss_kib << ", PUBLISH packets the broker got out: " << sent.load());
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 0);
    CHECK(r.lines == wanted);
    CHECK(r.peak_rss_kib > 0);
#if defined(__SANITIZE_ADDRESS__)
    CHECK(r.peak_rss_kib < 192 * 1024);
#else
    CHECK(r.peak_rss_kib < 64 * 1024);
#endif
    // The flood really outran stdout: far more was offered than printed.
    CHECK(sent.load() > wanted);
}
