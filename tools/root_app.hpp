// SPDX-License-Identifier: MIT
#pragma once
namespace CLI { class App; }

namespace mq::tools {

/// Builds the whole `mq` command model: global options (§1), the subcommands
/// (add_*_command) and the parsing rules (help is --help only, options after the
/// subcommand fall through to the root, one subcommand per run). Used by main()
/// and by the short-flag registry test (§12).
void build_root_app(CLI::App& app);

/// True when --version was given (main prints the versions).
bool version_requested(const CLI::App& app);

}  // namespace mq::tools
