// SPDX-License-Identifier: MIT
#pragma once
// Reading a secret from the controlling terminal (--password-prompt, §2.2).
#include <string>
#include <string_view>

namespace mq::tools {

/// Writes `prompt` to /dev/tty and reads one line from it with echo off (the
/// terminal settings are restored afterwards, also when SIGINT/SIGTERM/SIGHUP
/// arrive meanwhile). The line ends at '\n' or end of input; a trailing '\r'
/// is dropped. Throws std::system_error: tool_error::usage when the process
/// has no controlling terminal (a `what` naming `option`), tool_error::io when
/// reading fails, tool_error::data for a line over 65535 bytes (MQTT limit).
std::string read_secret_from_tty(std::string_view prompt, std::string_view option);

}  // namespace mq::tools
