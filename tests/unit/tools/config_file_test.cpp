// SPDX-License-Identifier: MIT
// The §3 configuration file: syntax, errors with file:line, section precedence.
#include <doctest/doctest.h>

#include <string>
#include <system_error>

#include "common/config_file.hpp"
#include "common/exit_codes.hpp"

using namespace mq::tools;

namespace {

// what() without the ": configuration error" std::system_error appends.
std::string message_of(const std::system_error& e) {
    std::string w = e.what();
    const std::string suffix = ": " + e.code().message();
    if (w.ends_with(suffix)) w.resize(w.size() - suffix.size());
    return w;
}

// The message of the config error `text` raises; fails the test on success.
std::string config_error(std::string_view text) {
    try {
        (void)parse_config(text, "/etc/mq.conf", "/home/u");
    } catch (const std::system_error& e) {
        CHECK(e.code() == make_error_code(tool_error::config));
        return message_of(e);
    }
    FAIL("no error for: " << text);
    return {};
}

}  // namespace

TEST_CASE("config keys, comments, quoting, escapes and ~ expansion") {
    const auto f = parse_config("# comment\n"
                                "; another\n"
                                "\n"
                                "url = mqtts://broker.example.net  \n"
                                "[sub]\n"
                                "json=true\n"
                                "  [ profile.lab ]  \n"
                                "username = \"te \\\"st\\\"\\\\er\\n\\t\"\n"
                                "password-file = ~/.config/mq/lab.pass\n"
                                "empty =\n",
                                "/etc/mq.conf", "/home/u");
    REQUIRE(f.entries.size() == 5);
    CHECK(f.entries[0].section == "");
    CHECK(f.entries[0].key == "url");
    CHECK(f.entries[0].value == "mqtts://broker.example.net");
    CHECK(f.entries[0].line == 4);
    CHECK(f.entries[1].section == "sub");
    CHECK(f.entries[1].value == "true");
    CHECK(f.entries[2].section == "profile.lab");
    CHECK(f.entries[2].value == "te \"st\"\\er\n\t");
    CHECK(f.entries[3].value == "/home/u/.config/mq/lab.pass");
    CHECK(f.entries[4].value.empty());
    CHECK(f.entries[4].line == 10);
}

TEST_CASE("config syntax errors name the file and line and exit 78") {
    CHECK(config_error("url = x\nno equals sign\n") == "/etc/mq.conf:2: expected 'key = value'");
    CHECK(config_error("[pub\n") == "/etc/mq.conf:1: section header without ']'");
    CHECK(config_error("\n[publish]\n").starts_with("/etc/mq.conf:2: unknown section [publish]"));
    CHECK(config_error("[profile.]\n").starts_with("/etc/mq.conf:1: unknown section [profile.]"));
    CHECK(config_error("--url = x\n") == "/etc/mq.conf:1: invalid key '--url'");
    CHECK(config_error("a b = x\n") == "/etc/mq.conf:1: invalid key 'a b'");
    CHECK(config_error("u = \"open\n") == "/etc/mq.conf:1: missing closing '\"'");
    CHECK(config_error("u = \"x\" y\n") == "/etc/mq.conf:1: text after the closing '\"'");
    CHECK(config_error("u = \"\\q\"\n") == "/etc/mq.conf:1: unknown escape '\\q' in quoted value");
}

TEST_CASE("config sections apply top level, then subcommand, then profile; later wins per key") {
    const auto f = parse_config("port = 1\n"
                                "user-property = a=1\n"
                                "user-property = b=2\n"
                                "[pub]\n"
                                "port = 2\n"
                                "qos = 1\n"
                                "[sub]\n"
                                "port = 3\n"
                                "[profile.lab]\n"
                                "qos = 2\n"
                                "user-property = c=3\n",
                                "cfg", "");
    auto keyed = [](const std::vector<config_entry>& v) {
        std::string s;
        for (const auto& e : v) s += e.key + "=" + e.value + ";";
        return s;
    };
    CHECK(keyed(select_entries(f, "pub", "")) == "user-property=a=1;user-property=b=2;port=2;qos=1;");
    CHECK(keyed(select_entries(f, "sub", "")) == "user-property=a=1;user-property=b=2;port=3;");
    // The profile's user-property replaces both top-level ones: a key is set by
    // one section, never merged across sections.
    CHECK(keyed(select_entries(f, "pub", "lab")) == "port=2;qos=2;user-property=c=3;");
    CHECK(keyed(select_entries(f, "bench", "")) == "port=1;user-property=a=1;user-property=b=2;");
}

TEST_CASE("an unknown profile is a config error naming the file") {
    const auto f = parse_config("[profile.lab]\nport = 1\n", "/x/config", "");
    try {
        (void)select_entries(f, "pub", "prod");
        FAIL("no error");
    } catch (const std::system_error& e) {
        CHECK(e.code() == make_error_code(tool_error::config));
        CHECK(message_of(e) == "/x/config: no [profile.prod] section for --profile prod");
    }
}
