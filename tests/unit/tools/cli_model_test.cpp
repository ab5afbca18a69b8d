// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <system_error>

#include <CLI/CLI.hpp>

#include "common/connection_options.hpp"
#include "common/exit_codes.hpp"
#include "root_app.hpp"

using namespace mq::tools;
using mqtt::property_id;

namespace {

// cli-contract.md §12: one meaning per letter across subcommands.
const std::map<std::string, std::string> short_flag_registry = {
    {"0", "print0"}, {"A", "bind-address"}, {"C", "count"}, {"D", "property"}, {"E", "exit-after-suback"},
    {"F", "format"}, {"I", "client-id-prefix"}, {"L", "url"}, {"M", "max-inflight"}, {"N", "no-delimiter"},
    {"P", "password"}, {"R", "no-retained"}, {"T", "exclude"}, {"U", "unsubscribe"}, {"V", "protocol-version"},
    {"W", "timeout"}, {"c", "no-clean-start"}, {"d", "debug"}, {"e", "response-topic"}, {"f", "file"},
    {"h", "host"}, {"i", "client-id"}, {"k", "keepalive"}, {"l", "stdin-line"}, {"m", "message"},
    {"n", "null-message"}, {"o", "output"}, {"p", "port"}, {"q", "qos"}, {"r", "retain"}, {"s", "stdin-file"}, {"t", "topic"},
    {"u", "username"}, {"v", "verbose"}, {"x", "session-expiry"},
};

void check_app(CLI::App& app, const std::string& path) {
    for (const CLI::Option* opt : app.get_options()) {
        for (const auto& s : opt->get_snames()) {
            CAPTURE(path);
            CAPTURE(s);
            const auto it = short_flag_registry.find(s);
            REQUIRE_MESSAGE(it != short_flag_registry.end(), "short flag -" << s << " is not in the registry");
            REQUIRE_FALSE(opt->get_lnames().empty());
            CHECK(opt->get_lnames().front() == it->second);
        }
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        check_app(*sub, path + " " + sub->get_name());
    }
}

struct harness {
    CLI::App app;
    connection_options conn;
    explicit harness(bool publish_flags = true) {
        app.set_help_flag("--help");
        conn.add_to(app, publish_flags);
    }
    resolved_connection resolve(std::vector<std::string> args) {
        std::vector<const char*> argv{"test"};
        for (auto& a : args) argv.push_back(a.c_str());
        app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
        return conn.resolve();
    }
};

int exit_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::system_error& e) {
        return exit_code_for(e.code());
    } catch (const CLI::ParseError&) {
        return 64;
    }
    return 0;
}

}  // namespace

TEST_CASE("short flag registry holds for every subcommand") {
    CLI::App app;
    build_root_app(app);
    check_app(app, "mq");
    // -h is the host, so help must be --help only.
    CHECK(app.get_help_ptr()->get_snames().empty());
}

TEST_CASE("connection options defaults") {
    harness h;
    auto r = h.resolve({});
    CHECK(r.client.host == "localhost");
    CHECK(r.client.port == 1883);
    CHECK(r.client.connect.version == mqtt::protocol_version::v5);
    CHECK(r.client.connect.keep_alive == 60);
    CHECK(r.client.connect.client_id.size() == 18);
    CHECK(r.client.connect.client_id.starts_with("mq"));
    CHECK(r.client.max_inflight == 20);
    CHECK(r.client.connect_timeout == std::chrono::seconds(10));
    CHECK_FALSE(r.version_explicit);
}

TEST_CASE("connection options from the command line") {
    harness h;
    auto r = h.resolve({"-h", "broker", "-p", "2000", "-V", "311", "-i", "me", "-k", "5", "-c", "-u", "bob",
                        "-P", "pw", "--will-topic", "w/t", "--will-payload", "bye", "--will-qos", "1",
                        "--connect-timeout", "1.5s", "-M", "5", "-W", "2s"});
    CHECK(r.client.host == "broker");
    CHECK(r.client.port == 2000);
    CHECK(r.client.connect.version == mqtt::protocol_version::v311);
    CHECK(r.version_explicit);
    CHECK(r.client.connect.client_id == "me");
    CHECK(r.client.connect.keep_alive == 5);
    CHECK_FALSE(r.client.connect.clean_start);
    CHECK(*r.client.connect.username == "bob");
    CHECK(*r.client.connect.password == std::vector<std::uint8_t>{'p', 'w'});
    REQUIRE(r.client.connect.will_msg);
    CHECK(r.client.connect.will_msg->topic == "w/t");
    CHECK(r.client.connect.will_msg->level == mqtt::qos::at_least_once);
    CHECK(r.client.connect_timeout == std::chrono::milliseconds(1500));
    CHECK(r.client.max_inflight == 5);
    CHECK(r.timeout == std::chrono::seconds(2));
}

