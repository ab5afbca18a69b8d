// SPDX-License-Identifier: MIT
#include "common/rollcall.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <mqtt/codec/topic.hpp>

#include "common/exit_codes.hpp"

namespace mq::tools {
namespace {

std::string read_list(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::system_error(tool_error::no_input, fmt::format("cannot read roll-call file {}", path));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Calls fn(entry, line) for each non-blank, non-comment line, trimmed.
template <typename Fn>
void for_each_entry(std::string_view text, Fn fn) {
    int line = 0;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        std::string_view l = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++line;
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
        if (l.empty() || l.front() == '#') continue;
        fn(l, line);
    }
}

constexpr std::string_view id_marker = "{id}";

}  // namespace

rollcall rollcall::from_topics(std::string_view text, const std::string& origin) {
    rollcall r;
    for_each_entry(text, [&](std::string_view topic, int line) {
        if (auto ec = mqtt::check_topic_name(topic))
            throw std::system_error(tool_error::data,
                                    fmt::format("{}:{}: invalid topic '{}': {}", origin, line, topic, ec.message()));
        if (r.index_.contains(std::string{topic})) return;  // listed twice: once is enough
        r.index_.emplace(topic, r.topics_.size());
        r.topics_.emplace_back(topic);
        r.labels_.emplace_back(topic);
    });
    if (r.topics_.empty()) throw std::system_error(tool_error::data, fmt::format("{}: no topics listed", origin));
    r.reported_.assign(r.topics_.size(), false);
    return r;
}

rollcall rollcall::from_ids(std::string_view text, const std::string& origin, const std::string& topic_template) {
    const auto at = topic_template.find(id_marker);
    const bool whole_level =
        at != std::string::npos && (at == 0 || topic_template[at - 1] == '/') &&
        (at + id_marker.size() == topic_template.size() || topic_template[at + id_marker.size()] == '/') &&
        topic_template.find(id_marker, at + 1) == std::string::npos;
    if (!whole_level)
        throw std::system_error(tool_error::usage,
                                fmt::format("--topic-template '{}' needs {{id}} once, as a whole topic level", topic_template));
    rollcall r;
    r.template_ = topic_template;
    for_each_entry(text, [&](std::string_view id, int line) {
        if (id.find_first_of(std::string_view("/+#\0", 4)) != std::string_view::npos)
            throw std::system_error(tool_error::data, fmt::format("{}:{}: id '{}' contains '/', '+', '#' or NUL",
                                                                  origin, line, id));
        std::string topic = topic_template;
        topic.replace(at, id_marker.size(), id);
        if (auto ec = mqtt::check_topic_name(topic))
            throw std::system_error(tool_error::data,
                                    fmt::format("{}:{}: invalid topic '{}': {}", origin, line, topic, ec.message()));
        if (r.index_.contains(topic)) return;
        r.index_.emplace(topic, r.topics_.size());
        r.topics_.push_back(std::move(topic));
        r.labels_.emplace_back(id);
    });
    if (r.topics_.empty()) throw std::system_error(tool_error::data, fmt::format("{}: no ids listed", origin));
    r.reported_.assign(r.topics_.size(), false);
    return r;
}

rollcall rollcall::from_topics_file(const std::string& path) { return from_topics(read_list(path), path); }

rollcall rollcall::from_ids_file(const std::string& path, const std::string& topic_template) {
    return from_ids(read_list(path), path, topic_template);
}

std::vector<std::string> rollcall::filters() const {
    if (template_.empty()) return topics_;
    std::string f = template_;
    f.replace(f.find(id_marker), id_marker.size(), "+");
    return {f};
}

bool rollcall::record(std::string_view topic) {
    const auto it = index_.find(std::string{topic});
    if (it == index_.end() || reported_[it->second]) return false;
    reported_[it->second] = true;
    ++seen_;
    return true;
}

std::vector<std::string> rollcall::missing() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < topics_.size(); ++i) {
        if (!reported_[i]) out.push_back(labels_[i]);
    }
    return out;
}

std::string rollcall::report_json() const {
    nlohmann::ordered_json j;
    j["type"] = "rollcall";
    j["expected"] = topics_.size();
    j["seen"] = seen_;
    j["missing"] = missing();
    // Topics are UTF-8 checked; ids too (via the topic): replace cannot throw.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mq::tools
