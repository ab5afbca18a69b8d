// SPDX-License-Identifier: MIT
// `mq` entry point: parses the command line, runs one subcommand and maps every
// error to the exit status of cli-contract.md §10. This is the only place that
// does that mapping.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <boost/version.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>

#include "common/config_apply.hpp"
#include "common/config_file.hpp"
#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/stdio.hpp"
#include "common/summary_recorder.hpp"
#include "root_app.hpp"

#ifndef MQ_VERSION
#define MQ_VERSION "0.0.0"
#endif

namespace {

void print_version() {
    const std::string text =
        fmt::format("mq {}\nBoost {}.{}.{}\n{}\n", MQ_VERSION, BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
                    BOOST_VERSION % 100, OpenSSL_version(OPENSSL_VERSION));
    (void)mq::tools::write_all(1, text);
}

std::string env_or(const std::string& value, const char* env) {
    if (!value.empty()) return value;
    const char* e = std::getenv(env);
    return e != nullptr ? e : "";
}

// Re-parses the command line with the config file's arguments inserted right
// after the subcommand name, on a fresh app (fresh option defaults). A parse
// error here can only come from a file value: it is a config error (78).
std::unique_ptr<CLI::App> reparse_with_config(const std::vector<std::string>& args, const std::string& subcommand,
                                              const mq::tools::config_arguments& cfg, const std::string& path) {
    using namespace mq::tools;
    std::vector<std::string> merged = args;
    auto at = std::find(merged.begin() + 1, merged.end(), subcommand);
    merged.insert(at == merged.end() ? at : at + 1, cfg.args.begin(), cfg.args.end());
    std::vector<char*> argv;
    for (auto& a : merged) argv.push_back(a.data());
    auto app = std::make_unique<CLI::App>();
    globals().run = nullptr;
    globals().config_origins = cfg.origins;
    build_root_app(*app, subcommand);
    try {
        app->parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
        std::string where = path;
        for (const auto& [name, origin] : cfg.origins) {
            if (std::string_view(e.what()).find(name) != std::string_view::npos) where = origin;
        }
        throw std::system_error(tool_error::config, fmt::format("{}: {}", where, e.what()));
    }
    return app;
}

// Applies cli-contract.md §3: the file's values for options the command line
// and the environment left unset. Returns the app that holds the final values
// (nullptr: the first parse stands).
std::unique_ptr<CLI::App> apply_config(CLI::App& app, const std::vector<std::string>& args) {
    using namespace mq::tools;
    auto& g = globals();
    CLI::App* sub = app.get_subcommands().front();
    const std::string profile = env_or(g.profile, "MQ_PROFILE");
    if (g.no_config || sub->get_name() == "completion") return nullptr;
    const auto path = locate_config(env_or(g.config_path, "MQ_CONFIG"));
    if (!path) {
        if (!profile.empty())
            throw std::system_error(tool_error::config, fmt::format("--profile {}: no config file found", profile));
        return nullptr;
    }
    const config_file file = load_config(*path);
    const auto cfg = arguments_from_config(app, *sub, select_entries(file, sub->get_name(), profile), *path);
    if (cfg.args.empty()) return nullptr;
    return reparse_with_config(args, sub->get_name(), cfg, *path);
}

// Parses and runs; returns the exit status. Failures are printed here and,
// when the run keeps a summary, noted in it.
int parse_and_run(CLI::App& app, int argc, char** argv) {
    using namespace mq::tools;
    try {
        build_root_app(app, subcommand_in(argc, argv));
        if (argc <= 1) {
            (void)write_all(2, app.help());
            return exit_status::usage;
        }
        app.parse(argc, argv);
        if (version_requested(app)) {
            print_version();
            return exit_status::ok;
        }
        if (app.get_subcommands().empty()) {
            (void)write_all(2, app.help());
            return exit_status::usage;
        }
        const auto configured = apply_config(app, std::vector<std::string>(argv, argv + argc));
        return globals().run ? globals().run() : exit_status::ok;
    } catch (const CLI::ParseError& e) {
        // Help and --help-all print the (sub)command's help on stdout.
        if (e.get_exit_code() == 0) return app.exit(e);
        print_error(fmt::format("{} (see --help)", e.what()));
        return exit_status::usage;
    } catch (const std::system_error& e) {
        const int code = exit_code_for(e.code());
        // what() is "message: category text"; the category text adds nothing.
        std::string what = e.what();
        const std::string suffix = ": " + e.code().message();
        if (what.size() > suffix.size() && what.ends_with(suffix)) what.resize(what.size() - suffix.size());
        if (code == exit_status::ok) {  // e.g. EPIPE on stdout: the reader left
            summary_note_error(e.code(), what, code);
            return code;
        }
        if (code == exit_status::usage) {
            // A value the subcommand rejected came from the config file: say where (78).
            for (const auto& [name, where] : globals().config_origins) {
                if (what.starts_with(name + " ") || what.starts_with(name + ":")) {
                    what = fmt::format("{}: {}", where, what);
                    print_error("error: " + what);
                    summary_note_error(make_error_code(tool_error::config), what, exit_status::config);
                    return exit_status::config;
                }
            }
        }
        if (code == exit_status::check_failed && e.code().category() != tool_category()) {
            print_error(fmt::format("internal error: {}", what));
        } else {
            print_error(fmt::format("error: {}", what));
        }
        summary_note_error(e.code(), what, code);
        return code;
    } catch (const std::exception& e) {
        print_error(fmt::format("internal error: {}", e.what()));
        summary_note_error({}, e.what(), exit_status::check_failed);
        return exit_status::check_failed;
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace mq::tools;
    reserve_standard_fds();
    ignore_sigpipe();
    CLI::App app;
    // The summary (--summary) is written last, with the real exit status.
    return finish_summary(parse_and_run(app, argc, argv));
}
