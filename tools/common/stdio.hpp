// SPDX-License-Identifier: MIT
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mq::tools {

/// Ignores SIGPIPE so a closed stdout shows up as EPIPE (§1).
void ignore_sigpipe() noexcept;
/// Occupies closed descriptors 0-2 (hardening.md I09) so that no socket or file
/// opened later gets number 0 and is read as stdin; I/O on them still fails.
void reserve_standard_fds() noexcept;

/// Writes all of `data` to `fd` (one write(2) unless the kernel takes part of
/// it), retrying on EINTR. Returns 0 or the errno of the failure.
int write_all(int fd, std::string_view data) noexcept;
/// Writes every record in order with as few writev calls as the kernel allows;
/// 0 or the errno that stopped it (64 records per writev; short writes resumed).
int write_all(int fd, const std::vector<std::string>& records) noexcept;

/// Blocking writer thread for stdout with a bounded record queue: records are
/// written as soon as the thread gets to them, a backlog in one writev(2).
/// The reader leaving (EPIPE) makes the state `closed`; another error makes
/// it `failed` (exit 74).
class stdout_writer {
public:
    enum class state : std::uint8_t { ok, closed, failed };

    explicit stdout_writer(int fd = 1, std::size_t max_queue = 1024);
    /// Writes what is queued (unless closed/failed), then joins the thread.
    ~stdout_writer();
    stdout_writer(const stdout_writer&) = delete;
    stdout_writer& operator=(const stdout_writer&) = delete;

    /// Queues a record; false when the queue is full or the writer stopped.
    bool try_push(std::string record);
    /// As try_push, but on success `record` is moved in and replaced by an
    /// empty buffer the writer already used (its capacity kept), so a producer
    /// that batches into one string allocates nothing per batch.
    bool try_push_reusing(std::string& record);
    /// Called on the writer thread when room frees after a try_push found the
    /// queue full, or when the state changes.
    void set_notify(std::function<void()> fn);
    /// Blocks until every queued record is written or the writer stopped.
    void flush();
    state status() const;
    /// errno of the failure when status() is `failed`.
    int error() const;

private:
    void run();

    int fd_;
    std::size_t max_queue_;
    bool direct_;  // fd is a regular file: try_push_reusing writes inline when idle
    mutable std::mutex mu_;
    std::condition_variable cv_;       // wakes the writer
    std::condition_variable idle_cv_;  // wakes flush()
    std::deque<std::string> queue_;
    std::vector<std::string> spare_;  // written records' buffers, cleared, for try_push_reusing
    std::function<void()> notify_;
    state state_ = state::ok;
    int errno_ = 0;
    bool busy_ = false;
    bool stop_ = false;
    bool writer_sleeping_ = false;  // in cv_.wait: a push must wake it
    bool space_wanted_ = false;     // a try_push found the queue full
    std::thread thread_;
};

/// Reads a file descriptor in large blocks and yields lines without copying.
/// A line longer than `max_line` is reported once with `too_long` and the rest
/// of it is discarded, so memory stays bounded (hardening I04).
class line_reader {
public:
    struct line {
        std::string_view text;       // without '\n' and one trailing '\r'
        std::uint64_t number;        // 1-based
        bool too_long;
    };

    line_reader(int fd, std::size_t max_line, std::size_t block_size = std::size_t{1} << 20);
    /// The next line, valid until the next call; nullopt at end of input.
    /// Throws std::system_error on a read error.
    std::optional<line> next();
    /// Called before each read(2) that may block, e.g. to hand over buffered work.
    void set_before_read(std::function<void()> fn) { before_read_ = std::move(fn); }

private:
    bool fill();  // false at EOF

    int fd_;
    std::size_t max_line_;
    std::size_t block_;
    std::vector<char> buf_;
    std::size_t begin_ = 0, end_ = 0, scan_ = 0;
    std::uint64_t number_ = 0;
    bool eof_ = false;
    bool discarding_ = false;
    std::function<void()> before_read_;
};

/// Reads all of `fd` into `out`; throws std::system_error on a read error.
void read_all(int fd, std::vector<std::uint8_t>& out);

}  // namespace mq::tools
