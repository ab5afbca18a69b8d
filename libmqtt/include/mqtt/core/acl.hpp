// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/core/password_file.hpp>

/// The broker's ACL file (cli-contract.md §9), one rule a line:
///
///     allow|deny WHO ACCESS FILTER
///
/// WHO is `user:NAME`, `anonymous` or `*`; ACCESS `read`, `write` or
/// `readwrite`; FILTER a topic filter (the rest of the line) in which `%u` and
/// `%c` expand to the username and client id. Blank lines and lines starting
/// with '#' are comments. The first rule that applies decides; when none does,
/// or the file has no rules, access is denied.
///
/// - write (PUBLISH, Will): the first rule for this client with write access
///   whose filter matches the topic.
/// - read (every delivery, retained included): the same with read access.
/// - subscribe: the first rule with read access whose filter covers the whole
///   requested filter (every topic it can match). A deny rule that covers only
///   part of it is skipped here; read checks on delivery still apply it.
///
/// A `%u`/`%c` rule never matches when the value is missing (anonymous) or
/// contains '/', '+' or '#', so a crafted id cannot widen a rule (hardening J09).
namespace mqtt::core {

enum class acl_access : std::uint8_t { read = 1, write = 2, readwrite = 3 };

struct acl_rule {
    enum class who_kind : std::uint8_t { user, anonymous, anyone };
    bool allow = false;
    who_kind who = who_kind::anyone;
    std::string name;  // who == user
    acl_access access = acl_access::read;
    std::string filter;
    bool expands = false;  // filter contains %u or %c
    std::size_t line = 0;
};

/// The client a decision is about (views: valid for the call only).
struct acl_subject {
    std::optional<std::string_view> username;  // nullopt: anonymous
    std::string_view client_id;
};

class acl {
public:
    /// Parses the file; on the first bad line returns nullopt and fills `err`
    /// (unknown verb, WHO or ACCESS, missing filter, invalid filter).
    static std::optional<acl> parse(std::string_view text, file_error& err);

    bool may_write(const acl_subject& who, std::string_view topic) const;
    bool may_read(const acl_subject& who, std::string_view topic) const;
    /// `filter` may be a shared subscription; its group is ignored.
    bool may_subscribe(const acl_subject& who, std::string_view filter) const;

    const std::vector<acl_rule>& rules() const noexcept { return rules_; }

private:
    std::vector<acl_rule> rules_;
};

/// True when every topic `inner` can match is matched by `outer` (both valid,
/// not shared); '$' topics follow [MQTT-4.7.2-1].
bool filter_covers(std::string_view outer, std::string_view inner) noexcept;

}  // namespace mqtt::core
