// SPDX-License-Identifier: MIT
#include "root_app.hpp"

#include <algorithm>
#include <string_view>

#include <CLI/CLI.hpp>

#include "bench/bench_command.hpp"
#include "commands.hpp"
#include "completion.hpp"
#include "common/globals.hpp"

namespace mq::tools {

namespace {

struct subcommand_entry {
    const char* name;
    const char* description;  // for the stub; the same text as the full registration
    void (*add)(CLI::App&);
};

// In help order.
const subcommand_entry subcommands[] = {
    {"pub", "Publish messages", add_pub_command},
    {"sub", "Subscribe and print messages", add_sub_command},
    {"rr", "Send a request and print the response (MQTT 5 request/response)", add_rr_command},
    {"retain-clear", "Delete the retained messages under some filters", add_retain_clear_command},
    {"broker", "Run an MQTT broker", add_broker_command},
    {"bench", "Benchmark a broker: throughput, latency, loss (bench-method.md)", add_bench_command},
    {"completion", "Print a shell completion script", add_completion_command},
};

// Global options that take a value (the token after them is not a subcommand).
constexpr std::string_view valued_globals[] = {"--log-level", "--log-format", "--color", "--config", "--profile"};

}  // namespace

std::string subcommand_in(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--") return {};
        if (a.starts_with("-")) {
            if (std::find(std::begin(valued_globals), std::end(valued_globals), a) != std::end(valued_globals)) ++i;
            continue;
        }
        for (const auto& e : subcommands) {
            if (a == e.name) return e.name;
        }
        return {};
    }
    return {};
}

void build_root_app(CLI::App& app) { build_root_app(app, {}); }

void build_root_app(CLI::App& app, const std::string& only) {
    app.description("mq: MQTT command-line toolkit and broker");
    app.name("mq");
    // -h is the host (mosquitto parity), so help is --help only.
    app.set_help_flag("--help", "Print this help and exit");
    app.fallthrough();
    app.require_subcommand(0, 1);
    auto& g = globals();
    app.add_flag("--version", g.version, "Print the mq, Boost and OpenSSL versions");
    app.add_option("--log-level", g.log_level, "Log level: error|warn|info|debug|trace (default warn)")
        ->check(CLI::IsMember({"error", "warn", "info", "debug", "trace"}));
    app.add_flag("-d,--debug", g.debug, "Debug logging plus a trace line per packet");
    app.add_flag("--quiet", g.quiet, "Only the final error line on stderr");
    app.add_option("--log-format", g.log_format, "Log format: text|json")->check(CLI::IsMember({"text", "json"}));
    app.add_option("--color", g.color, "Colour on stderr: auto|always|never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    app.add_option("--config", g.config_path, "Configuration file (default $XDG_CONFIG_HOME/mq/config)");
    app.add_flag("--no-config", g.no_config, "Do not read any configuration file");
    app.add_option("--profile", g.profile, "Apply the config file's [profile.NAME] section");
    // Completion scripts describe every subcommand: they need the whole model.
    const bool all = only.empty() || only == "completion";
    for (const auto& e : subcommands) {
        if (all || only == e.name) {
            e.add(app);
        } else {
            auto* stub = app.add_subcommand(e.name, e.description);
            if (std::string_view(e.name) == "completion") stub->group("");  // hidden, as in add_completion_command
        }
    }
}

bool version_requested(const CLI::App& /*app*/) { return globals().version; }

}  // namespace mq::tools
