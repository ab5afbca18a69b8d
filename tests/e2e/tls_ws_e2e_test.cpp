// SPDX-License-Identifier: MIT
// The `mq` clients over TLS and WebSockets, end to end (cli-contract.md §2.2,
// §2.3): `mq broker` with mqtts, ws and wss listeners on port 0 and
// certificates made by `openssl` at test time; `openssl s_server` for a TLS
// 1.2-only server and one that insists on an ALPN name. Checks stdout bytes, exit codes (69 for a failed handshake, 64 for
// a bad option value) and what the TLS error message names.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// `mq broker` with an mqtts, a ws and a wss listener; ports from the readiness line.
class tls_ws_broker {
public:
    tls_ws_broker(const test_pki& pki, bool require_client_cert = false) {
        std::vector<std::string> args{"broker",     "--listen",   "mqtts://127.0.0.1:0", "--listen",
                                      "ws://127.0.0.1:0", "--listen", "wss://127.0.0.1:0", "--tls-cert",
                                      pki.server_cert, "--tls-key", pki.server_key, "--sys-interval", "0"};
        if (require_client_cert) args.insert(args.end(), {"--tls-cafile", pki.ca_cert, "--require-client-cert"});
        proc_ = std::make_unique<process>(mq_cmd(args));
        const auto line = proc_->read_line(10s);
        if (!line) throw std::runtime_error("mq broker with TLS/WS listeners did not start");
        ready_ = *line;
        const json ready = json::parse(*line);  // kept: a range-for over a temporary's member dangles
        for (const auto& l : ready.at("listeners")) {
            const std::string url = l.at("url");
            ports_[url.substr(0, url.find(':'))] = l.at("port").get<std::uint16_t>();
        }
    }
    ~tls_ws_broker() {
        proc_->signal(SIGTERM);
        (void)proc_->wait(5s);
    }
    tls_ws_broker(const tls_ws_broker&) = delete;
    tls_ws_broker& operator=(const tls_ws_broker&) = delete;

    std::string port(const std::string& scheme) const {
        const auto it = ports_.find(scheme);
        if (it == ports_.end()) throw std::runtime_error("no " + scheme + " listener in: " + ready_);
        return std::to_string(it->second);
    }

private:
    std::unique_ptr<process> proc_;
    std::map<std::string, std::uint16_t> ports_;
    std::string ready_;
};

// Publishes a retained message on `topic` with `pub_args` and reads it back with `sub_args`.
process_result retained_round_trip(const std::vector<std::string>& pub_args, const std::vector<std::string>& sub_args,
                                   const std::string& topic, const std::string& payload) {
    std::vector<std::string> pub{"pub", "-t", topic, "-r", "-q", "1", "-m", payload};
    pub.insert(pub.end(), pub_args.begin(), pub_args.end());
    const auto p = run_mq(pub, {}, 15s);
    if (p.exit_code != 0) return p;
    std::vector<std::string> sub{"sub", "-t", topic, "-C", "1", "-W", "10s"};
    sub.insert(sub.end(), sub_args.begin(), sub_args.end());
    return run_mq(sub, {}, 15s);
}

// `openssl s_server` on a free port with `extra` options, once it accepts
// connections. It speaks TLS but no MQTT: a client that passes the handshake
// waits for a CONNACK that never comes.
std::pair<std::unique_ptr<process>, std::uint16_t> start_s_server(const std::string& cert, const std::string& key,
                                                                  const std::vector<std::string>& extra) {
    const std::uint16_t port = pick_free_port();
    std::vector<std::string> argv{"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                                  "-cert", cert, "-key", key, "-quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto server = std::make_unique<process>(argv);
    for (int i = 0; i < 50; ++i) {
        const auto r = run_mq({"pub", "-p", std::to_string(port), "-t", "x", "-m", "x", "--connect-timeout", "300ms"},
                              {}, 5s);
        if (r.err.find("refused") == std::string::npos) return {std::move(server), port};
        std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("openssl s_server did not start");
}

struct pki_fixture {
    temp_dir dir;
    test_pki pki = make_test_pki(dir);
};

}  // namespace

TEST_CASE("e2e tls: mqtts:// with --cafile round trips byte-exact; -p with --cafile enables TLS") {
    pki_fixture f;
    tls_ws_broker broker(f.pki);
    const std::string url = "mqtts://localhost:" + broker.port("mqtts");
    auto r = retained_round_trip({"-L", url, "--cafile", f.pki.ca_cert}, {"-L", url, "--cafile", f.pki.ca_cert},
                                 "e2e/tls/a", "over tls");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "over tls\n");
    // --cafile alone turns TLS on (§2.2); the certificate's SAN has IP:127.0.0.1.
    r = run_mq({"sub", "-h", "127.0.0.1", "-p", broker.port("mqtts"), "--cafile", f.pki.ca_cert, "-t", "e2e/tls/a",
                "-C", "1", "-v", "-W", "10s"},
               {}, 15s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "e2e/tls/a over tls\n");
    // A plain MQTT client on the TLS port gets no CONNACK: 69, not a hang.
    r = run_mq({"pub", "-p", broker.port("mqtts"), "-t", "x", "-m", "x", "--connect-timeout", "2s"}, {}, 15s);
    CHECK(r.exit_code == 69);
}

