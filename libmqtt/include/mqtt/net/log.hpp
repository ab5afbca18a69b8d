// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace mqtt::net {

enum class log_level : std::uint8_t { error = 0, warn, info, debug, trace, off = 255 };

const char* to_string(log_level l) noexcept;
/// Parses "error|warn|info|debug|trace|off"; false on anything else.
bool parse_log_level(std::string_view s, log_level& out) noexcept;

struct log_record {
    std::chrono::system_clock::time_point time;
    log_level level;
    std::string_view component;  // "broker", "client", "tls", ...
    std::string_view client_id;  // empty when not about one client
    std::string_view message;
};

/// Where log records go. Implementations must be thread-safe.
class log_sink {
public:
    virtual ~log_sink() = default;
    virtual void write(const log_record& r) = 0;
};

/// A sink plus a level, passed by value in options; no global logger. The
/// default has no sink and logs nothing.
struct logger {
    std::shared_ptr<log_sink> sink;
    log_level level = log_level::off;
    bool enabled(log_level l) const noexcept {
        return sink && level != log_level::off && l <= level;
    }
};

/// Text lines "2026-03-01T12:00:00.123Z warn broker [id] message" to stderr;
/// colour only when asked. One write(2) per record.
std::shared_ptr<log_sink> make_stderr_text_sink(bool colour);
/// JSON lines {"ts":..,"level":..,"component":..,"client_id":..,"msg":..} to stderr.
std::shared_ptr<log_sink> make_stderr_json_sink();

}  // namespace mqtt::net

/// Formats only when the level is enabled.
#define MQ_LOG(log, lvl, component, client_id, ...)                                        \
    do {                                                                                   \
        if ((log).enabled(lvl)) {                                                          \
            const std::string mq_log_msg_ = fmt::format(__VA_ARGS__);                      \
            (log).sink->write(::mqtt::net::log_record{std::chrono::system_clock::now(),     \
                                                      (lvl), (component), (client_id),     \
                                                      mq_log_msg_});                       \
        }                                                                                  \
    } while (0)
