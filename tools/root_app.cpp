// SPDX-License-Identifier: MIT
#include "root_app.hpp"

#include <CLI/CLI.hpp>

#include "bench/bench_command.hpp"
#include "commands.hpp"
#include "completion.hpp"
#include "common/globals.hpp"

namespace mq::tools {

void build_root_app(CLI::App& app) {
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
    add_pub_command(app);
    add_sub_command(app);
    add_rr_command(app);
    add_retain_clear_command(app);
    add_broker_command(app);
    add_bench_command(app);
    add_completion_command(app);
}

bool version_requested(const CLI::App& /*app*/) { return globals().version; }

}  // namespace mq::tools
