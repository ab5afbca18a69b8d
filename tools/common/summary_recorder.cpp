// SPDX-License-Identifier: MIT
#include "common/summary_recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <mqtt/codec/reason.hpp>
#include <mqtt/net/errors.hpp>

#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/rollcall.hpp"
#include "common/session.hpp"
#include "common/stdio.hpp"

namespace mq::tools {
namespace {
using clock = std::chrono::steady_clock;

// Static initialisation runs before main(): elapsed_s counts from process
// start, like -W.
const clock::time_point process_start = clock::now();

struct active_summary {
    summary_options opts;
    summary_recorder recorder;
};
std::unique_ptr<active_summary>& active() {
    static std::unique_ptr<active_summary> a;
    return a;
}

double ms_since(clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }

// The integer CONNACK properties are exactly the limits a broker advertises
// (spec 3.2.2.3), listed here in property id order.
constexpr std::array<std::pair<mqtt::property_id, const char*>, 10> connack_limits{{
    {mqtt::property_id::session_expiry_interval, "session_expiry_interval"},
    {mqtt::property_id::server_keep_alive, "server_keep_alive"},
    {mqtt::property_id::receive_maximum, "receive_maximum"},
    {mqtt::property_id::topic_alias_maximum, "topic_alias_maximum"},
    {mqtt::property_id::maximum_qos, "maximum_qos"},
    {mqtt::property_id::retain_available, "retain_available"},
    {mqtt::property_id::maximum_packet_size, "maximum_packet_size"},
    {mqtt::property_id::wildcard_subscription_available, "wildcard_subscription_available"},
    {mqtt::property_id::subscription_identifier_available, "subscription_identifier_available"},
    {mqtt::property_id::shared_subscription_available, "shared_subscription_available"},
}};

// An error after the CONNACK that means the connection went away (or the
// broker ended it with DISCONNECT) rather than a local failure.
bool is_connection_loss(std::error_code ec) {
    if (ec.category() == mqtt::reason_category()) return true;  // broker DISCONNECT
    if (ec.category() == mqtt::net::net_category()) {
        using mqtt::net::net_error;
        const auto e = static_cast<net_error>(ec.value());
        return e == net_error::connection_lost || e == net_error::closed || e == net_error::keepalive_timeout;
    }
    return ec == std::errc::connection_reset;
}

int write_summary(const summary_options& opts, const run_summary& s) {
    const std::string text = opts.format == "text" ? render_summary_text(s) : render_summary_json(s);
    if (opts.file.empty()) return write_all(2, text);
    const int fd = ::open(opts.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    int err = write_all(fd, text);
    if (::close(fd) != 0 && err == 0) err = errno;
    return err;
}

}  // namespace

void summary_options::add_to(CLI::App& app) {
    app.add_option("--summary", format, "At exit, print a run summary (text or json) on stderr");
    app.add_option("--summary-file", file, "Write the run summary to PATH instead (json unless --summary text)");
}

summary_recorder::summary_recorder(std::string command) { data_.command = std::move(command); }

publish_counts& summary_recorder::publishing() {
    if (!data_.publishing) data_.publishing.emplace();
    return *data_.publishing;
}

void summary_recorder::connect_started() { connect_start_ = clock::now(); }

void summary_recorder::connected(const mqtt::connack& ack) {
    connected_ = true;
    connect_summary c;
    if (connect_start_) c.connack_ms = ms_since(*connect_start_);
    c.session_present = ack.session_present;
    c.reason_code = static_cast<std::uint8_t>(ack.reason_code);
    if (const auto* id = ack.props.get_string(mqtt::property_id::assigned_client_identifier)) c.assigned_client_id = *id;
    for (const auto& [id, name] : connack_limits) {
        if (auto v = ack.props.get_int(id)) c.limits.emplace_back(name, *v);
    }
    data_.connect = std::move(c);
}

void summary_recorder::connect_refused(std::uint8_t reason) {
    connect_summary c;
    if (connect_start_) c.connack_ms = ms_since(*connect_start_);
    c.reason_code = reason;
    data_.connect = std::move(c);
}

void summary_recorder::subscribed(const std::vector<mqtt::subscription>& subs, const mqtt::suback& ack) {
    for (std::size_t i = 0; i < subs.size() && i < ack.reason_codes.size(); ++i)
        data_.subscriptions.push_back({subs[i].filter, static_cast<std::uint8_t>(ack.reason_codes[i])});
}

void summary_recorder::subscribe_failed(int status) {
    const subscription_summary* why = nullptr;
    for (const auto& s : data_.subscriptions) {
        if (s.reason_code < 0x80) continue;
        if (why == nullptr || (status == exit_status::not_authorized && s.reason_code == 0x87 &&
                               why->reason_code != 0x87))
            why = &s;
    }
    if (why == nullptr) return;
    failure(status, why->reason_code,
            fmt::format("subscription to '{}' refused: 0x{:02X} {}", why->filter, why->reason_code,
                        mqtt::reason_name(why->reason_code)));
}

void summary_recorder::set_rollcall(const rollcall& r) {
    data_.rollcall = rollcall_summary{r.expected(), r.seen(), r.missing()};
}

void summary_recorder::add_latency_ms(double ms) {
    if (!data_.latency_ms) data_.latency_ms.emplace();
    data_.latency_ms->push_back(ms);
}

void summary_recorder::publish_acked(std::uint8_t reason, bool no_subscribers_fails) {
    auto& p = publishing();
    const bool failed = reason >= 0x80 || (no_subscribers_fails && reason == 0x10);
    if (failed) ++p.failed[reason];
    else ++p.acked;
}

void summary_recorder::stopped(stop_reason r) noexcept {
    switch (r) {
    case stop_reason::timeout: end(summary_end::timeout); break;
    case stop_reason::signal: end(summary_end::signal); break;
    case stop_reason::stdout_closed: end(summary_end::stdout_closed); break;
    case stop_reason::output_error: end(summary_end::error); break;
    case stop_reason::none: break;
    }
}

void summary_recorder::failure(int status, std::optional<std::uint8_t> reason, std::string message) {
    if (data_.error) return;
    data_.error = error_summary{std::string(exit_kind_name(status)), reason, std::move(message)};
}

summary_recorder& begin_summary(const summary_options& opts, std::string command) {
    if (!opts.format.empty() && opts.format != "text" && opts.format != "json")
        throw std::system_error(tool_error::usage, "--summary must be text or json");
    active() = std::make_unique<active_summary>(active_summary{opts, summary_recorder(std::move(command))});
    return active()->recorder;
}

void summary_note_error(std::error_code ec, std::string_view message, int status) {
    auto& a = active();
    if (!a) return;
    auto& rec = a->recorder;
    if (status == exit_status::ok) {
        rec.end(summary_end::stdout_closed);  // EPIPE: the reader left (§1)
        return;
    }
    std::optional<std::uint8_t> reason;
    if (ec.category() == mqtt::reason_category()) reason = static_cast<std::uint8_t>(ec.value());
    // A refusal before any CONNACK came in is the CONNACK's reason code.
    if (reason && !rec.connected_ && rec.connect_start_) rec.connect_refused(*reason);
    const bool internal = status == exit_status::check_failed && ec.category() != tool_category();
    rec.failure(status, reason, std::string(message));
    if (internal) rec.data_.error->kind = "internal";
    if (rec.data_.ended_by == summary_end::none)
        rec.end(rec.connected_ && is_connection_loss(ec) ? summary_end::connection_lost : summary_end::error);
}

int finish_summary(int status) noexcept {
    auto& a = active();
    if (!a || (a->opts.format.empty() && a->opts.file.empty())) return status;
    try {
        auto& s = a->recorder.data();
        s.exit_code = status;
        s.elapsed_s = std::chrono::duration<double>(clock::now() - process_start).count();
        if (s.ended_by == summary_end::none) s.ended_by = status == 0 ? summary_end::goal : summary_end::error;
        if (const int err = write_summary(a->opts, s); err != 0) {
            print_error(fmt::format("error: cannot write the summary{}: {}",
                                    a->opts.file.empty() ? "" : " to '" + a->opts.file + "'", std::strerror(err)));
            return exit_status::io;
        }
    } catch (const std::exception& e) {
        print_error(fmt::format("error: cannot write the summary: {}", e.what()));
        return exit_status::io;
    }
    return status;
}

}  // namespace mq::tools
