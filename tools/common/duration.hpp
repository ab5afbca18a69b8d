// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mq::tools {

/// Parses a duration: `250ms`, `1.5s`, `5m`, `1h`, `2d`, `10us`, or a bare
/// number of seconds (`30`, `0.5`). Negative values, empty strings, unknown
/// units and overflow give nullopt.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) noexcept;

/// Parses a size in bytes: `1024`, `64KiB`, `16MiB`, `1GiB` (also `KB`/`MB`/`GB`
/// as powers of 1000 and a bare `B`). Fractions are allowed with a unit
/// (`1.5KiB` = 1536). nullopt on bad syntax or overflow of uint64.
std::optional<std::uint64_t> parse_size(std::string_view text) noexcept;

/// Parses a count or rate: `100`, `10k` (x10^3), `2M` (x10^6), `1.5k`.
/// The result must be a whole number. nullopt on bad syntax or overflow.
std::optional<std::uint64_t> parse_count(std::string_view text) noexcept;

/// parse_duration for the value of option `name`; throws
/// std::system_error(tool_error::usage) naming the option on a bad value.
std::chrono::nanoseconds duration_option(std::string_view text, std::string_view name);

}  // namespace mq::tools
