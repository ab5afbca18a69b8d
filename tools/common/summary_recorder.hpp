// SPDX-License-Identifier: MIT
#pragma once
// Collects the §5.6 summary while `mq sub`, `mq pub` or `mq rr` runs, and
// writes it once at exit. The run function records what it sees; main()
// records a thrown error and writes the summary with the real exit status,
// so the summary appears whatever ended the run (goal, timer, signal, error).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <mqtt/codec/packets.hpp>

#include "common/summary.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace mq::tools {

enum class stop_reason : std::uint8_t;
class rollcall;

/// `--summary text|json` and `--summary-file PATH`, kept as text and checked
/// when the run starts (so a config-file value is reported against the file).
struct summary_options {
    std::string format;
    std::string file;
    void add_to(CLI::App& app);
};

class summary_recorder {
public:
    explicit summary_recorder(std::string command);

    run_summary& data() noexcept { return data_; }
    message_counts& messages() noexcept { return data_.messages; }
    /// Switches on the pub/rr counters (published, acked, failed).
    publish_counts& publishing();

    /// Connect timing starts here (call right before connecting).
    void connect_started();
    void connected(const mqtt::connack& ack);
    /// The broker refused the CONNECT with `reason`.
    void connect_refused(std::uint8_t reason);
    bool is_connected() const noexcept { return connected_; }

    void subscribed(const std::vector<mqtt::subscription>& subs, const mqtt::suback& ack);
    /// The SUBACK refusals ended the run with `status` (76/77): records the
    /// refusal that explains it (0x87 for 77, else the first).
    void subscribe_failed(int status);
    void set_rollcall(const rollcall& r);
    void add_latency_ms(double ms);
    /// A publish acknowledgement: success counts as acked, >= 0x80 (or 0x10
    /// with `no_subscribers_fails`) as failed.
    void publish_acked(std::uint8_t reason, bool no_subscribers_fails);

    /// What ended the run; a later call overrides (the last word decides the exit).
    void end(summary_end e) noexcept { data_.ended_by = e; }
    /// The run was stopped by the command runner.
    void stopped(stop_reason r) noexcept;
    /// The first failure that was reported without an exception.
    void failure(int status, std::optional<std::uint8_t> reason, std::string message);

private:
    run_summary data_;
    std::optional<std::chrono::steady_clock::time_point> connect_start_;
    bool connected_ = false;

    friend void summary_note_error(std::error_code ec, std::string_view message, int status);
};

/// Starts this run's summary (one per process). Throws
/// std::system_error(tool_error::usage) for a bad --summary value.
summary_recorder& begin_summary(const summary_options& opts, std::string command);

/// main(): the run ended with this error (printed as `message`).
void summary_note_error(std::error_code ec, std::string_view message, int status);

/// main(): writes the summary if the run asked for one; returns `status`,
/// or 74 when the summary could not be written.
int finish_summary(int status) noexcept;

}  // namespace mq::tools
