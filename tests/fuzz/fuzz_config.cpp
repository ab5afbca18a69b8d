// SPDX-License-Identifier: MIT
// libFuzzer target for the configuration file (cli-contract.md §3, hardening
// H08): parse_config on arbitrary text, then select_entries for every
// subcommand with no profile, each profile the file defines and one it does
// not. Errors must be tool_error::config naming "path:line:"; selections must
// only hold entries of the chosen sections, with each key from one section.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/config_file.hpp"
#include "common/exit_codes.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::string_view path = "fuzz.conf";

void check_error(const std::system_error& e) {
    if (e.code() != make_error_code(mq::tools::tool_error::config)) mq_fuzz::fail("config error of another kind");
    if (!std::string_view(e.what()).starts_with(path)) mq_fuzz::fail("config error does not name the file");
}

void check_selection(const mq::tools::config_file& file, std::string_view subcommand, std::string_view profile) {
    std::vector<mq::tools::config_entry> picked;
    try {
        picked = mq::tools::select_entries(file, subcommand, profile);
    } catch (const std::system_error& e) {
        check_error(e);
        if (profile.empty()) mq_fuzz::fail("select_entries without a profile threw");
        return;
    }
    const std::string profile_section = "profile." + std::string(profile);
    for (const auto& e : picked) {
        const bool allowed = e.section.empty() || e.section == subcommand ||
                             (!profile.empty() && e.section == profile_section);
        if (!allowed) mq_fuzz::fail("selected an entry of another section");
        for (const auto& o : picked) {
            if (o.key == e.key && o.section != e.section) mq_fuzz::fail("one key selected from two sections");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    mq::tools::config_file file;
    try {
        file = mq::tools::parse_config(text, std::string(path), "/home/fuzz");
    } catch (const std::system_error& e) {
        check_error(e);
        return 0;
    }
    std::set<std::string> profiles;
    for (const auto& e : file.entries) {
        if (e.line < 1) mq_fuzz::fail("entry without a line number");
        if (e.key.empty()) mq_fuzz::fail("entry without a key");
        if (e.value.starts_with("~/")) mq_fuzz::fail("~/ not expanded");
        if (e.section.starts_with("profile.")) profiles.insert(e.section.substr(8));
    }
    for (std::string_view sub : {"pub", "sub", "rr", "retain-clear", "bench", "broker"}) {
        check_selection(file, sub, "");
        check_selection(file, sub, "no-such-profile-in-fuzz-input");
        for (const auto& p : profiles) check_selection(file, sub, p);
    }
    return 0;
}
