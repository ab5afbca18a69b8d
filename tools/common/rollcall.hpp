// SPDX-License-Identifier: MIT
#pragma once
// Fleet roll-call (cli-contract.md §5.5): a list of topics every one of which
// must report at least once. Pure bookkeeping; `mq sub` feeds it topics of
// messages that satisfied every --expect predicate.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mq::tools {

class rollcall {
public:
    /// One topic per line; blank lines and `#` comments skipped. Throws
    /// std::system_error: tool_error::no_input (unreadable), tool_error::data
    /// (an invalid topic name, naming file:line, or an empty list).
    static rollcall from_topics_file(const std::string& path);
    /// One id per line into `topic_template`, where `{id}` is a whole level
    /// (tool_error::usage otherwise); an id with '/', '+', '#' or U+0000 is
    /// tool_error::data naming file:line.
    static rollcall from_ids_file(const std::string& path, const std::string& topic_template);
    /// The same from text already read (tests; `origin` names it in errors).
    static rollcall from_topics(std::string_view text, const std::string& origin);
    static rollcall from_ids(std::string_view text, const std::string& origin, const std::string& topic_template);

    /// Filters that cover the roll-call when the user gave no -t: the topics
    /// themselves, or the template with `{id}` as `+`.
    std::vector<std::string> filters() const;
    /// A message on `topic` satisfied the predicates; true when it is the
    /// first for an expected topic.
    bool record(std::string_view topic);
    bool complete() const noexcept { return seen_ == topics_.size(); }
    std::size_t expected() const noexcept { return topics_.size(); }
    std::size_t seen() const noexcept { return seen_; }
    /// Entries that have not reported (ids for a template, else topics), in file order.
    std::vector<std::string> missing() const;
    /// {"type":"rollcall","expected":N,"seen":M,"missing":[...]} (no newline);
    /// for a template the missing entries are the ids, else the topics.
    std::string report_json() const;

private:
    std::vector<std::string> topics_;  // in file order
    std::vector<std::string> labels_;  // what "missing" lists: ids or topics
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<bool> reported_;
    std::size_t seen_ = 0;
    std::string template_;
};

}  // namespace mq::tools
