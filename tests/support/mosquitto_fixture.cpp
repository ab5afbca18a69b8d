// SPDX-License-Identifier: MIT
#include "mosquitto_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mq::test {

namespace {

using steady = std::chrono::steady_clock;

bool wait_exit(pid_t pid, int timeout_ms, int* status) {
    const auto end = steady::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const pid_t r = ::waitpid(pid, status, WNOHANG);
        if (r == pid || r < 0) return true;
        if (steady::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& stdout_file) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(stdout_file.empty() ? "/dev/null" : stdout_file.c_str(),
                              O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::close(fd);
        }
        const int in = ::open("/dev/null", O_RDONLY);
        if (in >= 0) ::dup2(in, 0);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

bool port_accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string current_user() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw ? pw->pw_name : "root";
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace

temp_dir::temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mq-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

int run_process(const std::vector<std::string>& argv, int timeout_ms) {
    const pid_t pid = spawn(argv, "");
    if (pid < 0) return -1;
    int status = 0;
    if (!wait_exit(pid, timeout_ms, &status)) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

test_pki make_test_pki(const temp_dir& dir) {
    const std::string openssl = "/usr/bin/openssl";
    auto run = [&](std::vector<std::string> argv) {
        argv.insert(argv.begin(), openssl);
        if (run_process(argv) != 0) {
            std::string cmd;
            for (const auto& a : argv) cmd += a + " ";
            throw std::runtime_error("openssl failed: " + cmd);
        }
    };
    test_pki p;
    p.ca_cert = dir.file("ca.pem");
    p.ca_key = dir.file("ca.key");
    p.server_cert = dir.file("server.pem");
    p.server_key = dir.file("server.key");
    p.client_cert = dir.file("client.pem");
    p.client_key = dir.file("client.key");
    p.other_ca_cert = dir.file("other-ca.pem");
    const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

    auto make_ca = [&](const std::string& cert, const std::string& key, const std::string& cn) {
        std::vector<std::string> a = {"req", "-x509"};
        a.insert(a.end(), ec_key.begin(), ec_key.end());
        a.insert(a.end(), {"-keyout", key, "-out", cert, "-days", "2", "-sha256", "-subj", "/CN=" + cn,
                           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                           "keyUsage=critical,keyCertSign,cRLSign"});
        run(a);
    };
    make_ca(p.ca_cert, p.ca_key, "mq test CA");
    make_ca(p.other_ca_cert, dir.file("other-ca.key"), "mq other CA");

    auto make_leaf = [&](const std::string& cert, const std::string& key, const std::string& cn,
                         const std::string& ext) {
        const std::string csr = cert + ".csr";
        const std::string extfile = cert + ".ext";
        write_file(extfile, ext);
        std::vector<std::string> a = {"req"};
        a.insert(a.end(), ec_key.begin(), ec_key.end());
        a.insert(a.end(), {"-keyout", key, "-out", csr, "-subj", "/CN=" + cn});
        run(a);
        run({"x509", "-req", "-in", csr, "-CA", p.ca_cert, "-CAkey", p.ca_key, "-CAcreateserial", "-out",
             cert, "-days", "2", "-sha256", "-extfile", extfile});
    };
    make_leaf(p.server_cert, p.server_key, "localhost",
              "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
              "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
    make_leaf(p.client_cert, p.client_key, "mq-test-client",
              "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
              "extendedKeyUsage=clientAuth\n");
    return p;
}

std::uint16_t pick_free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) continue;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = 0;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
            ::close(fd);
            return ntohs(a.sin_port);
        }
        ::close(fd);
    }
    throw std::runtime_error("no free port on 127.0.0.1");
}

bool mosquitto_fixture::available() { return ::access(binary, X_OK) == 0; }

mosquitto_fixture::mosquitto_fixture(mosquitto_options opts) : opts_(std::move(opts)) {
    // The port may be taken between picking and mosquitto's bind: retry.
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (try_start(opts_, pick_free_port())) return;
    }
    throw std::runtime_error("mosquitto did not start; log:\n" + log());
}

void mosquitto_fixture::restart() {
    stop();
    // Our clients' sockets may linger in TIME_WAIT; mosquitto binds with
    // SO_REUSEADDR, so a few attempts are enough.
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (try_start(opts_, port_)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("mosquitto did not restart; log:\n" + log());
}

bool mosquitto_fixture::try_start(const mosquitto_options& opts, std::uint16_t port) {
    port_ = port;
    std::ostringstream conf;
    // Running as root, mosquitto would switch to user "mosquitto" and lose
    // access to our private directory; stay as whoever runs the tests.
    conf << "user " << current_user() << "\n";
    if (opts.persistence) {
        conf << "persistence true\n";
        conf << "persistence_location " << dir_.path() << "/\n";
    } else {
        conf << "persistence false\n";
    }
    conf << "log_dest stderr\n";
    conf << "log_type all\n";
    conf << "listener " << port_ << " 127.0.0.1\n";
    conf << "allow_anonymous true\n";
    if (!opts.certfile.empty()) {
        conf << "certfile " << opts.certfile << "\n";
        conf << "keyfile " << opts.keyfile << "\n";
        if (!opts.cafile.empty()) conf << "cafile " << opts.cafile << "\n";
        if (opts.require_certificate) conf << "require_certificate true\n";
    }
    for (const auto& l : opts.extra_lines) conf << l << "\n";
    const std::string conf_path = dir_.file("mosquitto.conf");
    write_file(conf_path, conf.str());

    pid_ = spawn({binary, "-c", conf_path}, dir_.file("mosquitto.log"));  // appends: restarts keep the log
    if (pid_ < 0) throw std::runtime_error("fork failed");
    const auto end = steady::now() + std::chrono::seconds(5);
    while (steady::now() < end) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken or bad config
            pid_ = -1;
            return false;
        }
        if (port_accepts(port_)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return false;
}

std::string mosquitto_fixture::log() const {
    std::ifstream f(dir_.file("mosquitto.log"));
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void mosquitto_fixture::stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    if (!wait_exit(pid_, 3000, &status)) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
}

mosquitto_fixture::~mosquitto_fixture() { stop(); }

}  // namespace mq::test
