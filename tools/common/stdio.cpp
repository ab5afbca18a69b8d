// SPDX-License-Identifier: MIT
#include "common/stdio.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mq::tools {
namespace {
constexpr std::size_t max_batch = 64;  // records per writev (well under IOV_MAX)
constexpr std::size_t max_spare = 8;                  // buffers kept for try_push_reusing
constexpr std::size_t max_spare_capacity = 256 * 1024;  // larger ones are freed
}  // namespace

void ignore_sigpipe() noexcept {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, nullptr);
}

void reserve_standard_fds() noexcept {
    // /dev/null opened the wrong way round: the descriptor number is taken, yet
    // reading fd 0 or writing fd 1/2 still fails with EBADF as a closed one would.
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        const int got = ::open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (got >= 0 && got != fd) {  // a lower one was closed too and got it: move it
            ::dup2(got, fd);
            ::close(got);
        }
    }
}

int write_all(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

int write_all(int fd, const std::vector<std::string>& records) noexcept {
    std::array<iovec, max_batch> iov{};
    std::size_t first = 0;   // first record not fully written
    std::size_t offset = 0;  // bytes of it already written
    while (first < records.size()) {
        std::size_t n_iov = 0;
        for (std::size_t i = first; i < records.size() && n_iov < iov.size(); ++i) {
            const std::size_t skip = i == first ? offset : 0;
            if (records[i].size() == skip) continue;
            iov[n_iov].iov_base = const_cast<char*>(records[i].data() + skip);
            iov[n_iov].iov_len = records[i].size() - skip;
            ++n_iov;
        }
        if (n_iov == 0) return 0;
        const ssize_t n = ::writev(fd, iov.data(), static_cast<int>(n_iov));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        // Advance past what the kernel took.
        auto left = static_cast<std::size_t>(n);
        while (first < records.size()) {
            const std::size_t rest = records[first].size() - offset;
            if (left < rest) {
                offset += left;
                break;
            }
            left -= rest;
            ++first;
            offset = 0;
        }
    }
    return 0;
}

namespace {

bool is_regular_file(int fd) noexcept {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

stdout_writer::stdout_writer(int fd, std::size_t max_queue)
    : fd_(fd), max_queue_(max_queue), direct_(is_regular_file(fd)), thread_([this] { run(); }) {}

stdout_writer::~stdout_writer() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

bool stdout_writer::try_push(std::string record) {
    bool wake = false;
    {
        std::lock_guard lk(mu_);
        if (state_ != state::ok) return false;
        if (queue_.size() >= max_queue_) {
            space_wanted_ = true;  // the writer tells us when it made room
            return false;
        }
        queue_.push_back(std::move(record));
        wake = writer_sleeping_;
    }
    // Only a sleeping writer needs the futex wake; a busy one takes the record
    // with its next batch.
    if (wake) cv_.notify_one();
    return true;
}

bool stdout_writer::try_push_reusing(std::string& record) {
    bool wake = false;
    {
        std::lock_guard lk(mu_);
        if (state_ != state::ok) return false;
        if (direct_ && queue_.empty() && !busy_) {
            // A regular file takes a write into the page cache without waiting
            // for a reader, so an idle writer thread is not woken for it: the
            // wake-up and the thread switch cost more than the write (mq sub
            // behind mosquitto gets one message per read). Order holds: nothing
            // is queued or being written, and only this producer adds more.
            busy_ = true;
            const int err = write_all(fd_, std::string_view(record));
            busy_ = false;
            if (err != 0) {
                state_ = state::failed;
                errno_ = err;
                idle_cv_.notify_all();
                return false;
            }
            record.clear();
            return true;
        }
        if (queue_.size() >= max_queue_) {
            space_wanted_ = true;
            return false;
        }
        queue_.push_back(std::move(record));
        record.clear();
        if (!spare_.empty()) {
            record = std::move(spare_.back());
            spare_.pop_back();
        }
        wake = writer_sleeping_;
    }
    if (wake) cv_.notify_one();
    return true;
}

void stdout_writer::set_notify(std::function<void()> fn) {
    std::lock_guard lk(mu_);
    notify_ = std::move(fn);
}

void stdout_writer::flush() {
    std::unique_lock lk(mu_);
    idle_cv_.wait(lk, [this] { return (queue_.empty() && !busy_) || state_ != state::ok; });
}

stdout_writer::state stdout_writer::status() const {
    std::lock_guard lk(mu_);
    return state_;
}

int stdout_writer::error() const {
    std::lock_guard lk(mu_);
    return errno_;
}

void stdout_writer::run() {
    std::vector<std::string> batch;  // reused: no allocation per batch
    batch.reserve(max_batch);
    std::unique_lock lk(mu_);
    for (;;) {
        writer_sleeping_ = true;
        cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
        writer_sleeping_ = false;
        if (queue_.empty()) break;  // stop requested and everything written
        if (state_ != state::ok) {
            queue_.clear();
            continue;
        }
        // Take everything queued (up to a bound) and write it with one
        // writev: each record still goes out as soon as the writer gets to it,
        // but a writer that fell behind catches up with one syscall per batch
        // instead of one per message.
        while (!queue_.empty() && batch.size() < max_batch) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        busy_ = true;
        lk.unlock();
        const int err = write_all(fd_, batch);
        lk.lock();
        // Keep a few buffers for try_push_reusing; a record that grew past a
        // batch's usual size is freed instead of held.
        for (auto& b : batch) {
            if (spare_.size() >= max_spare || b.capacity() > max_spare_capacity) continue;
            b.clear();
            spare_.push_back(std::move(b));
        }
        batch.clear();
        busy_ = false;
        if (err != 0) {
            state_ = err == EPIPE ? state::closed : state::failed;
            errno_ = err;
            queue_.clear();
        }
        idle_cv_.notify_all();
        // Tell the producer only what it waits for (room after a full queue)
        // or must act on (closed/failed): a wake-up per batch would cost the
        // event loop a post and an eventfd write per message.
        const bool tell = err != 0 || space_wanted_;
        space_wanted_ = false;
        if (tell && notify_) {
            auto fn = notify_;
            lk.unlock();
            fn();
            lk.lock();
        }
    }
    idle_cv_.notify_all();
}

line_reader::line_reader(int fd, std::size_t max_line, std::size_t block_size)
    : fd_(fd), max_line_(max_line), block_(block_size) {
    buf_.resize(block_);
}

bool line_reader::fill() {
    if (eof_) return false;
    // Compact first so the buffer only grows for a line that needs it.
    if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        scan_ -= begin_;
        begin_ = 0;
    }
    if (buf_.size() - end_ < block_ / 2) {
        buf_.resize(buf_.size() + block_);
    }
    if (before_read_) before_read_();
    for (;;) {
        const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "reading stdin");
        }
        if (n == 0) {
            eof_ = true;
            return false;
        }
        end_ += static_cast<std::size_t>(n);
        return true;
    }
}

