// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mq_test {

/// Parses the annotated hex format of tests/data/golden: whitespace-separated
/// two-digit hex bytes, `#` starts a comment to the end of the line. On a bad
/// token `error` names the line and the token and the result is empty.
std::vector<std::uint8_t> parse_hex(std::string_view text, std::string& error);

/// Names (file stem, e.g. "connect_v5") of every tests/data/golden/*.hex, sorted.
std::vector<std::string> golden_names();

/// Bytes of tests/data/golden/<name>.hex; `error` is set when the file is missing or malformed.
std::vector<std::uint8_t> load_golden(const std::string& name, std::string& error);

}  // namespace mq_test
