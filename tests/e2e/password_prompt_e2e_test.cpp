// SPDX-License-Identifier: MIT
// --password-prompt (cli-contract.md §2.2): the password is read from /dev/tty
// with echo off; without a controlling terminal the run exits 64. The terminal
// case runs mq in a new session whose controlling terminal is a pseudo-terminal
// we hold the other end of, against mosquitto with a password file.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct tty_run {
    int exit_code = -1;
    std::string screen;  // everything mq wrote to the terminal
};

// Runs mq with `args` on a fresh pseudo-terminal as its controlling terminal
// (and stdin/stdout/stderr); types `typed` once `prompt` appeared. Bounded:
// SIGKILL by PID after 15 s.
tty_run run_on_tty(const std::vector<std::string>& args, const std::string& prompt, const std::string& typed) {
    tty_run out;
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const std::string slave_name = ::ptsname(master);
    auto argv_s = mq_cmd(args);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // New session: the first terminal opened becomes the controlling one.
        ::setsid();
        const int slave = ::open(slave_name.c_str(), O_RDWR);
        if (slave < 0) ::_exit(127);
        for (int fd = 0; fd < 3; ++fd) ::dup2(slave, fd);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    const auto deadline = steady::now() + 15s;
    bool sent = false;
    int status = 0;
    bool reaped = false;
    char buf[512];
    while (steady::now() < deadline) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n > 0) out.screen.append(buf, static_cast<std::size_t>(n));
        }
        if (!sent && has(out.screen, prompt)) {
            REQUIRE(::write(master, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
            sent = true;
        }
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            reaped = true;
            break;
        }
    }
    if (!reaped) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    // What is left on the terminal after the exit.
    for (;;) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) break;
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;
        out.screen.append(buf, static_cast<std::size_t>(n));
    }
    ::close(master);
    if (reaped && WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
    return out;
}

}  // namespace

TEST_CASE("e2e --password-prompt without a controlling terminal exits 64 before connecting") {
    // setsid: a new session has no controlling terminal, so /dev/tty cannot open.
    process p({"/usr/bin/setsid", "-w", MQ_BINARY, "sub", "-h", "127.0.0.1", "-p", "1", "-t", "a", "-u", "alice",
               "--password-prompt"});
    p.close_stdin();
    const auto r = p.wait(10s);
    CHECK(r.exit_code == 64);
    CHECK(has(r.err, "--password-prompt needs a terminal"));
    CHECK(!has(r.err, "connect"));
    // Another password source given on the command line conflicts.
    const auto c = run_mq({"pub", "-p", "1", "-t", "a", "-m", "x", "-u", "alice", "-P", "pw", "--password-prompt"});
    CHECK(c.exit_code == 64);
    CHECK(has(c.err, "cannot be combined"));
}

TEST_CASE("e2e --password-prompt reads the terminal with echo off and sends the password") {
    if (!mosquitto_fixture::available()) {
        MESSAGE("mosquitto not installed: skipped");
        return;
    }
    temp_dir dir;
    const std::string pwfile = dir.file("passwords");
    REQUIRE(run_process({"/usr/bin/mosquitto_passwd", "-c", "-b", pwfile, "alice", "s3cret-pw"}) == 0);
    mosquitto_options opts;
    opts.extra_lines = {"allow_anonymous false", "password_file " + pwfile};
    mosquitto_fixture broker(opts);
    const std::vector<std::string> args{"sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-t", "a",
                                        "-E", "-W", "10", "-u", "alice", "--password-prompt"};

    auto ok = run_on_tty(args, "Password for alice: ", "s3cret-pw\n");
    CHECK(ok.exit_code == 0);
    CHECK(has(ok.screen, "Password for alice: "));
    CHECK(!has(ok.screen, "s3cret"));  // not echoed

    auto bad = run_on_tty(args, "Password for alice: ", "wrong\n");
    CHECK(bad.exit_code == 77);  // CONNACK 0x86 Bad user name or password
    CHECK(!has(bad.screen, "wrong"));
}
