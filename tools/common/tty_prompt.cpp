// SPDX-License-Identifier: MIT
#include "common/tty_prompt.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "common/exit_codes.hpp"
#include "common/stdio.hpp"

namespace mq::tools {
namespace {

// Used by the signal handler, which may only touch async-signal-safe state:
// a signal while echo is off must not leave the user's terminal silent.
int saved_fd = -1;
termios saved_mode{};

constexpr std::array<int, 3> restore_on = {SIGINT, SIGTERM, SIGHUP};

extern "C" void restore_and_reraise(int sig) {
    if (saved_fd >= 0) ::tcsetattr(saved_fd, TCSAFLUSH, &saved_mode);
    std::signal(sig, SIG_DFL);
    ::raise(sig);
}

// Echo off for the lifetime of the object, with the handlers above installed.
class echo_off {
public:
    echo_off(int fd, const termios& mode) {
        saved_mode = mode;
        saved_fd = fd;
        struct sigaction sa {};
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < restore_on.size(); ++i) ::sigaction(restore_on[i], &sa, &old_[i]);
        termios quiet = mode;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
        ok_ = ::tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    ~echo_off() {
        ::tcsetattr(saved_fd, TCSAFLUSH, &saved_mode);
        for (std::size_t i = 0; i < restore_on.size(); ++i) ::sigaction(restore_on[i], &old_[i], nullptr);
        saved_fd = -1;
    }
    echo_off(const echo_off&) = delete;
    echo_off& operator=(const echo_off&) = delete;
    bool ok() const noexcept { return ok_; }

private:
    std::array<struct sigaction, 3> old_{};
    bool ok_ = false;
};

class fd_closer {
public:
    explicit fd_closer(int fd) : fd_(fd) {}
    ~fd_closer() { ::close(fd_); }
    fd_closer(const fd_closer&) = delete;
    fd_closer& operator=(const fd_closer&) = delete;

private:
    int fd_;
};

[[noreturn]] void no_terminal(std::string_view option, int err) {
    throw std::system_error(tool_error::usage,
                            fmt::format("{} needs a terminal (/dev/tty: {}); use --password-file or --password-env",
                                        option, std::strerror(err)));
}

}  // namespace

std::string read_secret_from_tty(std::string_view prompt, std::string_view option) {
    // O_NOCTTY: never acquire a controlling terminal by opening it.
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) no_terminal(option, errno);
    const fd_closer closer(fd);
    termios mode{};
    if (::tcgetattr(fd, &mode) != 0) no_terminal(option, errno);

    std::string secret;
    int read_error = 0;
    bool too_long = false;
    {
        const echo_off quiet(fd, mode);
        if (!quiet.ok()) no_terminal(option, errno);
        (void)write_all(fd, prompt);
        char ch = 0;
        for (;;) {
            const ssize_t n = ::read(fd, &ch, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) read_error = errno;
            if (n <= 0 || ch == '\n') break;
            if (secret.size() >= 65535) too_long = true;
            else secret.push_back(ch);
        }
        // The user's Enter was not echoed: end the prompt line ourselves.
        (void)write_all(fd, "\n");
    }
    if (read_error != 0)
        throw std::system_error(tool_error::io, fmt::format("{}: reading /dev/tty: {}", option, std::strerror(read_error)));
    if (too_long) throw std::system_error(tool_error::data, fmt::format("{}: longer than 65535 bytes", option));
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    return secret;
}

}  // namespace mq::tools
