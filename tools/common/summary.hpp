// SPDX-License-Identifier: MIT
#pragma once
// The end-of-run summary of `mq sub`, `mq pub` and `mq rr` (cli-contract.md
// §5.6): a plain model and its two renderings. Filling it in is the job of
// summary_recorder; this file does no I/O.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools {

/// What ended the run (`ended_by`).
enum class summary_end : std::uint8_t {
    none,  // not known yet; rendered as null
    count,
    goal,
    duration,
    idle,
    timeout,
    wait_first,
    signal,
    stdout_closed,
    connection_lost,
    fail_on,
    error,
};

std::string_view summary_end_name(summary_end e) noexcept;

struct connect_summary {
    /// From the start of connecting (resolve, TCP, TLS, WebSocket) to the CONNACK.
    double connack_ms = 0;
    bool session_present = false;
    std::uint8_t reason_code = 0;
    std::optional<std::string> assigned_client_id;
    /// Every limit the CONNACK advertised, by spec property name in snake case
    /// (`receive_maximum`, `maximum_qos`, ...), in property id order.
    std::vector<std::pair<std::string, std::uint32_t>> limits;
};

struct subscription_summary {
    std::string filter;
    std::uint8_t reason_code = 0;
};

struct message_counts {
    std::uint64_t received = 0;  // PUBLISH packets that arrived
    std::uint64_t printed = 0;   // records written to stdout
    std::uint64_t retained = 0;  // arrivals with the retain flag
    std::uint64_t excluded = 0;  // dropped by -T/-R (sub) or as not ours (rr)
    std::uint64_t matched = 0;   // satisfied every --expect predicate
};

struct rollcall_summary {
    std::size_t expected = 0;
    std::size_t seen = 0;
    std::vector<std::string> missing;
};

struct error_summary {
    std::string kind;  // exit_kind_name() of the exit status
    std::optional<std::uint8_t> reason_code;
    std::string message;
};

/// pub and rr: outgoing messages.
struct publish_counts {
    std::uint64_t published = 0;  // PUBLISH packets sent
    std::uint64_t acked = 0;      // QoS 1/2 acknowledged with success
    std::map<std::uint8_t, std::uint64_t> failed;  // failing reason code -> count
};

struct run_summary {
    std::string command;  // "sub", "pub", "rr"
    int exit_code = 0;
    summary_end ended_by = summary_end::none;
    double elapsed_s = 0;
    std::optional<connect_summary> connect;  // null: no CONNACK arrived
    std::vector<subscription_summary> subscriptions;
    message_counts messages;
    std::optional<rollcall_summary> rollcall;
    std::optional<error_summary> error;
    std::optional<publish_counts> publishing;     // pub and rr only
    std::optional<std::vector<double>> latency_ms;  // rr --latency only
};

/// Short name of an exit status for `error.kind`: "usage", "unavailable",
/// "not_authorized", ... ("internal" for 1 from an unexpected failure is the
/// caller's choice; 1 here is "check_failed").
std::string_view exit_kind_name(int exit_status) noexcept;

/// One JSON object on one line, keys in §5.6 order, ending with '\n'.
std::string render_summary_json(const run_summary& s);
/// A few human-readable lines, each ending with '\n'.
std::string render_summary_text(const run_summary& s);

}  // namespace mq::tools
