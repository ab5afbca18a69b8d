// SPDX-License-Identifier: MIT
#include "bench/resources.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "bench/payload_header.hpp"

namespace mq::tools::bench {

namespace {
std::uint64_t to_ns(const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(t.tv_usec) * 1000ull;
}
std::uint64_t usage_ns(int who) {
    rusage u{};
    if (getrusage(who, &u) != 0) return 0;
    return to_ns(u.ru_utime) + to_ns(u.ru_stime);
}
}  // namespace

std::uint64_t thread_cpu_ns() noexcept {
    return usage_ns(RUSAGE_THREAD);
}
std::uint64_t process_cpu_ns() noexcept {
    return usage_ns(RUSAGE_SELF);
}

std::optional<std::uint64_t> pid_cpu_ns(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line)) return std::nullopt;
    // The command name (field 2) may hold spaces; fields after its ')' are fixed.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    const long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) return std::nullopt;
    return (utime + stime) * (1'000'000'000ull / static_cast<std::uint64_t>(hz));
}

std::optional<std::uint64_t> pid_rss_kb(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return std::nullopt;
}

std::optional<machine_ticks> read_machine_ticks() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    if (!(f >> cpu) || cpu != "cpu") return std::nullopt;
    machine_ticks t;
    std::uint64_t v = 0;
    for (int i = 0; i < 8 && f >> v; ++i) {
        t.total += v;
        if (i != 3 && i != 4) t.busy += v;  // idle and iowait are not busy
    }
    return t;
}

double busy_pct(const machine_ticks& a, const machine_ticks& b) noexcept {
    const auto total = b.total - a.total;
    return total == 0 ? 0.0 : 100.0 * static_cast<double>(b.busy - a.busy) / static_cast<double>(total);
}

std::uint32_t local_clock_domain() {
    std::ifstream f("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(f, id);
    return clock_domain_from_boot_id(id.empty() ? "unknown-boot" : id);
}

std::optional<std::string> ensure_fd_limit(std::uint64_t needed) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return std::nullopt;
    if (lim.rlim_cur >= needed) return std::nullopt;
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? needed : std::min<rlim_t>(lim.rlim_max, needed);
    setrlimit(RLIMIT_NOFILE, &lim);
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur >= needed) return std::nullopt;
    return "this run needs " + std::to_string(needed) + " file descriptors but the limit is " +
           std::to_string(lim.rlim_cur) + "; raise it with `ulimit -n " + std::to_string(needed) + "`";
}

void set_timer_slack_ns(unsigned long ns) noexcept {
    prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0);
}

std::optional<port_range> read_port_range(const std::string& path) {
    std::ifstream f(path);
    port_range r;
    if (!(f >> r.low >> r.high)) return std::nullopt;
    return r;
}

std::optional<std::string> check_port_range(std::uint64_t clients, std::size_t sources, const port_range& range) {
    const std::uint64_t per_source = (clients + sources - 1) / std::max<std::size_t>(sources, 1);
    if (per_source <= range.size()) return std::nullopt;
    const std::uint64_t need_sources = (clients + range.size() - 1) / std::max<std::uint32_t>(range.size(), 1);
    return fmt::format(
        "{} connections from {} source address{} need {} local ports each, but "
        "net.ipv4.ip_local_port_range ({} {}) has {}: raise it (sysctl -w "
        "net.ipv4.ip_local_port_range=\"1024 65535\") or spread the clients over at least {} source "
        "addresses with --source-ip (e.g. 127.0.0.1,127.0.0.2,... for a loopback broker)",
        clients, sources, sources == 1 ? "" : "es", per_source, range.low, range.high, range.size(),
        need_sources);
}

}  // namespace mq::tools::bench
