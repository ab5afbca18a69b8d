// SPDX-License-Identifier: MIT
// `mq broker` with a password and an ACL file as a real process: the passwd
// helper, SIGHUP reload, and refusing to start on a malformed file.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
    REQUIRE(f.good());
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Starts `mq broker ARGS -p 0`; returns its port from the readiness line.
std::uint16_t start_broker(std::unique_ptr<process>& p, std::vector<std::string> args) {
    args.insert(args.begin(), "broker");
    args.insert(args.end(), {"--listen", "mqtt://127.0.0.1:0"});
    p = std::make_unique<process>(mq_cmd(args));
    const auto line = p->read_line(10s);
    REQUIRE(line);
    const auto j = nlohmann::json::parse(*line);
    return j["listeners"][0]["port"].get<std::uint16_t>();
}

int pub(std::uint16_t port, const std::string& user, const std::string& pw, const std::string& topic) {
    return run_mq(
               {"pub", "-p", std::to_string(port), "-u", user, "-P", pw, "-t", topic, "-m", "x", "-q", "1"})
        .exit_code;
}

}  // namespace

TEST_CASE("e2e mq broker passwd creates, updates and deletes users in a 0600 file the broker accepts") {
    temp_dir dir;
    const std::string file = dir.file("passwd");
    auto r =
        run_mq({"broker", "passwd", file, "alice", "--password-stdin", "--iterations", "1000"}, "s3cret\n");
    REQUIRE(r.exit_code == 0);
    r = run_mq({"broker", "passwd", file, "bob", "--password-stdin", "--iterations", "1000"}, "b0b\r\n");
    REQUIRE(r.exit_code == 0);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const std::string text = read_file(file);
    CHECK(text.rfind("alice:$pbkdf2-sha512$1000$", 0) == 0);
    CHECK(text.find("\nbob:$pbkdf2-sha512$1000$") != std::string::npos);

    std::unique_ptr<process> broker;
    const auto port = start_broker(broker, {"--password-file", file});
    CHECK(pub(port, "alice", "s3cret", "t") == 0);
    CHECK(pub(port, "bob", "b0b", "t") == 0);
    CHECK(pub(port, "alice", "wrong", "t") == 77);  // CONNACK 0x86
    broker->signal(SIGTERM);
    CHECK(broker->wait(10s).exit_code == 0);

    // Update keeps bob, delete removes alice, deleting again is an error.
    REQUIRE(run_mq({"broker", "passwd", file, "bob", "--password-stdin", "--iterations", "2000"}, "new\n")
                .exit_code == 0);
    REQUIRE(run_mq({"broker", "passwd", file, "alice", "--delete"}).exit_code == 0);
    const std::string after = read_file(file);
    CHECK(after.find("alice:") == std::string::npos);
    CHECK(after.find("bob:$pbkdf2-sha512$2000$") != std::string::npos);
    r = run_mq({"broker", "passwd", file, "alice", "--delete"});
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("no user 'alice'") != std::string::npos);
    CHECK(run_mq({"broker", "passwd", file, "a:b", "--password-stdin"}, "x\n").exit_code == 64);
}

TEST_CASE("e2e J03 a malformed password or ACL file stops mq broker with exit 78 naming file and line") {
    temp_dir dir;
    const std::string pw = dir.file("passwd"), acl = dir.file("acl");
    write_file(pw, "# users\nalice:$pbkdf2-sha512$1000$AAAA$BBBB\n");
    auto r = run_mq({"broker", "--listen", "mqtt://127.0.0.1:0", "--password-file", pw});
    CHECK(r.exit_code == 78);
    CHECK(r.err.find(pw + ":2: salt must be 16 bytes") != std::string::npos);
    CHECK(r.out.empty());  // no readiness line
    write_file(acl, "allow * reed a\n");
    r = run_mq({"broker", "--listen", "mqtt://127.0.0.1:0", "--acl-file", acl});
    CHECK(r.exit_code == 78);
    CHECK(r.err.find(acl + ":1: expected 'read', 'write' or 'readwrite'") != std::string::npos);
}

TEST_CASE("e2e J08 SIGHUP reloads the ACL; a broken file on reload keeps the old rules and is logged") {
    temp_dir dir;
    const std::string pw = dir.file("passwd"), acl = dir.file("acl");
    REQUIRE(
        run_mq({"broker", "passwd", pw, "u", "--password-stdin", "--iterations", "1000"}, "p\n").exit_code ==
        0);
    write_file(acl, "allow * readwrite a/#\n");
    std::unique_ptr<process> broker;
    const auto port = start_broker(broker, {"--password-file", pw, "--acl-file", acl});
    CHECK(pub(port, "u", "p", "a/1") == 0);
    CHECK(pub(port, "u", "p", "b/1") == 77);  // PUBACK 0x87

    write_file(acl, "allow * readwrite b/#\n");
    broker->signal(SIGHUP);
    int rc = -1;
    for (int i = 0; i < 50 && rc != 0; ++i) {  // the reload is asynchronous to us
        std::this_thread::sleep_for(100ms);
        rc = pub(port, "u", "p", "b/1");
    }
    CHECK(rc == 0);
    CHECK(pub(port, "u", "p", "a/1") == 77);

    write_file(acl, "allow * readwrite #\nnonsense\n");
    broker->signal(SIGHUP);
    std::this_thread::sleep_for(300ms);
    CHECK(pub(port, "u", "p", "a/1") == 77);  // old rules still in force
    CHECK(pub(port, "u", "p", "b/1") == 0);
    broker->signal(SIGTERM);
    const auto res = broker->wait(10s);
    CHECK(res.exit_code == 0);
    CHECK(res.err.find("reload failed, keeping the files in force: " + acl + ":2:") != std::string::npos);
}
