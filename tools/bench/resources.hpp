// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace mq::tools::bench {

/// CPU time (user + system) of the calling thread, ns (getrusage RUSAGE_THREAD).
std::uint64_t thread_cpu_ns() noexcept;
/// CPU time of the whole process, ns (getrusage RUSAGE_SELF).
std::uint64_t process_cpu_ns() noexcept;
/// utime + stime of another process from /proc/PID/stat, ns; nullopt if unreadable.
std::optional<std::uint64_t> pid_cpu_ns(int pid);
/// VmRSS of a process from /proc/PID/status, KiB.
std::optional<std::uint64_t> pid_rss_kb(int pid);

/// Busy and total jiffies of the machine from /proc/stat.
struct machine_ticks {
    std::uint64_t busy = 0, total = 0;
};
std::optional<machine_ticks> read_machine_ticks();
/// Busy percentage between two samples.
double busy_pct(const machine_ticks& a, const machine_ticks& b) noexcept;

/// Clock domain of this host's CLOCK_MONOTONIC: hash of /proc/sys/kernel/random/boot_id.
std::uint32_t local_clock_domain();

/// Pre-flight of bench-method.md §6: raises the soft RLIMIT_NOFILE to the hard
/// limit when `needed` descriptors are more than the soft one. Returns an error
/// text naming the `ulimit -n` needed when even the hard limit is short.
std::optional<std::string> ensure_fd_limit(std::uint64_t needed);

/// The kernel's ephemeral port range (net.ipv4.ip_local_port_range).
struct port_range {
    std::uint32_t low = 32768, high = 60999;
    std::uint32_t size() const noexcept { return high >= low ? high - low + 1 : 0; }
};
/// Reads "LOW HIGH" from `path`; nullopt when it cannot be read.
std::optional<port_range> read_port_range(const std::string& path = "/proc/sys/net/ipv4/ip_local_port_range");
/// Pre-flight of bench-method.md §6: `clients` connections to one broker address
/// from `sources` source addresses (1 without --source-ip) need clients/sources
/// ephemeral ports per source. Returns what to raise when the range is short.
std::optional<std::string> check_port_range(std::uint64_t clients, std::size_t sources, const port_range& range);

/// Sets the calling thread's timer slack (prctl PR_SET_TIMERSLACK), so absolute
/// deadlines are not rounded up by the default 50 µs.
void set_timer_slack_ns(unsigned long ns) noexcept;

}  // namespace mq::tools::bench
