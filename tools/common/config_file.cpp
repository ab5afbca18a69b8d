// SPDX-License-Identifier: MIT
#include "common/config_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "common/exit_codes.hpp"
#include "common/globals.hpp"

namespace mq::tools {
namespace {

constexpr std::array<std::string_view, 6> subcommand_sections{"pub", "sub", "rr", "retain-clear", "bench", "broker"};

[[noreturn]] void fail(const std::string& path, int line, std::string_view what) {
    throw std::system_error(tool_error::config, fmt::format("{}:{}: {}", path, line, what));
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

bool valid_key(std::string_view key) {
    if (key.empty() || key.front() == '-') return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'Z');
    });
}

bool valid_section(std::string_view name) {
    if (std::find(subcommand_sections.begin(), subcommand_sections.end(), name) != subcommand_sections.end())
        return true;
    constexpr std::string_view prefix = "profile.";
    if (!name.starts_with(prefix) || name.size() == prefix.size()) return false;
    return valid_key(name.substr(prefix.size()));
}

// A double-quoted value with \" \\ \n \t escapes; nothing may follow the
// closing quote but blanks.
std::string unquote(std::string_view raw, const std::string& path, int line) {
    std::string out;
    std::size_t i = 1;
    for (; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '"') break;
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        if (++i == raw.size()) fail(path, line, "unterminated escape in quoted value");
        switch (raw[i]) {
            case '"': out.push_back('"'); break;
            case '\\': out.push_back('\\'); break;
            case 'n': out.push_back('\n'); break;
            case 't': out.push_back('\t'); break;
            default: fail(path, line, fmt::format("unknown escape '\\{}' in quoted value", raw[i]));
        }
    }
    if (i >= raw.size()) fail(path, line, "missing closing '\"'");
    if (!trim(raw.substr(i + 1)).empty()) fail(path, line, "text after the closing '\"'");
    return out;
}

}  // namespace

config_file parse_config(std::string_view text, std::string path, std::string_view home) {
    config_file file;
    file.path = std::move(path);
    std::string section;
    int line_no = 0;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view raw = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++line_no;
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']') fail(file.path, line_no, "section header without ']'");
            const std::string_view name = trim(line.substr(1, line.size() - 2));
            if (!valid_section(name))
                fail(file.path, line_no,
                     fmt::format("unknown section [{}] (use [pub], [sub], [rr], [retain-clear], [bench], "
                                 "[broker] or [profile.NAME])",
                                 name));
            section = name;
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) fail(file.path, line_no, "expected 'key = value'");
        const std::string_view key = trim(line.substr(0, eq));
        if (!valid_key(key)) fail(file.path, line_no, fmt::format("invalid key '{}'", key));
        const std::string_view raw_value = trim(line.substr(eq + 1));
        std::string value =
            !raw_value.empty() && raw_value.front() == '"' ? unquote(raw_value, file.path, line_no) : std::string{raw_value};
        if (!home.empty() && value.starts_with("~/")) value = std::string{home} + value.substr(1);
        file.entries.push_back({section, std::string{key}, std::move(value), line_no});
    }
    return file;
}

std::vector<config_entry> select_entries(const config_file& file, std::string_view subcommand,
                                         std::string_view profile) {
    const std::string profile_section = profile.empty() ? std::string{} : "profile." + std::string{profile};
    if (!profile.empty()) {
        const bool found = std::any_of(file.entries.begin(), file.entries.end(),
                                       [&](const config_entry& e) { return e.section == profile_section; });
        if (!found)
            throw std::system_error(tool_error::config,
                                    fmt::format("{}: no [{}] section for --profile {}", file.path, profile_section, profile));
    }
    std::vector<config_entry> out;
    auto take = [&](std::string_view section) {
        // Keys of this section replace earlier sections' values of the same key;
        // repeated keys within one section accumulate (repeatable options).
        std::vector<std::string> replaced;
        for (const auto& e : file.entries) {
            if (e.section != section) continue;
            if (std::find(replaced.begin(), replaced.end(), e.key) == replaced.end()) {
                std::erase_if(out, [&](const config_entry& o) { return o.key == e.key; });
                replaced.push_back(e.key);
            }
            out.push_back(e);
        }
    };
    take("");
    take(subcommand);
    if (!profile.empty()) take(profile_section);
    return out;
}

std::optional<std::string> locate_config(std::string_view explicit_path) {
    if (!explicit_path.empty()) return std::string{explicit_path};
    std::string path;
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
        path = std::string{xdg} + "/mq/config";
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        path = std::string{home} + "/.config/mq/config";
    } else {
        return std::nullopt;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return path;
}

config_file load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const std::error_code ec(errno, std::generic_category());
        throw std::system_error(tool_error::config, fmt::format("cannot read config file {}: {}", path, ec.message()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    const char* home = std::getenv("HOME");
    config_file file = parse_config(text.str(), path, home != nullptr ? home : "");
    const bool has_password = std::any_of(file.entries.begin(), file.entries.end(),
                                          [](const config_entry& e) { return e.key == "password"; });
    struct stat st {};
    if (has_password && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        print_warning(fmt::format("config file {} holds a password and is readable by group or others", path));
    return file;
}

}  // namespace mq::tools
