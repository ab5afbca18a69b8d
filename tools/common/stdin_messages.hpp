// SPDX-License-Identifier: MIT
#pragma once
// `mq pub -l` and `--ndjson` input (cli-contract.md §4): a thread reads stdin,
// turns lines into PUBLISH messages and hands them to the io thread in
// batches through a bounded queue, so reading pauses while the window is full.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mq::tools {

enum class line_mode : std::uint8_t { lines, ndjson };

// Parsed messages travel from the stdin thread to the io thread in batches so
// the hand-off cost is paid per batch, not per message.
struct batch {
    std::vector<mqtt::publish> msgs;
    std::size_t bytes = 0;
};

// Bounded queue between the stdin thread and the io thread. When it is full
// the reader blocks, so reading stdin pauses while the window is full.
class batch_queue {
public:
    explicit batch_queue(std::size_t capacity) : capacity_(capacity) {}

    void set_notify(std::function<void()> fn) {
        std::lock_guard lk(mu_);
        notify_ = std::move(fn);
    }
    bool push(batch b) {
        std::function<void()> fn;
        {
            std::unique_lock lk(mu_);
            space_.wait(lk, [this] { return closed_ || q_.size() < capacity_; });
            if (closed_) return false;
            q_.push_back(std::move(b));
            fn = notify_;
        }
        if (fn) fn();
        return true;
    }
    std::optional<batch> try_pop() {
        std::lock_guard lk(mu_);
        if (q_.empty()) return std::nullopt;
        batch b = std::move(q_.front());
        q_.pop_front();
        space_.notify_one();
        return b;
    }
    /// Producer is done: 0 at end of input, or the exit status that stopped it.
    void finish(int status, std::uint64_t bad_lines) {
        std::function<void()> fn;
        {
            std::lock_guard lk(mu_);
            done_ = true;
            status_ = status;
            bad_lines_ = bad_lines;
            fn = notify_;
        }
        if (fn) fn();
    }
    /// Consumer stops the producer (strict failure, signal, lost connection).
    void close() {
        std::lock_guard lk(mu_);
        closed_ = true;
        space_.notify_all();
    }
    bool drained() const {
        std::lock_guard lk(mu_);
        return done_ && q_.empty();
    }
    int status() const {
        std::lock_guard lk(mu_);
        return status_;
    }
    std::string error_text() const {
        std::lock_guard lk(mu_);
        return error_;
    }
    void set_error_text(std::string e) {
        std::lock_guard lk(mu_);
        error_ = std::move(e);
    }

private:
    mutable std::mutex mu_;
    std::condition_variable space_;
    std::deque<batch> q_;
    std::size_t capacity_;
    std::function<void()> notify_;
    bool closed_ = false, done_ = false;
    int status_ = 0;
    std::uint64_t bad_lines_ = 0;
    std::string error_;
};

struct reader_config {
    line_mode mode = line_mode::lines;
    std::string default_topic;
    mqtt::qos level = mqtt::qos::at_most_once;
    bool retain = false;
    std::size_t max_line = 16u << 20;
    bool allow_empty = false;
    bool strict = false;
};

/// Body of the stdin thread: lines -> PUBLISH batches into `q` until end of
/// input, a --strict bad line (65) or a read error (74); then q->finish().
void read_stdin(std::shared_ptr<batch_queue> q, reader_config cfg);

}  // namespace mq::tools
