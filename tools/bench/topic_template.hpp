// SPDX-License-Identifier: MIT
// `--topic TEMPLATE` of mq bench (cli-contract.md §8, bench-method.md §2): the
// publishers' topics and the subscribers' filter from one template.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools::bench {

/// Placeholders: `{run}` the run id (8 hex digits); `%i` or `{pub}` the client
/// (publisher) index; `%c` the counter, the message's sequence number from 0 per
/// publisher (a new topic for every message); `{sub}` is kept for old templates
/// and is always "0"; `%%` is a literal '%'. Anything else is literal text.
class topic_template {
public:
    /// nullopt and `err` set for an unknown % sequence or a + or # in the template.
    static std::optional<topic_template> parse(std::string_view text, std::string& err);

    /// The topic of message `counter` of publisher `client`, written into `out`
    /// (its capacity is reused: no allocation per message once warm).
    void expand(std::string& out, std::uint32_t run_id, std::uint32_t client, std::uint64_t counter) const;
    std::string topic(std::uint32_t run_id, std::uint32_t client, std::uint64_t counter) const;
    /// The subscribers' filter: each client or counter placeholder becomes "+".
    std::string filter(std::uint32_t run_id) const;
    /// Why filter() would not be a valid filter (a placeholder sharing its topic
    /// level with other text, where "+" cannot stand), or nullopt.
    std::optional<std::string> filter_problem() const;
    /// True when the topic changes with every message (%c).
    bool per_message() const noexcept;
    /// Length of the longest topic the template can produce.
    std::size_t max_size() const noexcept;
    const std::string& text() const noexcept { return text_; }

private:
    enum class kind : std::uint8_t { literal, run, client, counter };
    struct piece {
        kind k = kind::literal;
        std::string text;  // literal only
    };
    std::string text_;
    std::vector<piece> pieces_;
};

}  // namespace mq::tools::bench
