// SPDX-License-Identifier: MIT
#include "common/summary.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <mqtt/codec/reason.hpp>

#include "common/exit_codes.hpp"

namespace mq::tools {
namespace {

using json = nlohmann::ordered_json;

// Rounded to microseconds (of the unit given) so the JSON is not full of
// float noise; nlohmann prints the shortest form that reads back the same.
double round6(double v) { return std::round(v * 1e6) / 1e6; }

json reason_or_null(const std::optional<std::uint8_t>& r) {
    return r ? json(mqtt::reason_name(*r)) : json(nullptr);
}

json connect_json(const connect_summary& c) {
    json j;
    j["timings"] = json{{"connack_ms", round6(c.connack_ms)}};
    j["session_present"] = c.session_present;
    j["reason_code"] = c.reason_code;
    j["assigned_client_id"] = c.assigned_client_id ? json(*c.assigned_client_id) : json(nullptr);
    json limits = json::object();
    for (const auto& [name, value] : c.limits) limits[name] = value;
    j["limits"] = std::move(limits);
    return j;
}

std::string reason_text(std::uint8_t r) { return fmt::format("0x{:02X} {}", r, mqtt::reason_name(r)); }

}  // namespace

std::string_view summary_end_name(summary_end e) noexcept {
    switch (e) {
    case summary_end::none: return "";
    case summary_end::count: return "count";
    case summary_end::goal: return "goal";
    case summary_end::duration: return "duration";
    case summary_end::idle: return "idle";
    case summary_end::timeout: return "timeout";
    case summary_end::wait_first: return "wait_first";
    case summary_end::signal: return "signal";
    case summary_end::stdout_closed: return "stdout_closed";
    case summary_end::connection_lost: return "connection_lost";
    case summary_end::fail_on: return "fail_on";
    case summary_end::error: return "error";
    }
    return "";
}

std::string_view exit_kind_name(int exit_status) noexcept {
    switch (exit_status) {
    case exit_status::ok: return "ok";
    case exit_status::check_failed: return "check_failed";
    case exit_status::usage: return "usage";
    case exit_status::data: return "data";
    case exit_status::no_input: return "no_input";
    case exit_status::no_host: return "no_host";
    case exit_status::unavailable: return "unavailable";
    case exit_status::io: return "io";
    case exit_status::protocol: return "protocol";
    case exit_status::not_authorized: return "not_authorized";
    case exit_status::config: return "config";
    case exit_status::timeout: return "timeout";
    case exit_status::interrupted: return "interrupted";
    default: break;
    }
    return "internal";
}

std::string render_summary_json(const run_summary& s) {
    json j;
    j["type"] = "summary";
    j["command"] = s.command;
    j["exit_code"] = s.exit_code;
    j["ended_by"] = s.ended_by == summary_end::none ? json(nullptr) : json(summary_end_name(s.ended_by));
    j["elapsed_s"] = round6(s.elapsed_s);
    j["connect"] = s.connect ? connect_json(*s.connect) : json(nullptr);
    json subs = json::array();
    for (const auto& sub : s.subscriptions) subs.push_back(json{{"filter", sub.filter}, {"reason_code", sub.reason_code}});
    j["subscriptions"] = std::move(subs);
    const auto& m = s.messages;
    j["messages"] = json{{"received", m.received}, {"printed", m.printed}, {"retained", m.retained},
                         {"excluded", m.excluded}, {"matched", m.matched}};
    if (s.rollcall) {
        j["rollcall"] = json{{"expected", s.rollcall->expected}, {"seen", s.rollcall->seen},
                             {"missing", s.rollcall->missing}};
    } else {
        j["rollcall"] = nullptr;
    }
    if (s.error) {
        j["error"] = json{{"kind", s.error->kind},
                          {"reason_code", s.error->reason_code ? json(*s.error->reason_code) : json(nullptr)},
                          {"reason", reason_or_null(s.error->reason_code)},
                          {"message", s.error->message}};
    } else {
        j["error"] = nullptr;
    }
    if (s.publishing) {
        j["published"] = s.publishing->published;
        j["acked"] = s.publishing->acked;
        json failed = json::array();
        for (const auto& [code, n] : s.publishing->failed)
            failed.push_back(json{{"reason_code", code}, {"reason", mqtt::reason_name(code)}, {"count", n}});
        j["failed"] = std::move(failed);
    }
    if (s.latency_ms) {
        json lat = json::array();
        for (double v : *s.latency_ms) lat.push_back(round6(v));
        j["latency_ms"] = std::move(lat);
    }
    // Topics and messages may hold bytes that are not UTF-8 (a broker's
    // error text): replace them rather than throw at exit.
    return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_summary_text(const run_summary& s) {
    std::string out = fmt::format("mq {} summary: exit {} ({}) after {:.3f} s\n", s.command, s.exit_code,
                                  s.ended_by == summary_end::none ? "unknown" : summary_end_name(s.ended_by),
                                  s.elapsed_s);
    if (s.connect) {
        const auto& c = *s.connect;
        out += fmt::format("  connect: CONNACK {} after {:.3f} ms, session present: {}", reason_text(c.reason_code),
                           c.connack_ms, c.session_present ? "yes" : "no");
        if (c.assigned_client_id) out += fmt::format(", assigned client id: {}", *c.assigned_client_id);
        out += "\n";
        if (!c.limits.empty()) {
            out += "  broker limits:";
            for (const auto& [name, value] : c.limits) out += fmt::format(" {}={}", name, value);
            out += "\n";
        }
    } else {
        out += "  connect: no CONNACK\n";
    }
    for (const auto& sub : s.subscriptions)
        out += fmt::format("  subscription: {} -> {}\n", sub.filter, reason_text(sub.reason_code));
    const auto& m = s.messages;
    if (!s.publishing || m.received > 0) {
        out += fmt::format("  messages: received {}, printed {}, retained {}, excluded {}, matched {}\n", m.received,
                           m.printed, m.retained, m.excluded, m.matched);
    }
    if (s.rollcall) {
        out += fmt::format("  rollcall: {} of {} seen", s.rollcall->seen, s.rollcall->expected);
        if (!s.rollcall->missing.empty()) out += fmt::format(", missing: {}", fmt::join(s.rollcall->missing, " "));
        out += "\n";
    }
    if (s.publishing) {
        out += fmt::format("  published {}, acked {}", s.publishing->published, s.publishing->acked);
        for (const auto& [code, n] : s.publishing->failed) out += fmt::format(", failed {} x{}", reason_text(code), n);
        out += "\n";
    }
    if (s.latency_ms) {
        out += "  round trip:";
        for (double v : *s.latency_ms) out += fmt::format(" {:.3f} ms", v);
        out += "\n";
    }
    if (s.error) {
        out += fmt::format("  error: {}", s.error->kind);
        if (s.error->reason_code) out += fmt::format(" ({})", reason_text(*s.error->reason_code));
        out += fmt::format(": {}\n", s.error->message);
    }
    return out;
}

}  // namespace mq::tools
