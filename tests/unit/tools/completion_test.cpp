// SPDX-License-Identifier: MIT
// The committed completions and man pages must describe the CLI as built
// (cli-contract.md §11): regenerate with `mq completion SHELL > completions/...`.
#include <doctest/doctest.h>

#include "common/cli_walk.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "completion.hpp"
#include "root_app.hpp"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every long option name of every visible subcommand, as "--name".
std::set<std::pair<std::string, std::string>> long_options(CLI::App& root) {
    std::set<std::pair<std::string, std::string>> out;
    for (CLI::App* sub : root.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_group().empty()) continue;
        for (const CLI::Option* o : mq::tools::options_of(*sub))
            for (const auto& l : o->get_lnames()) out.insert({sub->get_name(), "--" + l});
    }
    return out;
}

}  // namespace

TEST_CASE("committed shell completions are current") {
    CLI::App app;
    mq::tools::build_root_app(app);
    const std::string dir = std::string(MQ_SOURCE_DIR) + "/completions/";
    // std::string, not const char*: doctest prints a captured char pointer as an address.
    for (const auto& [shell, file] : {std::pair<std::string, std::string>{"bash", "mq.bash"},
                                      {"zsh", "_mq"},
                                      {"fish", "mq.fish"}}) {
        CAPTURE(file);
        const std::string committed = read_file(dir + file);
        REQUIRE_FALSE(committed.empty());
        CHECK_MESSAGE(mq::tools::generate_completion(app, shell) == committed,
                      "stale: run `mq completion ", shell, " > completions/", file, "`");
    }
}

TEST_CASE("every long option appears in the completions and in its man page") {
    CLI::App app;
    mq::tools::build_root_app(app);
    const std::string bash = read_file(std::string(MQ_SOURCE_DIR) + "/completions/mq.bash");
    for (const auto& [command, option] : long_options(app)) {
        if (option == "--help") continue;
        CAPTURE(command);
        CAPTURE(option);
        CHECK(bash.find(option) != std::string::npos);
        // scdoc sources write options as *--name*; escaped dashes are not used.
        const std::string page = read_file(std::string(MQ_SOURCE_DIR) + "/man/mq-" + command + ".1.scd");
        CHECK_MESSAGE(page.find("*" + option) != std::string::npos, "man/mq-", command, ".1.scd lacks ", option);
    }
}

TEST_CASE("completion scripts name every subcommand") {
    CLI::App app;
    mq::tools::build_root_app(app);
    for (const char* shell : {"bash", "zsh", "fish"}) {
        const std::string script = mq::tools::generate_completion(app, shell);
        for (const char* cmd : {"pub", "sub", "broker", "bench"}) {
            CAPTURE(shell);
            CHECK(script.find(cmd) != std::string::npos);
        }
        CHECK(script.find("completion ") != std::string::npos);  // the header names the generator
    }
    CHECK(mq::tools::generate_completion(app, "tcsh").empty());
}
