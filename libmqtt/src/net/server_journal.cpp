// SPDX-License-Identifier: MIT
// The persistence journal file and its writer thread (server_journal.hpp).
#include "server_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstring>

#include <mqtt/net/server.hpp>

namespace mqtt::net::detail {
namespace {

constexpr const char* component = "persist";
// A failed write is retried this often: the broker recovers when space returns.
constexpr std::chrono::milliseconds retry_interval{500};

std::string errno_text(int e) {
    return std::strerror(e);
}

bool write_all(int fd, const std::uint8_t* p, std::size_t n, std::size_t& done, int& err) {
    while (done < n) {
        const ssize_t w = ::write(fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            err = errno;
            return false;
        }
        done += static_cast<std::size_t>(w);
    }
    return true;
}

void fsync_dir(const std::string& dir) {
    const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return;
    ::fsync(d);
    ::close(d);
}

}  // namespace

journal::journal(options o, logger& log, std::function<void(std::uint64_t)> on_durable)
    : opts_(std::move(o)), log_(log), on_durable_(std::move(on_durable)), path_(opts_.dir + "/journal") {}

journal::~journal() {
    close();
    if (fd_ >= 0) ::close(fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

void journal::open(const std::function<void(const core::store::record&)>& on_record) {
    // A write past RLIMIT_FSIZE must fail with EFBIG, not kill the broker.
    std::signal(SIGXFSZ, SIG_IGN);
    if (::mkdir(opts_.dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw persistence_error("persistence directory " + opts_.dir + ": " + errno_text(errno));
    struct stat st{};
    if (::stat(opts_.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw persistence_error("persistence directory " + opts_.dir + ": not a directory");
    if ((st.st_mode & 077) != 0)  // hardening H08 / CVE-2017-9868
        MQ_LOG(log_, log_level::warn, component, "", "{} is readable by others (mode {:o}); it should be 0700",
               opts_.dir, st.st_mode & 0777);
    lock_fd_ = ::open((opts_.dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
        throw persistence_error("persistence directory " + opts_.dir + " is in use by another broker");

    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw persistence_error(path_ + ": " + errno_text(errno));
    std::vector<std::uint8_t> data;
    {
        struct stat fs{};
        ::fstat(fd_, &fs);
        data.resize(static_cast<std::size_t>(fs.st_size));
        std::size_t got = 0;
        while (got < data.size()) {
            const ssize_t r = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) throw persistence_error(path_ + ": read failed: " + errno_text(r < 0 ? errno : EIO));
            got += static_cast<std::size_t>(r);
        }
    }
    const auto res = core::store::scan_journal(data, on_record);
    using core::store::scan_status;
    switch (res.status) {
        case scan_status::clean:
            break;
        case scan_status::torn_tail:
        case scan_status::corrupt_tail:
            // A crash during a write leaves a partial last batch: nothing in it
            // was acknowledged (acks wait for the write), so it is cut off.
            MQ_LOG(log_, log_level::warn, component, "",
                   "{}: {} tail at byte {} of {} ({} good records kept); truncated", path_,
                   res.status == scan_status::torn_tail ? "torn" : "corrupt", res.good_bytes, data.size(),
                   res.records);
            break;
        case scan_status::corrupt_middle:
            throw persistence_error(path_ + ": corrupt record at byte " + std::to_string(res.good_bytes) +
                                    " followed by good ones: refusing to start (move the file away to start empty)");
        case scan_status::bad_magic:
            throw persistence_error(path_ + ": not an mq journal");
    }
    std::size_t keep = res.good_bytes;
    if (keep == 0) {
        // New (or cut inside the magic): start the file with its magic.
        if (::ftruncate(fd_, 0) != 0) throw persistence_error(path_ + ": cannot truncate: " + errno_text(errno));
        std::size_t done = 0;
        int err = 0;
        const auto* m = reinterpret_cast<const std::uint8_t*>(core::store::journal_magic.data());
        if (!write_all(fd_, m, core::store::journal_magic.size(), done, err) || ::fdatasync(fd_) != 0)
            throw persistence_error(path_ + ": " + errno_text(err ? err : errno));
        fsync_dir(opts_.dir);
        keep = done;
    } else if (keep < data.size()) {
        if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0 || ::fdatasync(fd_) != 0)
            throw persistence_error(path_ + ": cannot truncate: " + errno_text(errno));
    }
    ::lseek(fd_, static_cast<off_t>(keep), SEEK_SET);
    file_bytes_ = keep;
    MQ_LOG(log_, log_level::info, component, "", "{}: {} records replayed ({} bytes), fsync {}", path_, res.records,
           keep, opts_.fsync_always ? "always" : "interval");
    thread_ = std::thread([this] { run(); });
}

void journal::append(const core::store::record& r) {
    if (pending_.empty()) pending_.reserve(4096);
    if (!core::store::encode_record(r, pending_)) {
        MQ_LOG(log_, log_level::warn, component, r.client_id, "record type {} cannot be encoded; not stored",
               static_cast<int>(r.type));
        return;
    }
    ++appended_;
    if (r.type != core::store::record_type::done) dependency_ = appended_;
}

bool journal::flush() {
    if (pending_.empty()) return false;
    batch b;
    b.bytes.swap(pending_);
    b.seq = appended_;
    {
        std::lock_guard lk(mu_);
        queue_.push_back(std::move(b));
    }
    cv_.notify_one();
    return true;
}

void journal::compact(std::vector<std::uint8_t> snapshot) {
    flush();  // records before the snapshot point belong to the old file
    batch b;
    b.bytes.reserve(core::store::journal_magic.size() + snapshot.size());
    b.bytes.assign(core::store::journal_magic.begin(), core::store::journal_magic.end());
    b.bytes.insert(b.bytes.end(), snapshot.begin(), snapshot.end());
    b.seq = appended_;
    b.snapshot = true;
    compacting_ = true;
    {
        std::lock_guard lk(mu_);
        queue_.push_back(std::move(b));
    }
    cv_.notify_one();
}

void journal::close() {
    if (!thread_.joinable()) return;
    flush();
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
    const auto s = stats();
    MQ_LOG(log_, log_level::info, component, "", "closed: {} records in {} writes, {} fsyncs, {} compactions",
           appended_, s.writes, s.syncs, s.compactions);
}

journal_stats journal::stats() const {
    std::lock_guard lk(mu_);
    auto s = stats_;
    s.records = appended_;
    return s;
}

void journal::sync() {
    if (::fdatasync(fd_) == 0) {
        std::lock_guard lk(mu_);
        ++stats_.syncs;
    }
}

bool journal::write_batch(batch& b) {
    int err = 0;
    const std::size_t before = b.written;
    const bool ok = write_all(fd_, b.bytes.data(), b.bytes.size(), b.written, err);
    file_bytes_.fetch_add(b.written - before, std::memory_order_relaxed);
    if (ok) return true;
    // hardening S15: say so once per failure spell, keep the bytes, retry.
    if (!failing_.exchange(true))
        MQ_LOG(log_, log_level::error, component, "",
               "cannot write {}: {}; QoS 1/2 and retained PUBLISH are refused and acknowledgements held until "
               "a write succeeds",
               path_, errno_text(err));
    std::lock_guard lk(mu_);
    ++stats_.write_errors;
    return false;
}

bool journal::replace_with(const batch& b) {
    // Compaction: the snapshot goes to a new file, made durable, then renamed
    // over the log, so a crash at any point leaves one complete journal.
    const std::string tmp = path_ + ".compact";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::size_t done = 0;
    int err = 0;
    bool ok = fd >= 0 && write_all(fd, b.bytes.data(), b.bytes.size(), done, err) && ::fdatasync(fd) == 0;
    if (!ok && err == 0) err = errno;
    if (ok && ::rename(tmp.c_str(), path_.c_str()) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        MQ_LOG(log_, log_level::warn, component, "", "compaction failed: {}; the log is kept", errno_text(err));
        return false;
    }
    fsync_dir(opts_.dir);
    ::fdatasync(fd_);  // nothing of the old file is needed any more, but finish cleanly
    ::close(fd_);
    fd_ = fd;
    file_bytes_ = b.bytes.size();
    MQ_LOG(log_, log_level::info, component, "", "compacted {} to {} bytes", path_, b.bytes.size());
    std::lock_guard lk(mu_);
    ++stats_.compactions;
    return true;
}

void journal::run() {
    auto last_sync = std::chrono::steady_clock::now();
    bool unsynced = false;
    for (;;) {
        std::deque<batch> work;
        bool stopping = false;
        {
            std::unique_lock lk(mu_);
            const auto wake = [&] { return stop_ || !queue_.empty(); };
            if (opts_.fsync_always || !unsynced)
                cv_.wait(lk, wake);
            else
                cv_.wait_until(lk, last_sync + opts_.interval, wake);
            work.swap(queue_);
            stopping = stop_;
        }
        std::uint64_t durable = 0;
        bool failed = false;
        while (!work.empty()) {
            batch& b = work.front();
            if (b.snapshot) {
                // Everything before the snapshot is in it: no need to sync the old file first.
                replace_with(b);
                compacting_ = false;
                unsynced = false;
                last_sync = std::chrono::steady_clock::now();
            } else {
                if (!write_batch(b)) {
                    failed = true;
                    break;
                }
                {
                    std::lock_guard lk(mu_);
                    ++stats_.writes;
                }
                unsynced = true;
            }
            durable = std::max(durable, b.seq);
            work.pop_front();
        }
        if (unsynced && (opts_.fsync_always || stopping ||
                         std::chrono::steady_clock::now() - last_sync >= opts_.interval)) {
            sync();
            unsynced = false;
            last_sync = std::chrono::steady_clock::now();
        }
        if (durable > 0) {
            if (!failed && failing_.exchange(false))
                MQ_LOG(log_, log_level::warn, component, "", "writing {} again; acknowledgements resume", path_);
            on_durable_(durable);
        }
        if (failed) {
            // Put the rest back in front and retry after a pause (or give up at shutdown).
            std::unique_lock lk(mu_);
            while (!work.empty()) {
                queue_.push_front(std::move(work.back()));
                work.pop_back();
            }
            if (stop_) {
                MQ_LOG(log_, log_level::error, component, "", "shutting down with {} unwritten batches",
                       queue_.size());
                return;
            }
            cv_.wait_for(lk, retry_interval, [&] { return stop_; });
            continue;
        }
        if (stopping) return;
    }
}

}  // namespace mqtt::net::detail
