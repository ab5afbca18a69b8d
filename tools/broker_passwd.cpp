// SPDX-License-Identifier: MIT
// `mq broker passwd FILE USER`: add, update or delete one password file entry
// (cli-contract.md §9). The file is rewritten atomically with mode 0600.
#include "broker_passwd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <mqtt/core/password_file.hpp>
#include <mqtt/net/password_hash.hpp>

#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/stdio.hpp"

namespace mq::tools {
namespace {

struct passwd_options {
    std::string file;
    std::string user;
    bool remove = false;
    bool password_stdin = false;
    std::uint32_t iterations = mqtt::net::default_password_iterations;
};

[[noreturn]] void fail(tool_error e, const std::string& what) {
    throw std::system_error(make_error_code(e), what);
}

// Reads one line from the terminal with echo off.
std::string prompt_tty(int fd, const char* prompt) {
    (void)write_all(fd, prompt);
    termios old{};
    const bool have = ::tcgetattr(fd, &old) == 0;
    if (have) {
        termios quiet = old;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    char ch = 0;
    ssize_t n = 0;
    while ((n = ::read(fd, &ch, 1)) == 1 && ch != '\n') line.push_back(ch);
    if (have) ::tcsetattr(fd, TCSAFLUSH, &old);
    (void)write_all(fd, "\n");
    if (n < 0) fail(tool_error::io, "cannot read the password from the terminal");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

std::string read_password(const passwd_options& o) {
    if (o.password_stdin) {
        std::string line;
        char ch = 0;
        ssize_t n = 0;
        while ((n = ::read(0, &ch, 1)) == 1 && ch != '\n') line.push_back(ch);
        if (n < 0) fail(tool_error::io, "cannot read the password from stdin");
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0 || isatty(fd) == 0) {
        if (fd >= 0) ::close(fd);
        fail(tool_error::usage, "no terminal to ask for the password: use --password-stdin");
    }
    const std::string first = prompt_tty(fd, "Password: ");
    const std::string second = prompt_tty(fd, "Repeat password: ");
    ::close(fd);
    if (first != second) fail(tool_error::usage, "passwords do not match");
    return first;
}

// Writes `text` to a temporary file next to `path` (0600), syncs and renames it over `path`.
void write_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmp);
    const int werr = write_all(fd, text);
    const int serr = werr == 0 && ::fsync(fd) != 0 ? errno : 0;
    ::close(fd);
    if (werr != 0 || serr != 0) {
        ::unlink(tmp.c_str());
        throw std::system_error(werr != 0 ? werr : serr, std::generic_category(), "cannot write " + tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw std::system_error(e, std::generic_category(), "cannot replace " + path);
    }
}

int run_passwd(const passwd_options& o) {
    if (o.user.empty() || o.user.find(':') != std::string::npos ||
        o.user.find_first_of(std::string("\n\r\t\0", 4)) != std::string::npos)
        fail(tool_error::usage, "user name must be non-empty, without ':' or control characters");
    if (o.iterations == 0 || o.iterations > mqtt::core::password_max_iterations)
        fail(tool_error::usage, "--iterations must be 1..100000000");
    mqtt::core::password_file db;
    std::ifstream in(o.file, std::ios::binary);
    if (in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        mqtt::core::file_error err;
        auto parsed = mqtt::core::password_file::parse(ss.str(), err);
        if (!parsed) fail(tool_error::config, fmt::format("{}:{}: {}", o.file, err.line, err.message));
        db = std::move(*parsed);
    } else if (errno != ENOENT) {
        throw std::system_error(errno, std::generic_category(), "cannot read " + o.file);
    }
    if (o.remove) {
        if (!db.remove(o.user)) fail(tool_error::data, fmt::format("no user '{}' in {}", o.user, o.file));
    } else {
        std::string password = read_password(o);
        db.set(mqtt::net::hash_password(o.user, password, o.iterations));
        std::fill(password.begin(), password.end(), '\0');
    }
    write_atomically(o.file, db.text());
    return exit_status::ok;
}

}  // namespace

CLI::App* add_broker_passwd_command(CLI::App& broker) {
    auto o = std::make_shared<passwd_options>();
    auto* cmd = broker.add_subcommand("passwd", "Add, update or delete a user in a password file");
    cmd->add_option("FILE", o->file, "Password file (created if missing, written with mode 0600)")
        ->required();
    cmd->add_option("USER", o->user, "User name")->required();
    cmd->add_flag("--delete", o->remove, "Remove USER instead of setting a password");
    cmd->add_flag("--password-stdin", o->password_stdin, "Read the password from the first line of stdin");
    cmd->add_option("--iterations", o->iterations, "PBKDF2 iterations (default 50000)");
    cmd->callback([o] { globals().run = [o] { return run_passwd(*o); }; });
    return cmd;
}

}  // namespace mq::tools
