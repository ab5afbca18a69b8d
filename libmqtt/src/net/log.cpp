// SPDX-License-Identifier: MIT
#include <mqtt/net/log.hpp>

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace mqtt::net {

const char* to_string(log_level l) noexcept {
    switch (l) {
        case log_level::error: return "error";
        case log_level::warn: return "warn";
        case log_level::info: return "info";
        case log_level::debug: return "debug";
        case log_level::trace: return "trace";
        case log_level::off: return "off";
    }
    return "?";
}

bool parse_log_level(std::string_view s, log_level& out) noexcept {
    static constexpr log_level all[] = {log_level::error, log_level::warn, log_level::info,
                                        log_level::debug, log_level::trace, log_level::off};
    for (auto l : all) {
        if (s == to_string(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

namespace {

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

// One write(2) per record so concurrent processes and threads never interleave lines.
void write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::write(STDERR_FILENO, s.data() + off, s.size() - off);
        if (n <= 0) return;  // stderr gone: logging must never fail the caller
        off += static_cast<std::size_t>(n);
    }
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);
                else out += static_cast<char>(c);
        }
    }
    return out;
}

class text_sink final : public log_sink {
public:
    explicit text_sink(bool colour) : colour_(colour) {}
    void write(const log_record& r) override {
        const char* on = "";
        const char* off = "";
        if (colour_) {
            on = r.level == log_level::error ? "\x1b[31m" : r.level == log_level::warn ? "\x1b[33m" : "\x1b[2m";
            off = "\x1b[0m";
        }
        std::string line = fmt::format("{} {}{}{} {}", utc_timestamp(r.time), on, to_string(r.level), off,
                                       r.component);
        if (!r.client_id.empty()) line += fmt::format(" [{}]", r.client_id);
        line += ' ';
        line += r.message;
        line += '\n';
        write_all(line);
    }

private:
    bool colour_;
};

class json_sink final : public log_sink {
public:
    void write(const log_record& r) override {
        write_all(fmt::format(R"({{"ts":"{}","level":"{}","component":"{}","client_id":"{}","msg":"{}"}})"
                              "\n",
                              utc_timestamp(r.time), to_string(r.level), json_escape(r.component),
                              json_escape(r.client_id), json_escape(r.message)));
    }
};

}  // namespace

std::shared_ptr<log_sink> make_stderr_text_sink(bool colour) { return std::make_shared<text_sink>(colour); }
std::shared_ptr<log_sink> make_stderr_json_sink() { return std::make_shared<json_sink>(); }

}  // namespace mqtt::net
