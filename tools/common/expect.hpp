// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

/// One `--expect` predicate (cli-contract.md §5.5): `PATH OP VALUE` or `PATH exists`.
struct predicate {
    enum class op : std::uint8_t { eq, ne, lt, le, gt, ge, match, exists };
    std::string path;
    op oper = op::exists;
    std::shared_ptr<const nlohmann::json> value;  // JSON literal (not for exists)
    std::shared_ptr<const std::regex> regex;      // for =~
};

/// Parses a predicate; nullopt with `error` set on bad syntax, an unknown path
/// root, a value that is not a JSON literal or a bad regex (exit 64).
std::optional<predicate> parse_predicate(std::string_view text, std::string& error);

/// `=~` is false for values longer than this: std::regex's stack use grows
/// with the subject's length.
inline constexpr std::size_t max_regex_subject = 4096;

/// Evaluates against a message. Paths: topic, payload, payload_len, qos, retain,
/// payload.a.b[2] (payload as JSON; false if not JSON), properties.content_type,
/// properties.response_topic, user.KEY. Different types compare false.
bool evaluate(const predicate& p, const mqtt::publish& msg);

}  // namespace mq::tools
