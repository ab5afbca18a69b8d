// SPDX-License-Identifier: MIT
// --summary / --summary-file of mq sub, pub and rr (cli-contract.md §5.6): the
// summary is written at exit whatever ended the run, with the real exit code.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct temp_path {
    temp_path() {
        std::random_device rd;
        path = (fs::temp_directory_path() / ("mq-summary-" + std::to_string(rd()))).string();
    }
    ~temp_path() {
        std::error_code ec;
        fs::remove(path, ec);
    }
    temp_path(const temp_path&) = delete;
    temp_path& operator=(const temp_path&) = delete;
    std::string read() const {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::string path;
};

// A loopback port that refuses connections: bound, never listening.
class refusing_port {
public:
    refusing_port() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
    }
    ~refusing_port() { ::close(fd_); }
    refusing_port(const refusing_port&) = delete;
    refusing_port& operator=(const refusing_port&) = delete;
    std::string port_text() const { return std::to_string(port_); }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("e2e sub --summary json: -C ends the run with counts, filters and CONNACK limits") {
    e2e_broker broker;
    for (const char* t : {"sum/a", "sum/b"})
        REQUIRE(run_mq({"pub", "-p", broker.port_text(), "-r", "-q", "1", "-t", t, "-m", "x"}).exit_code == 0);
    const auto r = run_mq({"sub", "-p", broker.port_text(), "-t", "sum/#", "-T", "sum/b", "-C", "1", "-W", "10",
                           "--summary", "json"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "x\n");
    CHECK(r.err.starts_with(R"({"type":"summary","command":"sub","exit_code":0,"ended_by":"count","elapsed_s":)"));
    CHECK(has(r.err, R"("subscriptions":[{"filter":"sum/#","reason_code":0}])"));
    CHECK(has(r.err, R"("session_present":false,"reason_code":0,"assigned_client_id":null,"limits":{)"));
    if (broker.kind() == "mq") CHECK(has(r.err, R"("receive_maximum":)"));
    CHECK(has(r.err, R"("rollcall":null,"error":null})"));
    // sum/a and sum/b arrive retained (in either order); -T drops sum/b, -C 1 ends at sum/a.
    CHECK((has(r.err, R"("messages":{"received":1,"printed":1,"retained":1,"excluded":0,"matched":1})") ||
           has(r.err, R"("messages":{"received":2,"printed":1,"retained":2,"excluded":1,"matched":1})")));
}

TEST_CASE("e2e sub -W: the summary file says timeout with exit code 124 and the roll-call") {
    e2e_broker broker;
    REQUIRE(run_mq({"pub", "-p", broker.port_text(), "-r", "-t", "fleet/a", "-m", "up"}).exit_code == 0);
    temp_path list, out;
    std::ofstream(list.path) << "fleet/a\nfleet/b\n";
    const auto r = run_mq({"sub", "-p", broker.port_text(), "--expect-topics", list.path, "-W", "700ms",
                           "--summary-file", out.path});
    CHECK(r.exit_code == 124);
    const std::string s = out.read();
    CHECK(s.starts_with(R"({"type":"summary","command":"sub","exit_code":124,"ended_by":"timeout",)"));
    CHECK(has(s, R"("rollcall":{"expected":2,"seen":1,"missing":["fleet/b"]},"error":null})"));
    CHECK(s.ends_with("}\n"));
    // Text goes to stderr when asked for.
    const auto t = run_mq({"sub", "-p", broker.port_text(), "-t", "none/yet", "-W", "300ms", "--summary", "text"});
    CHECK(t.exit_code == 124);
    CHECK(has(t.err, "mq sub summary: exit 124 (timeout) after "));
    CHECK(has(t.err, "  subscription: none/yet -> 0x00 Success\n"));
}

TEST_CASE("e2e sub SIGTERM with a goal unmet: the summary says signal and 130") {
    e2e_broker broker;
    process sub(mq_cmd({"sub", "-p", broker.port_text(), "-t", "sum/sig", "-C", "1000", "--summary", "json"}));
    REQUIRE(wait_subscribed(sub, broker, "sum/sig"));
    sub.signal(SIGTERM);
    const auto r = sub.wait(10s);
    CHECK(r.exit_code == 130);
    CHECK(has(r.err, R"({"type":"summary","command":"sub","exit_code":130,"ended_by":"signal",)"));
    CHECK(has(r.err, R"("error":null})"));
}

TEST_CASE("e2e summary of a refused connection: connect null, error object, exit 69") {
    refusing_port port;
    const auto r = run_mq({"sub", "-h", "127.0.0.1", "-p", port.port_text(), "-t", "a", "--summary", "json"});
    CHECK(r.exit_code == 69);
    CHECK(has(r.err, R"({"type":"summary","command":"sub","exit_code":69,"ended_by":"error",)"));
    CHECK(has(r.err, R"("connect":null,"subscriptions":[])"));
    CHECK(has(r.err, R"("error":{"kind":"unavailable","reason_code":null,"reason":null,"message":"cannot connect)"));
    // A usage error before connecting still gets its summary, and pub's counters.
    const auto u = run_mq({"pub", "-p", port.port_text(), "-t", "a/#", "-m", "x", "--summary", "json"});
    CHECK(u.exit_code == 64);
    CHECK(has(u.err, R"("exit_code":64,"ended_by":"error")"));
    CHECK(has(u.err, R"("error":{"kind":"usage",)"));
    CHECK(has(u.err, R"("published":0,"acked":0,"failed":[]})"));
}

TEST_CASE("e2e pub --summary: published and acked counts at QoS 1") {
    e2e_broker broker;
    const auto r = run_mq({"pub", "-p", broker.port_text(), "-t", "sum/pub", "-m", "m", "-q", "1", "--repeat", "5",
                           "--summary", "json"});
    CHECK(r.exit_code == 0);
    CHECK(has(r.err, R"({"type":"summary","command":"pub","exit_code":0,"ended_by":"goal",)"));
    CHECK(has(r.err, R"("error":null,"published":5,"acked":5,"failed":[]})"));
    // -l at QoS 0: published counts every line, nothing is acknowledged.
    const auto l = run_mq({"pub", "-p", broker.port_text(), "-t", "sum/pub", "-l", "--summary", "json"}, "a\nb\nc\n");
    CHECK(l.exit_code == 0);
    CHECK(has(l.err, R"("published":3,"acked":0,"failed":[]})"));
}

TEST_CASE("e2e summary that cannot be written exits 74") {
    e2e_broker broker;
    const auto r = run_mq({"pub", "-p", broker.port_text(), "-t", "sum/x", "-m", "m", "--summary-file",
                           "/nonexistent-dir/summary.json"});
    CHECK(r.exit_code == 74);
    CHECK(has(r.err, "cannot write the summary to '/nonexistent-dir/summary.json'"));
}

TEST_CASE("e2e rr --summary: the response, a stale retained one excluded, and --latency") {
    e2e_broker broker;
    // A retained message on the response topic predates the request: ignored.
    REQUIRE(run_mq({"pub", "-p", broker.port_text(), "-r", "-t", "sum/resp", "-m", "stale"}).exit_code == 0);
    temp_path out;
    // 3.1.1: any live message on the response topic is the response, so the
    // test answers with mq pub until rr has subscribed and ends.
    process rr(mq_cmd({"rr", "-p", broker.port_text(), "-V", "311", "-t", "sum/req", "-e", "sum/resp", "-m", "q",
                       "-q", "1", "--latency", "-W", "10", "--summary-file", out.path}));
    std::optional<std::string> line;
    for (int i = 0; i < 50 && !line; ++i) {
        REQUIRE(run_mq({"pub", "-p", broker.port_text(), "-t", "sum/resp", "-m", "answer"}).exit_code == 0);
        line = rr.read_line(200ms);
    }
    REQUIRE(line == std::optional<std::string>("answer"));
    const auto r = rr.wait(10s);
    CHECK(r.exit_code == 0);
    const std::string s = out.read();
    CHECK(s.starts_with(R"({"type":"summary","command":"rr","exit_code":0,"ended_by":"count",)"));
    CHECK(has(s, R"("subscriptions":[{"filter":"sum/resp","reason_code":1}])"));
    CHECK(has(s, R"("messages":{"received":2,"printed":1,"retained":1,"excluded":1,"matched":1})"));
    CHECK(has(s, R"("error":null,"published":1,"acked":1,"failed":[],"latency_ms":[)"));
    CHECK(has(r.err, "round trip"));
}
