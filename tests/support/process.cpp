// SPDX-License-Identifier: MIT
#include "process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mq::test {
namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

process::process(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::signal(SIGPIPE, SIG_DFL);
        for (auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
        ::execv(args[0], args.data());
        const char msg[] = "exec failed\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
    set_nonblocking(in_);
    set_nonblocking(out_);
    set_nonblocking(err_);
    // Our own writes to a child that exited must not kill the test binary.
    ::signal(SIGPIPE, SIG_IGN);
}

process::~process() {
    if (!status_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
    close_fd(in_);
    close_fd(out_);
    close_fd(err_);
}

void process::write_stdin(std::string_view data) {
    pending_in_.append(data);
    flush_stdin();
}

void process::close_stdin() {
    close_in_after_ = true;
    flush_stdin();
}

void process::close_stdout() { close_fd(out_); }

void process::flush_stdin() {
    while (in_ >= 0 && !pending_in_.empty()) {
        const ssize_t n = ::write(in_, pending_in_.data(), pending_in_.size());
        if (n > 0) {
            pending_in_.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {  // EPIPE: the child stopped reading
            pending_in_.clear();
            close_fd(in_);
            return;
        }
    }
    if (in_ >= 0 && pending_in_.empty() && close_in_after_) close_fd(in_);
}

void process::signal(int sig) noexcept {
    if (!status_ && pid_ > 0) ::kill(pid_, sig);
}

bool process::pump(std::chrono::steady_clock::time_point deadline) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
    if (err_ >= 0) fds[n++] = {err_, POLLIN, 0};
    if (in_ >= 0 && !pending_in_.empty()) fds[n++] = {in_, POLLOUT, 0};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (n == 0) return false;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    const int r = ::poll(fds, n, static_cast<int>(std::min<long long>(ms, 100)));
    if (r < 0 && errno != EINTR) return false;
    char buf[65536];
    for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == in_) {
            flush_stdin();
            continue;
        }
        const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        if (got > 0) {
            (fds[i].fd == out_ ? out_buf_ : err_buf_).append(buf, static_cast<std::size_t>(got));
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (fds[i].fd == out_) close_fd(out_);
            else close_fd(err_);
        }
    }
    return true;
}

std::optional<std::string> process::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const auto nl = out_buf_.find('\n'); nl != std::string::npos) {
            std::string line = out_buf_.substr(0, nl);
            out_buf_.erase(0, nl + 1);
            return line;
        }
        if (out_ < 0 || !pump(deadline)) return std::nullopt;
    }
}

std::string process::read_stdout_until(std::size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_buf_.size() < n && out_ >= 0 && pump(deadline)) {
    }
    return out_buf_;
}

process_result process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    process_result r;
    while (!status_) {
        int st = 0;
        const pid_t w = ::waitpid(pid_, &st, WNOHANG);
        if (w == pid_) {
            status_ = st;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &st, 0);
            status_ = st;
            r.timed_out = true;
            break;
        }
        if (!pump(deadline)) ::usleep(2000);  // pipes closed: only waiting for exit
    }
    // Collect what is left in the pipes (the child is gone, so this ends).
    while ((out_ >= 0 || err_ >= 0) && pump(std::chrono::steady_clock::now() + std::chrono::seconds(2))) {
    }
    if (WIFEXITED(*status_)) r.exit_code = WEXITSTATUS(*status_);
    else if (WIFSIGNALED(*status_)) r.exit_code = 128 + WTERMSIG(*status_);
    r.out = std::move(out_buf_);
    r.err = std::move(err_buf_);
    out_buf_.clear();
    err_buf_.clear();
    return r;
}

process_result run_process_io(std::vector<std::string> argv, std::string_view input,
                              std::chrono::milliseconds timeout,
                              std::vector<std::pair<std::string, std::string>> env) {
    process p(std::move(argv), std::move(env));
    p.write_stdin(input);
    p.close_stdin();
    return p.wait(timeout);
}

std::optional<long> vm_rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            long kib = 0;
            status >> kib;
            return kib;
        }
        status.ignore(4096, '\n');
    }
    return std::nullopt;
}

}  // namespace mq::test
