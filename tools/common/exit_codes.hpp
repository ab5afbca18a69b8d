// SPDX-License-Identifier: MIT
#pragma once
#include <system_error>
#include <type_traits>

namespace mq::tools {

/// Exit statuses of cli-contract.md §10.
namespace exit_status {
inline constexpr int ok = 0;
inline constexpr int check_failed = 1;
inline constexpr int usage = 64;
inline constexpr int data = 65;
inline constexpr int no_input = 66;
inline constexpr int no_host = 68;
inline constexpr int unavailable = 69;
inline constexpr int io = 74;
inline constexpr int protocol = 76;
inline constexpr int not_authorized = 77;
inline constexpr int config = 78;
inline constexpr int timeout = 124;
inline constexpr int interrupted = 130;
}  // namespace exit_status

/// Failures raised by the tools themselves (category "mq.tools"); the enum value
/// is the exit status.
enum class tool_error : int {
    check_failed = 1,
    usage = 64,
    data = 65,
    no_input = 66,
    io = 74,
    config = 78,
    timeout = 124,
    interrupted = 130,
};

const std::error_category& tool_category() noexcept;
std::error_code make_error_code(tool_error e) noexcept;

/// Maps any error to the §10 exit status: mqtt.reason (CONNACK/ack/DISCONNECT
/// reasons: 0x86/0x87/0x8A/0x8C -> 77; 0x88/0x89/0x97/0x9C/0x9D/0x9F -> 69;
/// other failures -> 76), mqtt.codec (malformed peer data -> 76), mqtt.net (68 for
/// resolve, 76 for protocol violations, 69 otherwise), mq.tools (its value), the
/// generic/system category (EPIPE -> 0, ENOENT/EACCES -> 66, other -> 74).
/// Success -> 0; anything unknown -> 1 (internal error).
int exit_code_for(std::error_code ec) noexcept;

/// Exit status for a failing acknowledgement reason (PUBACK, PUBREC, SUBACK,
/// DISCONNECT): 0x87 -> 77, other >= 0x80 -> 76, success -> 0.
int exit_code_for_ack(unsigned reason_value) noexcept;

}  // namespace mq::tools

template <> struct std::is_error_code_enum<mq::tools::tool_error> : std::true_type {};
