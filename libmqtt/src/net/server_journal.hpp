// SPDX-License-Identifier: MIT
#pragma once
// The persistence journal file (--persistence-dir): an append-only log of
// core::store records written by a dedicated thread, so the worker never
// blocks on the disk. The worker appends records to a buffer; flush() hands
// the buffer to the thread, which writes it (and with --fsync always
// fdatasyncs it) and then reports the sequence number now durable. The broker
// holds every outgoing packet until what was appended before it is durable,
// so no PUBACK/PUBREC/PUBCOMP (and no delivery) gets ahead of its record.
// No Asio here: the durable callback is the caller's to post.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <atomic>
#include <vector>

#include <mqtt/core/store_record.hpp>
#include <mqtt/net/log.hpp>

namespace mqtt::net::detail {

struct journal_stats {
    std::uint64_t records = 0;      // appended
    std::uint64_t writes = 0;       // batches written
    std::uint64_t syncs = 0;        // fdatasync calls
    std::uint64_t compactions = 0;  // snapshots that replaced the log
    std::uint64_t write_errors = 0;
};

class journal {
public:
    struct options {
        std::string dir;
        bool fsync_always = false;                 // fdatasync before acks, else each interval
        std::chrono::milliseconds interval{1000};  // fdatasync period of "interval"
    };
    /// `on_durable(seq)` runs on the journal thread after records up to `seq`
    /// reached the file (and the disk when fsync_always): post it to the worker.
    journal(options o, logger& log, std::function<void(std::uint64_t)> on_durable);
    ~journal();
    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;

    /// Creates the directory (0700) if needed, locks it, reads the journal and
    /// gives each good record to `on_record`. A torn or corrupt tail is cut off
    /// with a warning; damage before the tail, a foreign file or a directory in
    /// use throws persistence_error (exit 65). Then starts the thread.
    void open(const std::function<void(const core::store::record&)>& on_record);

    // Worker thread only.
    void append(const core::store::record& r);
    /// Hands the appended bytes to the journal thread; false when there were none.
    bool flush();
    std::uint64_t appended() const noexcept { return appended_; }
    /// The last appended record that a packet may depend on: every record but
    /// `done` (losing one only repeats a QoS 1 delivery or a PUBREL), so a
    /// subscriber's acknowledgements do not hold what the broker sends it next.
    std::uint64_t dependency() const noexcept { return dependency_; }
    std::uint64_t durable() const noexcept { return durable_; }
    void set_durable(std::uint64_t seq) noexcept {
        if (seq > durable_) durable_ = seq;
    }
    bool all_durable() const noexcept { return durable_ >= appended_ && pending_.empty(); }
    /// The last write failed (disk full, I/O error): QoS 1/2 and retained
    /// PUBLISH are refused until a write succeeds again (hardening S15).
    bool failing() const noexcept { return failing_.load(std::memory_order_relaxed); }
    /// Bytes in the journal file (approximate, for the compaction trigger).
    std::uint64_t file_bytes() const noexcept { return file_bytes_.load(std::memory_order_relaxed); }
    /// Replaces the log with `snapshot` (records only, no magic) describing all
    /// state up to the records appended so far: written to a new file on the
    /// journal thread, fsynced and renamed over the old one.
    void compact(std::vector<std::uint8_t> snapshot);
    bool compacting() const noexcept { return compacting_.load(std::memory_order_relaxed); }
    /// Writes and syncs everything, then stops the thread (shutdown).
    void close();
    journal_stats stats() const;

private:
    struct batch {
        std::vector<std::uint8_t> bytes;
        std::size_t written = 0;
        std::uint64_t seq = 0;
        bool snapshot = false;  // replaces the file
    };
    void run();
    bool write_batch(batch& b);
    bool replace_with(const batch& b);
    void sync();

    options opts_;
    logger& log_;
    std::function<void(std::uint64_t)> on_durable_;
    std::string path_;
    int fd_ = -1, lock_fd_ = -1;

    // Worker side.
    std::vector<std::uint8_t> pending_;
    std::uint64_t appended_ = 0, durable_ = 0, dependency_ = 0;

    // Shared with the thread.
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<batch> queue_;
    bool stop_ = false;
    journal_stats stats_;
    std::atomic<bool> failing_{false}, compacting_{false};
    std::atomic<std::uint64_t> file_bytes_{0};
    std::thread thread_;
};

}  // namespace mqtt::net::detail
