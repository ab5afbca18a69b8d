// SPDX-License-Identifier: MIT
// Passwords from --password-env and --password-file (cli-contract.md §2.2)
// against `mq broker --password-file`, and every exit code of the §10 table
// through the real binary, one run per code. Codes whose cause needs a hostile
// peer are also covered elsewhere: 76 in hostile_broker_e2e_test.cpp, 130 in
// summary_e2e_test.cpp, 74 on a summary file there as well.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <csignal>
#include <fstream>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;

namespace {

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << text; }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

// `mq broker` requiring user "alice" with password "s3cret".
class auth_broker {
public:
    explicit auth_broker(const temp_dir& dir) {
        const std::string pw = dir.file("broker.passwd");
        REQUIRE(run_mq({"broker", "passwd", pw, "alice", "--password-stdin", "--iterations", "1000"}, "s3cret\n")
                    .exit_code == 0);
        proc_ = std::make_unique<process>(mq_cmd({"broker", "--listen", "mqtt://127.0.0.1:0", "--password-file", pw}));
        const auto line = proc_->read_line(10s);
        REQUIRE(line);
        port_ = std::to_string(nlohmann::json::parse(*line)["listeners"][0]["port"].get<int>());
    }
    ~auth_broker() {
        proc_->signal(SIGTERM);
        (void)proc_->wait(5s);
    }
    auth_broker(const auth_broker&) = delete;
    auth_broker& operator=(const auth_broker&) = delete;
    const std::string& port() const { return port_; }

private:
    std::unique_ptr<process> proc_;
    std::string port_;
};

process_result run_env(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env) {
    return run_process_io(mq_cmd(std::move(args)), {}, 15s, std::move(env));
}

}  // namespace

TEST_CASE("e2e --password-env reads the password from the named variable") {
    temp_dir dir;
    auth_broker broker(dir);
    const std::vector<std::string> pub{"pub", "-p", broker.port(), "-u", "alice", "--password-env", "E2E_PW",
                                       "-t", "e2e/pw", "-m", "x", "-q", "1"};
    CHECK(run_env(pub, {{"E2E_PW", "s3cret"}}).exit_code == 0);
    auto r = run_env(pub, {{"E2E_PW", "wrong"}});
    CHECK(r.exit_code == 77);  // CONNACK 0x86 Bad User Name or Password
    // An unset variable is a usage error naming it, before connecting.
    r = run_env(pub, {});
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("E2E_PW") != std::string::npos);
    // sub as well: -E once subscribed.
    CHECK(run_env({"sub", "-p", broker.port(), "-u", "alice", "--password-env", "E2E_PW", "-t", "e2e/pw", "-E"},
                  {{"E2E_PW", "s3cret"}})
              .exit_code == 0);
}

