// SPDX-License-Identifier: MIT
#pragma once
// The configuration file of cli-contract.md §3: INI-style `key = value` lines,
// `#`/`;` comments, `[pub]`-style subcommand sections and `[profile.NAME]`
// sections. Parsing is pure (text in, entries out) so it is unit-tested without
// files; choosing which entries apply is select_entries().
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools {

struct config_entry {
    std::string section;  // "" (top level), "pub", ..., or "profile.NAME"
    std::string key;      // a long option name without the leading "--"
    std::string value;    // unquoted, escapes resolved, leading "~/" expanded
    int line = 0;
};

struct config_file {
    std::string path;
    std::vector<config_entry> entries;
};

/// Parses `text` read from `path`. Throws std::system_error(tool_error::config)
/// with "path:line: what is wrong" on a syntax error. `home` replaces a leading
/// "~/" in values (empty: no expansion).
config_file parse_config(std::string_view text, std::string path, std::string_view home);

/// The entries that apply to `subcommand` with `profile` (may be empty), in
/// precedence order: top level, then [subcommand], then [profile.NAME]; a key set
/// in a later section replaces (all values of) the same key from an earlier one.
/// Throws tool_error::config when `profile` is given but has no section.
std::vector<config_entry> select_entries(const config_file& file, std::string_view subcommand,
                                         std::string_view profile);

/// Where the file is: `explicit_path` (--config, MQ_CONFIG) if given, else
/// $XDG_CONFIG_HOME/mq/config, else ~/.config/mq/config. nullopt when no
/// default file exists (an explicit path is always returned).
std::optional<std::string> locate_config(std::string_view explicit_path);

/// Reads and parses the file; a missing or unreadable file throws
/// tool_error::config naming it. Warns when a file holding `password` is
/// readable by group or others.
config_file load_config(const std::string& path);

}  // namespace mq::tools