TEST_CASE("e2e tls: a wrong CA exits 69 naming the verification error and the host") {
    pki_fixture f;
    tls_ws_broker broker(f.pki);
    auto r = run_mq({"pub", "-L", "mqtts://localhost:" + broker.port("mqtts"), "--cafile", f.pki.other_ca_cert, "-t",
                     "x", "-m", "x"},
                    {}, 15s);
    CHECK(r.exit_code == 69);
    INFO(r.err);
    CHECK(r.err.find("TLS certificate verification failed for 'localhost'") != std::string::npos);
    CHECK(r.err.find("unable to get local issuer certificate") != std::string::npos);
    // ... and what was presented and offered (§2.2): subject, issuer, SNI, ALPN, version.
    CHECK(r.err.find("certificate 0: subject 'CN=localhost', issuer 'CN=mq test CA'") != std::string::npos);
    CHECK(r.err.find("SNI 'localhost'") != std::string::npos);
    CHECK(r.err.find("ALPN none") != std::string::npos);
    CHECK(r.err.find("minimum version tlsv1.2") != std::string::npos);
    CHECK(r.out.empty());
    // The right CA but a name the certificate does not carry.
    r = run_mq({"pub", "-L", "mqtts://localhost:" + broker.port("mqtts"), "--cafile", f.pki.ca_cert,
                "--tls-server-name", "wrong.example", "-t", "x", "-m", "x"},
               {}, 15s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("wrong.example") != std::string::npos);
    // No CA option: the OS trust store does not know the test CA.
    r = run_mq({"pub", "-L", "mqtts://localhost:" + broker.port("mqtts"), "-t", "x", "-m", "x"}, {}, 15s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("verification failed") != std::string::npos);
    // An unreadable CA file is 66, before connecting.
    r = run_mq({"pub", "-L", "mqtts://localhost:" + broker.port("mqtts"), "--cafile", f.dir.file("missing.pem"), "-t",
                "x", "-m", "x"},
               {}, 15s);
    CHECK(r.exit_code == 66);
    CHECK(r.err.find("missing.pem") != std::string::npos);
}

TEST_CASE("e2e tls: --insecure skips the chain and host name checks") {
    pki_fixture f;
    tls_ws_broker broker(f.pki);
    const std::string url = "mqtts://127.0.0.1:" + broker.port("mqtts");
    auto r = retained_round_trip({"-L", url, "--insecure"}, {"-L", url, "--insecure"}, "e2e/tls/insecure", "ok");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ok\n");
    // With a CA that does not match and a wrong name, --insecure still connects.
    r = run_mq({"sub", "-L", url, "--cafile", f.pki.other_ca_cert, "--tls-server-name", "wrong.example",
                "--insecure", "-t", "e2e/tls/insecure", "-C", "1", "-W", "10s"},
               {}, 15s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ok\n");
}

TEST_CASE("e2e tls: --cert/--key client certificate against a broker that requires one") {
    pki_fixture f;
    tls_ws_broker broker(f.pki, true);
    const std::string url = "mqtts://localhost:" + broker.port("mqtts");
    const std::vector<std::string> with_cert{"-L", url, "--cafile", f.pki.ca_cert, "--cert", f.pki.client_cert,
                                             "--key", f.pki.client_key};
    auto r = retained_round_trip(with_cert, with_cert, "e2e/tls/cert", "authenticated");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "authenticated\n");
    // Without one the broker ends the handshake: 69.
    r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "-t", "x", "-m", "x", "--connect-timeout", "5s"}, {},
               15s);
    CHECK(r.exit_code == 69);
    // A key file that cannot be read: 66 naming it.
    r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "--cert", f.pki.client_cert, "--key",
                f.dir.file("nokey.pem"), "-t", "x", "-m", "x"},
               {}, 15s);
    CHECK(r.exit_code == 66);
    CHECK(r.err.find("nokey.pem") != std::string::npos);
}

