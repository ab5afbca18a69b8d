// SPDX-License-Identifier: MIT
// hardening.md I09, the TTY case: `mq pub -l`, `--ndjson` and `-s` with stdin a
// pseudo-terminal, as when a user types into `mq pub -l`. A terminal in
// canonical mode hands over one line per read(), so each line must be published
// as it is entered, not when stdin ends; ^D at the start of a line is EOF and
// ends the run with exit 0. `-s` is "all of stdin, one message": it publishes
// what was typed once, at ^D.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"
#include "hostile_peer.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// `mq ARGS` with a new pseudo-terminal as its stdin (and controlling terminal);
/// stdout and stderr go to files. Killed by PID if still running at destruction.
class tty_mq {
public:
    tty_mq(const std::vector<std::string>& args, const temp_dir& dir)
        : out_path_(dir.file("tty.out")), err_path_(dir.file("tty.err")) {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master_ >= 0);
        REQUIRE(::grantpt(master_) == 0);
        REQUIRE(::unlockpt(master_) == 0);
        char name[128];
        REQUIRE(::ptsname_r(master_, name, sizeof name) == 0);
        const int slave = ::open(name, O_RDWR | O_NOCTTY);
        REQUIRE(slave >= 0);
        // No echo: nobody reads the master's output side, and the test only writes to it.
        termios t{};
        REQUIRE(::tcgetattr(slave, &t) == 0);
        t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        REQUIRE(::tcsetattr(slave, TCSANOW, &t) == 0);
        std::vector<std::string> argv = mq_cmd(args);
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::setsid();
            const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (out < 0 || err < 0 || ::dup2(slave, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)
                ::_exit(126);
            ::close(master_);
            ::execv(cargv[0], cargv.data());
            ::_exit(127);
        }
        ::close(slave);
    }
    ~tty_mq() {
        if (pid_ > 0 && !status_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (master_ >= 0) ::close(master_);
    }
    tty_mq(const tty_mq&) = delete;
    tty_mq& operator=(const tty_mq&) = delete;

    /// Types `text` at the terminal.
    void type(const std::string& text) const {
        REQUIRE(::write(master_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    /// Still running (not exited yet)?
    bool running() {
        if (status_) return false;
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
        return !status_;
    }
    /// Exit code after waiting up to `timeout` (then SIGKILL, -1).
    int wait(std::chrono::milliseconds timeout) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (running() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
        if (running()) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            status_ = -1;
            return -1;
        }
        return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
    }
    std::string err() const {
        std::ifstream in(err_path_);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private:
    std::string out_path_, err_path_;
    int master_ = -1;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

/// The payload of the next --json record on `topic` from `sub`, nullopt if none within `timeout`.
std::optional<std::string> next_payload(process& sub, const std::string& topic,
                                        std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        const auto line = sub.read_line(
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
        if (!line) return std::nullopt;
        const auto j = json::parse(*line);
        if (j.at("topic") == topic) return j.at("payload").get<std::string>();
    }
    return std::nullopt;
}

struct tty_fixture {
    e2e_broker broker;
    temp_dir dir;
    process sub{mq_cmd({"sub", "-p", broker.port_text(), "-t", "e2e/i09tty/#", "--json", "-q", "1"})};
    tty_fixture() {
        REQUIRE(wait_subscribed(sub, broker, "e2e/i09tty/sync"));
        while (sub.read_line(100ms)) {
        }
    }
    ~tty_fixture() {
        sub.signal(SIGINT);
        sub.wait(10s);
    }
};

}  // namespace

TEST_CASE("e2e I09 pub -l with stdin a TTY publishes each line as it is typed and ends at ^D with 0") {
    tty_fixture f;
    tty_mq pub({"pub", "-p", f.broker.port_text(), "-t", "e2e/i09tty/l", "-q", "1", "-l"}, f.dir);
    for (const std::string line : {"first", "second", "third"}) {
        CAPTURE(line);
        pub.type(line + "\n");
        // Arrives while mq is still reading the terminal: published on Enter, not at EOF.
        CHECK(next_payload(f.sub, "e2e/i09tty/l", 5s) == std::optional<std::string>(line));
        CHECK(pub.running());
    }
    pub.type("\x04");  // ^D at the start of a line: EOF
    CHECK(pub.wait(10s) == 0);
    INFO(pub.err());
    CHECK(pub.err().empty());
    CHECK_FALSE(
        next_payload(f.sub, "e2e/i09tty/l", 300ms).has_value());  // nothing more (no empty ^D message)
}

TEST_CASE(
    "e2e I09 pub --ndjson with stdin a TTY publishes each object as it is typed and ends at ^D with 0") {
    tty_fixture f;
    tty_mq pub({"pub", "-p", f.broker.port_text(), "--ndjson", "-q", "1"}, f.dir);
    pub.type("{\"topic\":\"e2e/i09tty/n1\",\"payload\":\"one\"}\n");
    CHECK(next_payload(f.sub, "e2e/i09tty/n1", 5s) == std::optional<std::string>("one"));
    CHECK(pub.running());
    pub.type("{\"topic\":\"e2e/i09tty/n2\",\"payload\":\"two\"}\n");
    CHECK(next_payload(f.sub, "e2e/i09tty/n2", 5s) == std::optional<std::string>("two"));
    CHECK(pub.running());
    pub.type("\x04");
    CHECK(pub.wait(10s) == 0);
    CHECK(pub.err().empty());
}

TEST_CASE("e2e I09 pub -s with stdin a TTY publishes everything typed as one message at ^D with 0") {
    tty_fixture f;
    tty_mq pub({"pub", "-p", f.broker.port_text(), "-t", "e2e/i09tty/s", "-q", "1", "-s"}, f.dir);
    pub.type("line one\n");
    pub.type("line two\n");
    // -s is all of stdin: nothing is sent before EOF.
    CHECK_FALSE(next_payload(f.sub, "e2e/i09tty/s", 500ms).has_value());
    CHECK(pub.running());
    pub.type("\x04");
    CHECK(pub.wait(10s) == 0);
    CHECK(pub.err().empty());
    CHECK(next_payload(f.sub, "e2e/i09tty/s", 5s) == std::optional<std::string>("line one\nline two\n"));
}