std::optional<line_reader::line> line_reader::next() {
    for (;;) {
        const char* base = buf_.data();
        const void* nl = scan_ < end_ ? std::memchr(base + scan_, '\n', end_ - scan_) : nullptr;
        if (nl != nullptr) {
            const auto pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
            const std::size_t start = begin_;
            begin_ = scan_ = pos + 1;
            if (discarding_) {  // tail of a line already reported as too long
                discarding_ = false;
                continue;
            }
            std::size_t len = pos - start;
            if (len > max_line_) {
                return line{std::string_view(base + start, 0), ++number_, true};
            }
            if (len > 0 && base[start + len - 1] == '\r') --len;
            return line{std::string_view(base + start, len), ++number_, false};
        }
        scan_ = end_;
        if (end_ - begin_ > max_line_) {
            // Report now and drop what we hold; the rest is skipped up to '\n'.
            const bool first = !discarding_;
            discarding_ = true;
            begin_ = scan_ = end_;
            if (first) return line{std::string_view(base + end_, 0), ++number_, true};
        }
        if (!fill()) {
            if (begin_ == end_ || discarding_) return std::nullopt;
            const std::size_t start = begin_;
            std::size_t len = end_ - begin_;
            begin_ = scan_ = end_;
            if (len > 0 && buf_[start + len - 1] == '\r') --len;
            return line{std::string_view(buf_.data() + start, len), ++number_,
                        false};
        }
    }
}

void read_all(int fd, std::vector<std::uint8_t>& out) {
    out.clear();
    std::size_t used = 0;
    for (;;) {
        if (out.size() - used < 65536) out.resize(used + 65536 * 4);
        const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), fd == 0 ? "reading stdin" : "reading input");
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    out.resize(used);
}

}  // namespace mq::tools