TEST_CASE("e2e tls: --capath trusts a hashed CA directory; an empty one does not") {
    pki_fixture f;
    tls_ws_broker broker(f.pki);
    namespace fs = std::filesystem;
    const std::string cadir = f.dir.file("cadir"), empty = f.dir.file("empty");
    fs::create_directory(cadir);
    fs::create_directory(empty);
    // OpenSSL looks certificates up as <subject hash>.0 (what c_rehash makes).
    const auto h = run_process_io({"/usr/bin/openssl", "x509", "-hash", "-noout", "-in", f.pki.ca_cert}, {}, 10s);
    REQUIRE(h.exit_code == 0);
    fs::copy_file(f.pki.ca_cert, cadir + "/" + h.out.substr(0, h.out.find('\n')) + ".0");
    const std::string url = "mqtts://localhost:" + broker.port("mqtts");
    auto r = retained_round_trip({"-L", url, "--capath", cadir}, {"-L", url, "--capath", cadir}, "e2e/tls/capath",
                                 "from capath");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "from capath\n");
    r = run_mq({"pub", "-L", url, "--capath", empty, "-t", "x", "-m", "x"}, {}, 15s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("verification failed") != std::string::npos);
}

TEST_CASE("e2e ws and wss: ws:// and wss:// URLs, messages cross transports") {
    pki_fixture f;
    tls_ws_broker broker(f.pki);
    const std::string ws = "ws://127.0.0.1:" + broker.port("ws") + "/mqtt";
    const std::string wss = "wss://localhost:" + broker.port("wss") + "/mqtt";
    // Published over ws, read over wss.
    auto r = retained_round_trip({"-L", ws}, {"-L", wss, "--cafile", f.pki.ca_cert, "-v"}, "e2e/ws/a", "framed");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "e2e/ws/a framed\n");
    // Published over wss, read over mqtts.
    r = retained_round_trip({"-L", wss, "--cafile", f.pki.ca_cert},
                            {"-L", "mqtts://localhost:" + broker.port("mqtts"), "--cafile", f.pki.ca_cert}, "e2e/ws/b",
                            std::string("bin\x01\x02", 5));
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::string("bin\x01\x02\n", 6));
    // --ws on -h/-p is the same as ws://.
    r = run_mq({"sub", "-h", "127.0.0.1", "-p", broker.port("ws"), "--ws", "-t", "e2e/ws/a", "-C", "1", "-W", "10s"},
               {}, 15s);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "framed\n");
    // wss:// with the wrong CA fails like mqtts://.
    r = run_mq({"pub", "-L", wss, "--cafile", f.pki.other_ca_cert, "-t", "x", "-m", "x"}, {}, 15s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("verification failed for 'localhost'") != std::string::npos);
}

TEST_CASE("e2e tls: --tls-version is a floor; above a TLS 1.2-only server the handshake fails with 69") {
    pki_fixture f;
    auto [server, port] = start_s_server(f.pki.server_cert, f.pki.server_key, {"-tls1_2"});
    const std::string url = "mqtts://localhost:" + std::to_string(port);
    auto r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "--tls-version", "tlsv1.3", "-t", "x", "-m", "x",
                     "--connect-timeout", "3s"},
                    {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("TLS handshake with") != std::string::npos);
    CHECK(r.err.find("minimum version tlsv1.3") != std::string::npos);
    // Floor 1.2 (the default) gets through the handshake; only the CONNACK is missing.
    r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "--tls-version", "tlsv1.2", "-t", "x", "-m", "x",
                "--connect-timeout", "1s"},
               {}, 15s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("TLS handshake") == std::string::npos);
    // Against mq broker (1.3 capable) a 1.3 floor connects.
    tls_ws_broker broker(f.pki);
    r = run_mq({"pub", "-L", "mqtts://localhost:" + broker.port("mqtts"), "--cafile", f.pki.ca_cert, "--tls-version",
                "tlsv1.3", "-t", "x", "-m", "x"},
               {}, 15s);
    CHECK(r.exit_code == 0);
    // An unknown name is a usage error before connecting.
    r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "--tls-version", "sslv3", "-t", "x", "-m", "x"}, {}, 15s);
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("sslv3") != std::string::npos);
}

TEST_CASE("e2e tls: --tls-alpn offers the protocol: a server that insists on 'mqtt' refuses another name") {
    // openssl s_server -alpn mqtt ends the handshake when the client offers no
    // 'mqtt' (no_application_protocol alert).
    pki_fixture f;
    auto [server, port] = start_s_server(f.pki.server_cert, f.pki.server_key, {"-alpn", "mqtt"});
    const std::string url = "mqtts://localhost:" + std::to_string(port);
    auto r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "--tls-alpn", "x-other", "-t", "x", "-m", "x",
                     "--connect-timeout", "3s"},
                    {}, 15s);
    INFO(r.err);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("TLS handshake") != std::string::npos);
    CHECK(r.err.find("ALPN x-other") != std::string::npos);
    r = run_mq({"pub", "-L", url, "--cafile", f.pki.ca_cert, "--tls-alpn", "mqtt", "-t", "x", "-m", "x",
                "--connect-timeout", "1s"},
               {}, 15s);
    CHECK(r.exit_code == 69);
    CHECK(r.err.find("TLS handshake") == std::string::npos);
}
