// SPDX-License-Identifier: MIT
#include <mqtt/core/acl.hpp>

#include <mqtt/codec/topic.hpp>

namespace mqtt::core {
namespace {

std::string_view trim(std::string_view s) noexcept {
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string_view::npos) return {};
    const auto b = s.find_last_not_of(" \t");
    return s.substr(a, b - a + 1);
}

// Next whitespace-separated token; `s` keeps the rest.
std::string_view next_token(std::string_view& s) noexcept {
    s = trim(s);
    const auto end = s.find_first_of(" \t");
    const auto tok = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
    return tok;
}

bool unsafe_value(std::string_view v) noexcept {
    return v.empty() || v.find_first_of("/+#") != std::string_view::npos;
}

// Expands %u/%c; nullopt when the rule cannot apply to this client.
std::optional<std::string> expand(const std::string& filter, const acl_subject& who) {
    std::string out;
    for (std::size_t i = 0; i < filter.size(); ++i) {
        if (filter[i] == '%' && i + 1 < filter.size() && (filter[i + 1] == 'u' || filter[i + 1] == 'c')) {
            if (filter[i + 1] == 'u') {
                if (!who.username || unsafe_value(*who.username)) return std::nullopt;
                out += *who.username;
            } else {
                if (unsafe_value(who.client_id)) return std::nullopt;
                out += who.client_id;
            }
            ++i;
            continue;
        }
        out += filter[i];
    }
    return out;
}

bool applies(const acl_rule& r, const acl_subject& who, acl_access need) noexcept {
    if ((static_cast<unsigned>(r.access) & static_cast<unsigned>(need)) == 0) return false;
    switch (r.who) {
        case acl_rule::who_kind::anyone:
            return true;
        case acl_rule::who_kind::anonymous:
            return !who.username.has_value();
        case acl_rule::who_kind::user:
            return who.username && *who.username == r.name;
    }
    return false;
}

template <class Match>
bool decide(const std::vector<acl_rule>& rules, const acl_subject& who, acl_access need, Match&& match) {
    for (const auto& r : rules) {
        if (!applies(r, who, need)) continue;
        std::optional<bool> m;
        if (r.expands) {
            const auto f = expand(r.filter, who);
            if (!f) continue;
            m = match(*f, r);
        } else {
            m = match(r.filter, r);  // no copy on the common path
        }
        if (m) return *m;
    }
    return false;  // no rule: denied
}

}  // namespace

bool filter_covers(std::string_view outer, std::string_view inner) noexcept {
    // [MQTT-4.7.2-1] a leading wildcard never matches '$' topics.
    if (!inner.empty() && inner.front() == '$' && !outer.empty() &&
        (outer.front() == '+' || outer.front() == '#'))
        return false;
    std::size_t o = 0, i = 0;
    for (;;) {
        const auto oe = outer.find('/', o);
        const auto ie = inner.find('/', i);
        const auto olev = outer.substr(o, oe == std::string_view::npos ? std::string_view::npos : oe - o);
        const bool inner_done = i > inner.size();
        if (olev == "#") return true;  // covers the parent and everything below
        if (inner_done) return false;
        const auto ilev = inner.substr(i, ie == std::string_view::npos ? std::string_view::npos : ie - i);
        if (ilev == "#") return false;  // only '#' covers '#'
        if (olev == "+") {
            // '+' covers any single level, including a '+' level.
        } else if (ilev == "+" || olev != ilev) {
            return false;
        }
        const bool o_last = oe == std::string_view::npos;
        const bool i_last = ie == std::string_view::npos;
        if (o_last && i_last) return true;
        if (o_last) return false;
        o = oe + 1;
        i = i_last ? inner.size() + 1 : ie + 1;
    }
}

std::optional<acl> acl::parse(std::string_view text, file_error& err) {
    acl out;
    std::size_t line_no = 0, pos = 0;
    while (pos < text.size()) {
        ++line_no;
        const auto nl = text.find('\n', pos);
        std::string_view raw =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        const auto body = trim(raw);
        if (body.empty() || body.front() == '#') continue;
        std::string_view rest = body;
        acl_rule r;
        r.line = line_no;
        const auto verb = next_token(rest);
        if (verb == "allow")
            r.allow = true;
        else if (verb != "deny") {
            err = {line_no, "expected 'allow' or 'deny', got '" + std::string(verb) + "'"};
            return std::nullopt;
        }
        const auto who = next_token(rest);
        if (who == "*") {
            r.who = acl_rule::who_kind::anyone;
        } else if (who == "anonymous") {
            r.who = acl_rule::who_kind::anonymous;
        } else if (who.starts_with("user:") && who.size() > 5) {
            r.who = acl_rule::who_kind::user;
            r.name = std::string(who.substr(5));
        } else {
            err = {line_no, "expected 'user:NAME', 'anonymous' or '*', got '" + std::string(who) + "'"};
            return std::nullopt;
        }
        const auto access = next_token(rest);
        if (access == "read")
            r.access = acl_access::read;
        else if (access == "write")
            r.access = acl_access::write;
        else if (access == "readwrite")
            r.access = acl_access::readwrite;
        else {
            err = {line_no, "expected 'read', 'write' or 'readwrite', got '" + std::string(access) + "'"};
            return std::nullopt;
        }
        const auto filter = trim(rest);
        if (filter.empty()) {
            err = {line_no, "missing topic filter"};
            return std::nullopt;
        }
        std::error_code share_ec;
        if (check_topic_filter(filter) || parse_shared(filter, share_ec)) {
            err = {line_no, "invalid topic filter '" + std::string(filter) + "'"};
            return std::nullopt;
        }
        r.filter = std::string(filter);
        r.expands = r.filter.find("%u") != std::string::npos || r.filter.find("%c") != std::string::npos;
        out.rules_.push_back(std::move(r));
    }
    return out;
}

bool acl::may_write(const acl_subject& who, std::string_view topic) const {
    return decide(rules_, who, acl_access::write, [topic](const std::string& f, const acl_rule& r) {
        return topic_matches(f, topic) ? std::optional<bool>(r.allow) : std::nullopt;
    });
}

bool acl::may_read(const acl_subject& who, std::string_view topic) const {
    return decide(rules_, who, acl_access::read, [topic](const std::string& f, const acl_rule& r) {
        return topic_matches(f, topic) ? std::optional<bool>(r.allow) : std::nullopt;
    });
}

bool acl::may_subscribe(const acl_subject& who, std::string_view filter) const {
    std::error_code ec;
    if (auto s = parse_shared(filter, ec)) filter = s->filter;
    if (ec) return false;
    return decide(rules_, who, acl_access::read, [filter](const std::string& f, const acl_rule& r) {
        return filter_covers(f, filter) ? std::optional<bool>(r.allow) : std::nullopt;
    });
}

}  // namespace mqtt::core
