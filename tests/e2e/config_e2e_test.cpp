// SPDX-License-Identifier: MIT
// cli-contract.md §3 end to end: the config file found through
// XDG_CONFIG_HOME, sections and profiles, precedence CLI > env > file, and
// config errors (exit 78 naming file:line).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "e2e_broker.hpp"

using namespace mq::test;
namespace fs = std::filesystem;

namespace {

// A private XDG_CONFIG_HOME holding mq/config; removed at the end.
class config_dir {
public:
    explicit config_dir(const std::string& text) {
        std::random_device rd;
        root_ = fs::temp_directory_path() / ("mq-config-e2e-" + std::to_string(rd()));
        fs::create_directories(root_ / "mq");
        std::ofstream(root_ / "mq" / "config") << text;
        fs::permissions(root_ / "mq" / "config", fs::perms::owner_read | fs::perms::owner_write);
    }
    ~config_dir() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    config_dir(const config_dir&) = delete;
    config_dir& operator=(const config_dir&) = delete;

    std::string path() const { return (root_ / "mq" / "config").string(); }
    std::vector<std::pair<std::string, std::string>> env(
        std::vector<std::pair<std::string, std::string>> extra = {}) const {
        extra.emplace_back("XDG_CONFIG_HOME", root_.string());
        return extra;
    }

private:
    fs::path root_;
};

process_result run_with(const config_dir& dir, std::vector<std::string> args,
                        std::vector<std::pair<std::string, std::string>> extra_env = {}) {
    return run_process_io(mq_cmd(std::move(args)), {}, std::chrono::seconds(20), dir.env(std::move(extra_env)));
}

// A port where nothing listens: connecting there fails with 69.
constexpr const char* dead_port = "1";

}  // namespace

TEST_CASE("e2e config: the file supplies the port; CLI beats env beats file") {
    e2e_broker broker;
    const config_dir dir("# test\nport = " + broker.port_text() + "\n[profile.dead]\nport = " + dead_port + "\n");
    CHECK(run_with(dir, {"pub", "-t", "cfg/a", "-m", "x"}).exit_code == 0);
    // The profile's port is dead: the file value is really used...
    CHECK(run_with(dir, {"pub", "--profile", "dead", "-t", "cfg/a", "-m", "x"}).exit_code == 69);
    CHECK(run_with(dir, {"pub", "-t", "cfg/a", "-m", "x"}, {{"MQ_PROFILE", "dead"}}).exit_code == 69);
    // ...and MQ_PORT beats it, and -p beats MQ_PORT.
    CHECK(run_with(dir, {"pub", "--profile", "dead", "-t", "cfg/a", "-m", "x"}, {{"MQ_PORT", broker.port_text()}})
              .exit_code == 0);
    CHECK(run_with(dir, {"pub", "-p", dead_port, "-t", "cfg/a", "-m", "x"}, {{"MQ_PORT", broker.port_text()}})
              .exit_code == 69);
    CHECK(run_with(dir, {"pub", "--profile", "dead", "-p", broker.port_text(), "-t", "cfg/a", "-m", "x"}).exit_code ==
          0);
}

TEST_CASE("e2e config: a [sub] section turns on --json only for sub") {
    e2e_broker broker;
    const config_dir dir("port = " + broker.port_text() + "\n[sub]\njson = true\n");
    REQUIRE(run_with(dir, {"pub", "-t", "cfg/json", "-m", "hello", "-r"}).exit_code == 0);
    const auto r = run_with(dir, {"sub", "-t", "cfg/json", "-C", "1", "-W", "10"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("{\"type\":\"message\""));
    CHECK(r.out.find("\"payload\":\"hello\"") != std::string::npos);
    // The same key at top level is skipped for pub, which has no --json.
    const config_dir top("port = " + broker.port_text() + "\njson = true\n");
    CHECK(run_with(top, {"pub", "-t", "cfg/json", "-m", "", "-r"}).exit_code == 0);
}

TEST_CASE("e2e config errors exit 78 and name the file and line") {
    {
        const config_dir dir("port = 1883\nno-such-option = 3\n");
        const auto r = run_with(dir, {"pub", "-t", "x", "-m", "y"});
        CHECK(r.exit_code == 78);
        CHECK(r.err.find(dir.path() + ":2: unknown key 'no-such-option'") != std::string::npos);
    }
    {
        const config_dir dir("[sub]\n\njson = maybe\n");
        const auto r = run_with(dir, {"sub", "-t", "x"});
        CHECK(r.exit_code == 78);
        CHECK(r.err.find(dir.path() + ":3: json expects true or false, not 'maybe'") != std::string::npos);
    }
    {
        const config_dir dir("port = 1883\nkeepalive = soon\n");
        const auto r = run_with(dir, {"pub", "-t", "x", "-m", "y"});
        CHECK(r.exit_code == 78);
        CHECK(r.err.find(dir.path() + ":2: --keepalive") != std::string::npos);
    }
    {
        const config_dir dir("[sub]\nqos = 7\n");
        const auto r = run_with(dir, {"sub", "-t", "x"});
        CHECK(r.exit_code == 78);
        CHECK(r.err.find(dir.path() + ":2:") != std::string::npos);
    }
    {
        const config_dir dir("port = 1883\n");
        const auto r = run_with(dir, {"pub", "--profile", "nope", "-t", "x", "-m", "y"});
        CHECK(r.exit_code == 78);
        CHECK(r.err.find("no [profile.nope] section") != std::string::npos);
    }
    {
        const config_dir dir("this is not a config file\n");
        CHECK(run_with(dir, {"pub", "-t", "x", "-m", "y"}).exit_code == 78);
        // --no-config skips even a broken file (then fails to connect: not 78).
        CHECK(run_with(dir, {"pub", "--no-config", "-p", dead_port, "-t", "x", "-m", "y"}).exit_code == 69);
    }
    {
        const config_dir dir("port = 1\n");
        const auto r = run_with(dir, {"pub", "--config", "/nonexistent/mq.conf", "-t", "x", "-m", "y"});
        CHECK(r.exit_code == 78);
        CHECK(r.err.find("/nonexistent/mq.conf") != std::string::npos);
    }
}
