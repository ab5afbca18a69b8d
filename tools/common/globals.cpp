// SPDX-License-Identifier: MIT
#include "common/globals.hpp"

#include <cstdlib>
#include <system_error>

#include <unistd.h>

#include "common/exit_codes.hpp"
#include "common/stdio.hpp"

namespace mq::tools {

global_options& globals() noexcept {
    static global_options g;
    return g;
}

std::optional<std::string> config_origin(std::string_view long_name) {
    for (const auto& [name, where] : globals().config_origins) {
        if (name == long_name) return where;
    }
    return std::nullopt;
}

mqtt::net::logger make_tool_logger() {
    auto& g = globals();
    mqtt::net::logger log;
    mqtt::net::log_level level = mqtt::net::log_level::warn;
    if (!g.log_level.empty()) {
        if (!mqtt::net::parse_log_level(g.log_level, level)) {
            throw std::system_error(tool_error::usage, "invalid --log-level '" + g.log_level + "'");
        }
    } else if (const char* env = std::getenv("MQ_LOG_LEVEL"); env != nullptr && *env != '\0') {
        if (!mqtt::net::parse_log_level(env, level)) {
            throw std::system_error(tool_error::config, std::string("invalid MQ_LOG_LEVEL '") + env + "'");
        }
    }
    if (g.debug && level < mqtt::net::log_level::debug) level = mqtt::net::log_level::debug;
    if (g.quiet) level = mqtt::net::log_level::error;
    log.level = level;
    if (g.log_format == "json") {
        log.sink = mqtt::net::make_stderr_json_sink();
    } else {
        const char* no_color = std::getenv("NO_COLOR");
        const char* term = std::getenv("TERM");
        bool colour = false;
        if (g.color == "always") colour = true;
        else if (g.color == "auto")
            colour = isatty(2) != 0 && (no_color == nullptr || *no_color == '\0') &&
                     !(term != nullptr && std::string_view(term) == "dumb");
        log.sink = mqtt::net::make_stderr_text_sink(colour);
    }
    return log;
}

void print_error(std::string_view message) {
    std::string line = "mq: ";
    line.append(message);
    line.push_back('\n');
    (void)write_all(2, line);
}

void print_warning(std::string_view message) {
    if (globals().quiet) return;
    std::string line = "mq: warning: ";
    line.append(message);
    line.push_back('\n');
    (void)write_all(2, line);
}

}  // namespace mq::tools
