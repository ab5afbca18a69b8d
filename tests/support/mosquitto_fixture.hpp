// SPDX-License-Identifier: MIT
// Runs Debian's mosquitto on 127.0.0.1 with a generated configuration for tests,
// and makes throwaway TLS certificates with the openssl CLI.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mq::test {

/// A private temporary directory, removed with its contents on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const noexcept { return path_; }
    /// path() + "/" + name
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

/// CA, server certificate (P-256, SHA-256, SAN DNS:localhost and IP:127.0.0.1)
/// and client certificate, made at test time with `openssl`.
struct test_pki {
    std::string ca_cert, ca_key;
    std::string server_cert, server_key;
    std::string client_cert, client_key;
    /// A second, unrelated CA (for "unknown issuer" tests).
    std::string other_ca_cert;
};

/// Generates the files into `dir`. Throws std::runtime_error naming the
/// openssl command that failed.
test_pki make_test_pki(const temp_dir& dir);

/// Runs argv[0] with arguments, waits (bounded by `timeout_ms`, then SIGKILL) and
/// returns the exit status, or -1 if it could not run or was killed.
int run_process(const std::vector<std::string>& argv, int timeout_ms = 30'000);

struct mosquitto_options {
    /// TLS listener: paths of the server certificate, key and the CA for clients.
    std::string certfile, keyfile, cafile;
    bool require_certificate = false;
    /// Extra lines appended to the listener section.
    std::vector<std::string> extra_lines;
    /// Keep sessions, subscriptions and queued messages in the fixture's
    /// directory across restart() (mosquitto saves them on SIGTERM).
    bool persistence = false;
};

/// One mosquitto process on 127.0.0.1 and a free port. The constructor returns
/// when the port accepts connections; the destructor stops the process by PID
/// (SIGTERM, then SIGKILL after 3 s).
class mosquitto_fixture {
public:
    static constexpr const char* binary = "/usr/sbin/mosquitto";
    /// True when the mosquitto binary is installed.
    static bool available();

    explicit mosquitto_fixture(mosquitto_options opts = {});
    ~mosquitto_fixture();
    mosquitto_fixture(const mosquitto_fixture&) = delete;
    mosquitto_fixture& operator=(const mosquitto_fixture&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }
    /// Contents of mosquitto's log so far (for failure messages).
    std::string log() const;
    /// Stops the broker now (idempotent).
    void stop() noexcept;
    /// stop() and start again on the same port with the same configuration.
    /// Throws std::runtime_error if it does not come back within ~10 s.
    void restart();

private:
    bool try_start(const mosquitto_options& opts, std::uint16_t port);

    mosquitto_options opts_;
    temp_dir dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

/// A port that was free a moment ago on 127.0.0.1 (bind to 0, read, close).
std::uint16_t pick_free_port();

}  // namespace mq::test
