// SPDX-License-Identifier: MIT
#pragma once
// Brings configuration-file values into a parsed command line with the
// precedence of cli-contract.md §3: command line > MQ_* environment > file >
// default, decided per option. CLI11's own config and env hooks rank the file
// above the environment, so they are not used.
#include <string>
#include <vector>

#include "common/config_file.hpp"

namespace CLI {
class App;
}

namespace mq::tools {

struct config_arguments {
    /// Extra arguments ("--key=value", "--flag") to insert after the subcommand name.
    std::vector<std::string> args;
    /// Long option name ("--key") -> "path:line" of the entry that supplied it.
    std::vector<std::pair<std::string, std::string>> origins;
};

/// For the subcommand `sub` of `root`, both already parsed from the command
/// line: the arguments that add every applicable entry whose option was not
/// given on the command line nor through its MQ_* variable. A key that no
/// subcommand knows, or a flag with a value other than true/false, throws
/// tool_error::config naming the file and line; keys that only other
/// subcommands know are skipped.
config_arguments arguments_from_config(const CLI::App& root, const CLI::App& sub,
                                       const std::vector<config_entry>& entries, const std::string& path);

}  // namespace mq::tools
