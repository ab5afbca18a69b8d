// SPDX-License-Identifier: MIT
// Walking a CLI11 model that uses option groups. CLI11 keeps an option group
// ("Connection", "TLS", ...) as a nameless subcommand: App::get_options() does
// not list its options and get_subcommands() lists the group as if it were a
// command. These helpers give the user's view: every option of a command, and
// its real subcommands.
#pragma once
#include <vector>

#include <CLI/CLI.hpp>

namespace mq::tools {

/// The options of `app` followed by those of its option groups (recursively).
std::vector<const CLI::Option*> options_of(const CLI::App& app);

/// The named subcommands of `app` (option groups left out), hidden ones included.
std::vector<CLI::App*> subcommands_of(CLI::App& app);

}  // namespace mq::tools