TEST_CASE("e2e --password-file reads the first line without CR/LF and warns when others can read it") {
    temp_dir dir;
    auth_broker broker(dir);
    const std::string file = dir.file("pw");
    write_file(file, "s3cret\r\nsecond line ignored\n");
    auto r = run_mq({"pub", "-p", broker.port(), "-u", "alice", "--password-file", file, "-t", "e2e/pw", "-m", "x",
                     "-q", "1"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("readable by group or others") == std::string::npos);
    write_file(file, "s3cret", 0644);  // no newline at all
    r = run_mq({"sub", "-p", broker.port(), "-u", "alice", "--password-file", file, "-t", "e2e/pw", "-E"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("readable by group or others") != std::string::npos);
    write_file(file, "wrong\n");
    CHECK(run_mq({"pub", "-p", broker.port(), "-u", "alice", "--password-file", file, "-t", "e2e/pw", "-m", "x"})
              .exit_code == 77);
    // A missing file is 66, naming it.
    r = run_mq({"pub", "-p", broker.port(), "-u", "alice", "--password-file", dir.file("nope"), "-t", "e2e/pw", "-m",
                "x"});
    CHECK(r.exit_code == 66);
    CHECK(r.err.find(dir.file("nope")) != std::string::npos);
    // MQ_PASSWORD_FILE is the same option from the environment (§3).
    write_file(file, "s3cret\n");
    CHECK(run_env({"pub", "-p", broker.port(), "-u", "alice", "-t", "e2e/pw", "-m", "x"}, {{"MQ_PASSWORD_FILE", file}})
              .exit_code == 0);
}

TEST_CASE("e2e exit 68: a host name that does not resolve") {
    for (const char* cmd : {"pub", "sub"}) {
        CAPTURE(cmd);
        std::vector<std::string> args{cmd, "-h", "no-such-host.invalid", "-t", "e2e/x", "--connect-timeout", "5s"};
        if (std::string(cmd) == "pub") args.insert(args.end(), {"-m", "x"});
        const auto r = run_mq(args, {}, 15s);
        INFO(r.err);
        CHECK(r.exit_code == 68);
        CHECK(r.err.find("no-such-host.invalid") != std::string::npos);
        CHECK(r.out.empty());
    }
    // The URL form too.
    CHECK(run_mq({"pub", "-L", "mqtt://no-such-host.invalid:1883/e2e/x", "-m", "x", "--connect-timeout", "5s"}, {}, 15s)
              .exit_code == 68);
}

TEST_CASE("e2e every exit code of the contract table, one run each") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    temp_dir dir;
    // 0: goal met.
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/ec/r", "-r", "-q", "1", "-m", "{\"v\":1}"}).exit_code == 0);
    CHECK(run_mq({"sub", "-p", p, "-t", "e2e/ec/r", "-C", "1"}, {}, 10s).exit_code == 0);
    // 1: --fail-on matched.
    CHECK(run_mq({"sub", "-p", p, "-t", "e2e/ec/r", "--fail-on", "payload.v == 1", "-W", "5s"}, {}, 10s).exit_code ==
          1);
    // 64: usage.
    CHECK(run_mq({"sub", "-p", p, "-t", "e2e/ec/r", "--no-such-option"}).exit_code == 64);
    // 65: invalid UTF-8 with --payload-format 1.
    const std::string bad = dir.file("bad.bin");
    { std::ofstream(bad, std::ios::binary) << "\xff\xfe"; }
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/ec/x", "-f", bad, "--payload-format", "1"}).exit_code == 65);
    // 66: an input file that cannot be opened.
    CHECK(run_mq({"sub", "-p", p, "--expect-topics", dir.file("missing.txt")}).exit_code == 66);
    // 68: host name did not resolve (its own case above).
    // 69: connection refused.
    CHECK(run_mq({"pub", "-p", "1", "-t", "e2e/ec/x", "-m", "x"}).exit_code == 69);
    // 74: an output file that cannot be written.
    CHECK(run_mq({"sub", "-p", p, "-t", "e2e/ec/r", "-C", "1", "--summary", "json", "--summary-file", "/dev/full"}, {},
                 10s)
              .exit_code == 74);
    // 76: protocol errors come from a hostile peer (hostile_broker_e2e_test.cpp,
    // version_fallback_e2e_test.cpp): a real broker does not send them.
    // 77: not authorised (the password tests above get CONNACK 0x86).
    // 78: configuration: an invalid environment value.
    CHECK(run_process_io(mq_cmd({"pub", "-p", p, "-t", "e2e/ec/x", "-m", "x"}), {}, 10s, {{"MQ_KEEPALIVE", "soon"}})
              .exit_code == 78);
    // 124: -W expired.
    CHECK(run_mq({"sub", "-p", p, "-t", "e2e/ec/none", "-W", "200ms"}, {}, 10s).exit_code == 124);
    // 130: SIGINT with a goal unmet (-C 1000; a sync message shows the handlers are in place).
    process sub(mq_cmd({"sub", "-p", p, "-t", "e2e/ec/s/#", "-C", "1000"}));
    REQUIRE(wait_subscribed(sub, broker, "e2e/ec/s/sync"));
    sub.signal(SIGINT);
    CHECK(sub.wait(10s).exit_code == 130);
    CHECK(run_mq({"pub", "-p", p, "-t", "e2e/ec/r", "-r", "-q", "1", "-n"}).exit_code == 0);
}
