// SPDX-License-Identifier: MIT
// Runs a program as a subprocess with pipes on stdin, stdout and stderr, for
// end-to-end tests of the `mq` binary. Every process is stopped by PID.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mq::test {

struct process_result {
    int exit_code = -1;      // exit status, or 128 + signal when killed by one
    bool timed_out = false;  // we had to SIGKILL it
    std::string out, err;
};

class process {
public:
    /// Starts argv[0] (a path) with the arguments and extra environment
    /// variables. Throws std::runtime_error if fork/exec setup fails.
    explicit process(std::vector<std::string> argv,
                     std::vector<std::pair<std::string, std::string>> env = {});
    /// SIGKILLs the process if it is still running and reaps it.
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    /// Queues bytes for stdin; they are written while waiting/reading.
    void write_stdin(std::string_view data);
    /// Closes stdin once the queued bytes are written.
    void close_stdin();
    /// Closes our end of the child's stdout (the reader goes away: EPIPE).
    void close_stdout();
    /// The next stdout line (without '\n'), waiting up to `timeout`; nullopt on
    /// EOF or timeout. Bytes after the line stay buffered for wait().
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    /// Waits until at least `n` bytes of stdout arrived (or timeout); returns them all so far.
    std::string read_stdout_until(std::size_t n, std::chrono::milliseconds timeout);
    /// Sends a signal.
    void signal(int sig) noexcept;
    /// Pumps stdin/stdout/stderr until the process exits; SIGKILL after `timeout`.
    process_result wait(std::chrono::milliseconds timeout);

private:
    // One poll round; false when nothing is left to do or the deadline passed.
    bool pump(std::chrono::steady_clock::time_point deadline);
    void flush_stdin();

    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;
    std::string pending_in_;
    bool close_in_after_ = false;
    std::string out_buf_, err_buf_;
    std::optional<int> status_;
};

/// Runs to completion with `input` on stdin.
process_result run_process_io(std::vector<std::string> argv, std::string_view input,
                              std::chrono::milliseconds timeout,
                              std::vector<std::pair<std::string, std::string>> env = {});

/// VmRSS of process `pid` in KiB (/proc/PID/status), nullopt once it is gone:
/// the memory-bound checks of the e2e tests.
std::optional<long> vm_rss_kib(pid_t pid);

}  // namespace mq::test
