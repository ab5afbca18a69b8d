// SPDX-License-Identifier: MIT
#pragma once
#include <string>

namespace CLI { class App; }

namespace mq::tools {

/// Builds the whole `mq` command model: global options (§1), the subcommands
/// (add_*_command) and the parsing rules (help is --help only, options after the
/// subcommand fall through to the root, one subcommand per run). Used by main()
/// and by the short-flag registry test (§12).
void build_root_app(CLI::App& app);

/// The same, but only the subcommand `only` gets its options; the others are
/// registered by name and description alone (help still lists them). Building
/// every option of every subcommand costs milliseconds of CLI11 bookkeeping at
/// each start, which `mq pub -m x` in a shell loop pays every time.
void build_root_app(CLI::App& app, const std::string& only);

/// The subcommand argv names, skipping the global options and their values;
/// empty when there is none (or it is not a known subcommand).
std::string subcommand_in(int argc, const char* const* argv);

/// True when --version was given (main prints the versions).
bool version_requested(const CLI::App& app);

}  // namespace mq::tools
