// SPDX-License-Identifier: MIT
// `mq` entry point: parses the command line, runs one subcommand and maps every
// error to the exit status of cli-contract.md §10. This is the only place that
// does that mapping.
#include <cstdio>
#include <exception>
#include <string>
#include <system_error>

#include <boost/version.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>

#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/stdio.hpp"
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

}  // namespace

int main(int argc, char** argv) {
    using namespace mq::tools;
    ignore_sigpipe();
    CLI::App app;
    try {
        build_root_app(app);
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
        return globals().exit_code.value_or(exit_status::ok);
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
        if (code == exit_status::ok) return code;  // e.g. EPIPE on stdout: the reader left
        if (code == exit_status::check_failed && e.code().category() != tool_category()) {
            print_error(fmt::format("internal error: {}", what));
        } else {
            print_error(fmt::format("error: {}", what));
        }
        return code;
    } catch (const std::exception& e) {
        print_error(fmt::format("internal error: {}", e.what()));
        return exit_status::check_failed;
    }
}
