// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <string_view>

namespace CLI { class App; }

namespace mq::tools {

/// Shell completion script for `root` walked from the CLI11 model: subcommands,
/// long and short option names, which options take a value and which take a
/// file. `shell` is bash, zsh or fish; anything else returns an empty string.
/// The output is deterministic so the committed files in completions/ can be
/// checked for staleness.
std::string generate_completion(CLI::App& root, std::string_view shell);

/// Registers the hidden `mq completion bash|zsh|fish` subcommand.
void add_completion_command(CLI::App& app);

}  // namespace mq::tools