TEST_CASE("connection options from a URL") {
    harness h;
    auto r = h.resolve({"-L", "mqtts://u:p%40ss@example.net/some%2Ftopic?client_id=c1&keepalive=9"});
    CHECK(r.client.host == "example.net");
    CHECK(r.client.port == 8883);
    CHECK(r.client.transport == mqtt::net::transport_kind::tls);
    CHECK(*r.client.connect.username == "u");
    CHECK(*r.client.connect.password == std::vector<std::uint8_t>{'p', '@', 's', 's'});
    CHECK(r.url_topic == "some/topic");
    CHECK(r.client.connect.client_id == "c1");
    CHECK(r.client.connect.keep_alive == 9);
}

TEST_CASE("H01 to H04 URL and port errors exit 64") {
    CHECK(exit_of([] { harness().resolve({"-L", "mqtt://user:p@ss@host"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-L", "mqtt://::1:1883"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-p", "0"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-p", "65536"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-p", "abc"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-L", "http://host"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-L", "mqtt://h", "-h", "other"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-L", "mqtt://u@h", "-u", "x"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-c"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-V", "3"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-V", "311", "-D", "publish", "content-type", "x"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"-D", "publish", "session-expiry-interval", "5"}); }) == 64);
    CHECK(exit_of([] { harness().resolve({"--password-file", "/nonexistent/pw"}); }) == 66);
}

TEST_CASE("environment values apply below the command line") {
    ::setenv("MQ_HOST", "env-host", 1);
    ::setenv("MQ_PORT", "1999", 1);
    {
        harness h;
        auto r = h.resolve({"-p", "2001"});
        CHECK(r.client.host == "env-host");
        CHECK(r.client.port == 2001);
    }
    ::setenv("MQ_PORT", "nope", 1);
    CHECK(exit_of([] { harness().resolve({}); }) == 78);
    ::unsetenv("MQ_HOST");
    ::unsetenv("MQ_PORT");
}

TEST_CASE("property options build MQTT 5 properties in order") {
    harness h;
    auto r = h.resolve({"-D", "publish", "user-property", "a", "1", "--content-type", "text/plain",
                        "--user-property", "k=v=w", "--correlation-data", "hex:0102", "--message-expiry", "60",
                        "-D", "connect", "session-expiry-interval", "30", "--receive-maximum", "10"});
    CHECK(*r.publish_props.get_string(property_id::content_type) == "text/plain");
    CHECK(r.publish_props.user_properties() == std::vector<mqtt::string_pair>{{"a", "1"}, {"k", "v=w"}});
    CHECK(*r.publish_props.get_binary(property_id::correlation_data) == mqtt::binary{1, 2});
    CHECK(*r.publish_props.get_int(property_id::message_expiry_interval) == 60);
    CHECK(*r.client.connect.props.get_int(property_id::session_expiry_interval) == 30);
    CHECK(*r.client.connect.props.get_int(property_id::receive_maximum) == 10);
}

TEST_CASE("H06 QoS values") {
    CHECK(parse_qos("2") == mqtt::qos::exactly_once);
    for (const char* s : {"3", "-1", "1.5", "0x1", "", "01"}) {
        CAPTURE(s);
        CHECK(exit_of([s] { (void)parse_qos(s); }) == 64);
    }
}

TEST_CASE("a command line builds only its subcommand's options; the stubs match the full model") {
    CLI::App full;
    mq::tools::build_root_app(full);
    for (const CLI::App* sub : full.get_subcommands([](const CLI::App*) { return true; })) {
        CAPTURE(sub->get_name());
        CLI::App lean;
        mq::tools::build_root_app(lean, sub->get_name());
        for (const CLI::App* other : lean.get_subcommands([](const CLI::App*) { return true; })) {
            const CLI::App* real = full.get_subcommand(other->get_name());
            CHECK(other->get_description() == real->get_description());
            CHECK(other->get_group() == real->get_group());
            // Completion needs the whole model; any other choice stubs the rest.
            if (other->get_name() == sub->get_name() || sub->get_name() == "completion")
                CHECK(other->get_options().size() == real->get_options().size());
            else
                CHECK(other->get_options().size() <= 1);  // --help only
        }
    }
    const char* argv1[] = {"mq", "--log-level", "debug", "--config", "sub", "pub", "-t", "x"};
    CHECK(mq::tools::subcommand_in(8, argv1) == "pub");
    const char* argv2[] = {"mq", "--help"};
    CHECK(mq::tools::subcommand_in(2, argv2).empty());
    const char* argv3[] = {"mq", "-d", "bench", "report"};
    CHECK(mq::tools::subcommand_in(4, argv3) == "bench");
    const char* argv4[] = {"mq", "nosuch", "pub"};
    CHECK(mq::tools::subcommand_in(3, argv4).empty());
}
