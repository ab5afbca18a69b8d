// SPDX-License-Identifier: MIT
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    /// §3 configuration file: --config FILE, --no-config, --profile NAME.
    std::string config_path;
    bool no_config = false;
    std::string profile;
    /// Options whose value came from the config file: "--key" -> "path:line",
    /// so a bad value is reported against the file (exit 78).
    std::vector<std::pair<std::string, std::string>> config_origins;
    /// Set by the chosen subcommand's parse callback; main() runs it once the
    /// command line and the config file are both applied.
    std::function<int()> run;
};

/// "path:line" when `long_name` ("--key") got its value from the config file.
std::optional<std::string> config_origin(std::string_view long_name);

global_options& globals() noexcept;

/// The logger for the tools: stderr text (or JSON) sink at the chosen level;
/// throws std::system_error(tool_error::usage or config) on a bad level.
mqtt::net::logger make_tool_logger();

/// Prints "mq: <message>" on stderr in one write.
void print_error(std::string_view message);
/// Prints "mq: warning: <message>" on stderr unless --quiet.
void print_warning(std::string_view message);

}  // namespace mq::tools
