// SPDX-License-Identifier: MIT
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <mqtt/net/log.hpp>

namespace mq::tools {

/// Global options of cli-contract.md §1, parsed on the root app and read by the
/// subcommands when they run (after parsing is complete).
struct global_options {
    std::string log_level;  // empty: MQ_LOG_LEVEL or "warn"
    bool debug = false;
    bool quiet = false;
    bool version = false;
    std::string log_format = "text";
    std::string color = "auto";
    /// Exit status set by the subcommand that ran.
    std::optional<int> exit_code;
};

global_options& globals() noexcept;

/// The logger for the tools: stderr text (or JSON) sink at the chosen level;
/// throws std::system_error(tool_error::usage or config) on a bad level.
mqtt::net::logger make_tool_logger();

/// Prints "mq: <message>" on stderr in one write.
void print_error(std::string_view message);
/// Prints "mq: warning: <message>" on stderr unless --quiet.
void print_warning(std::string_view message);

}  // namespace mq::tools
