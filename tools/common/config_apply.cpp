// SPDX-License-Identifier: MIT
#include "common/config_apply.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/exit_codes.hpp"
#include "root_app.hpp"

namespace mq::tools {
namespace {

// Keys that choose the file itself; they make no sense inside it.
constexpr std::string_view self_keys[] = {"config", "no-config", "profile", "help", "version"};

std::string env_name(std::string_view key) {
    std::string out = "MQ_";
    for (char c : key) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

bool env_set(std::string_view key) {
    const char* e = std::getenv(env_name(key).c_str());
    return e != nullptr && *e != '\0';
}

const CLI::Option* find_option(const CLI::App& app, const std::string& key) {
    return app.get_option_no_throw("--" + key);
}

bool given(const CLI::App& app, const std::string& key) {
    const CLI::Option* opt = find_option(app, key);
    return (opt != nullptr && opt->count() > 0) || env_set(key);
}

// `root` holds only the running subcommand's options (the others are stubs),
// so other subcommands' keys are looked up in the whole model, built once and
// only when a key is not the running subcommand's.
bool known_elsewhere(const std::string& key) {
    static const std::unique_ptr<CLI::App> full = [] {
        auto app = std::make_unique<CLI::App>();
        build_root_app(*app);
        return app;
    }();
    for (const CLI::App* sub : full->get_subcommands([](const CLI::App*) { return true; })) {
        if (find_option(*sub, key) != nullptr) return true;
    }
    return false;
}

std::optional<bool> parse_bool(std::string_view v) {
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    return std::nullopt;
}

}  // namespace

config_arguments arguments_from_config(const CLI::App& root, const CLI::App& sub,
                                       const std::vector<config_entry>& entries, const std::string& path) {
    config_arguments out;
    // -h/-p and -L describe the same thing: whichever the command line (or the
    // environment) gives, the file's other form must not conflict with it.
    const bool cli_url = given(sub, "url");
    const bool cli_host_port = given(sub, "host") || given(sub, "port");
    for (const config_entry& e : entries) {
        const std::string where = fmt::format("{}:{}", path, e.line);
        if (std::find(std::begin(self_keys), std::end(self_keys), e.key) != std::end(self_keys))
            throw std::system_error(tool_error::config, fmt::format("{}: '{}' cannot be set in the config file", where, e.key));
        const CLI::App* owner = &sub;
        const CLI::Option* opt = find_option(sub, e.key);
        if (opt == nullptr) {
            owner = &root;
            opt = find_option(root, e.key);
        }
        if (opt == nullptr) {
            if (known_elsewhere(e.key)) continue;  // e.g. `json` at top level, running pub
            throw std::system_error(tool_error::config, fmt::format("{}: unknown key '{}'", where, e.key));
        }
        if (given(*owner, e.key)) continue;
        if ((e.key == "host" || e.key == "port") && cli_url) continue;
        if (e.key == "url" && cli_host_port) continue;
        const std::string name = "--" + e.key;
        if (opt->get_expected_max() == 0) {  // a flag
            const auto on = parse_bool(e.value);
            if (!on)
                throw std::system_error(tool_error::config,
                                        fmt::format("{}: {} expects true or false, not '{}'", where, e.key, e.value));
            if (*on) {
                out.args.push_back(name);
            } else if (const CLI::Option* neg = find_option(*owner, "no-" + e.key); neg != nullptr && !given(*owner, "no-" + e.key)) {
                out.args.push_back("--no-" + e.key);
            }
        } else {
            out.args.push_back(name + "=" + e.value);
        }
        // Every spelling of the option, so a later error message naming it as
        // "-q" is still traced back to this line.
        for (const auto& n : opt->get_lnames()) out.origins.emplace_back("--" + n, where);
        for (const auto& n : opt->get_snames()) out.origins.emplace_back("-" + n, where);
    }
    return out;
}

}  // namespace mq::tools
