// SPDX-License-Identifier: MIT
#include "bench/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mq::tools::bench {

namespace {

using nlohmann::json;

// Microseconds with one decimal, as the summary prints them.
double us(std::uint64_t ns) {
    return std::round(static_cast<double>(ns) / 100.0) / 10.0;
}
double round3(double v) {
    return std::round(v * 1000.0) / 1000.0;
}
double round1(double v) {
    return std::round(v * 10.0) / 10.0;
}

json latency_json(const histogram& h) {
    if (h.count() == 0) return json::object();
    return {{"count", h.count()},
            {"min", us(h.min())},
            {"p50", us(h.percentile(0.5))},
            {"p90", us(h.percentile(0.9))},
            {"p99", us(h.percentile(0.99))},
            {"p99.9", us(h.percentile(0.999))},
            {"max", us(h.max())},
            {"mean", round1(h.mean() / 1000.0)}};
}

template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

double per_s(std::uint64_t n, double window_s) {
    return window_s > 0 ? round1(static_cast<double>(n) / window_s) : 0.0;
}

json settings_json(const bench_settings& s) {
    json j = {{"url", s.url},
              {"protocol", s.protocol},
              {"qos", s.qos},
              {"payload", s.payload},
              {"publishers", s.publishers},
              {"subscribers", s.subscribers},
              {"rate", s.rate ? json(*s.rate) : json("max")},
              {"window", s.window},
              {"effective_window", s.effective_window},
              {"nodelay", s.nodelay},
              {"tls", s.tls},
              {"threads", s.threads},
              {"warmup_s", s.warmup_s},
              {"duration_s", s.duration_s},
              {"clock", s.clock}};
    j["topic"] = s.topic;
    j["connect_rate"] = s.connect_rate;
    if (s.count) j["count"] = *s.count;
    if (!s.source_ips.empty()) j["source_ips"] = s.source_ips;
    if (s.clients != 0) j["clients"] = s.clients;
    if (!s.receive_maximum_known) j["effective_window_note"] = "MQTT 3.1.1: broker limit unknown";
    if (s.embedded_broker) j["embedded_broker"] = true;
    return j;
}

json histograms_json(const run_result& r) {
    return {{"intended", r.intended.to_json()},
            {"service", r.service.to_json()},
            {"ack", r.ack.to_json()},
            {"send_lag", r.send_lag.to_json()},
            {"handshake", r.handshake.to_json()}};
}

json series_json(const std::vector<series_point>& series) {
    json a = json::array();
    for (const auto& p : series) a.push_back(to_json(p));
    return a;
}

std::string limits_text(const json& l) {
    if (!l.is_object()) return "limits none advertised (MQTT 3.1.1)";
    const auto yes_no = [&l](const char* k) { return l.value(k, true) ? "yes" : "no"; };
    const auto num_or = [&l](const char* k, const char* none) {
        const auto it = l.find(k);
        return it != l.end() && it->is_number() ? it->dump() : std::string(none);
    };
    std::string out = fmt::format(
        "limits Receive Maximum {}, Maximum Packet Size {}, Topic Alias Maximum {}, Maximum QoS {}, "
        "Retain {}, wildcards {}, subscription ids {}, shared subscriptions {}, Server Keep Alive {}",
        num_or("receive_maximum", "65535"), num_or("maximum_packet_size", "none"),
        num_or("topic_alias_maximum", "0"), num_or("maximum_qos", "2"), yes_no("retain_available"),
        yes_no("wildcard_subscription_available"), yes_no("subscription_identifier_available"),
        yes_no("shared_subscription_available"), num_or("server_keep_alive", "-"));
    std::string sent;
    if (const auto it = l.find("advertised"); it != l.end() && it->is_array()) {
        for (const auto& a : *it) {
            if (a.is_string()) sent += (sent.empty() ? "" : " ") + a.get<std::string>();
        }
    }
    return out + (sent.empty() ? " (all defaults)" : " (advertised: " + sent + ")");
}

std::string bytes_rate(const json& v) {
    if (!v.is_number()) return "-";
    const double b = v.get<double>();
    if (b >= 1024.0 * 1024.0) return fmt::format("{:.1f} MiB/s", b / (1024.0 * 1024.0));
    if (b >= 1024.0) return fmt::format("{:.1f} KiB/s", b / 1024.0);
    return fmt::format("{:.0f} B/s", b);
}

std::string fmt_num(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_number_unsigned() || v.is_number_integer()) return fmt::format("{}", v.get<std::int64_t>());
    if (v.is_number()) {
        const double d = v.get<double>();
        return std::abs(d) >= 1000 ? fmt::format("{:.0f}", d) : fmt::format("{:.1f}", d);
    }
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

std::string latency_line(const char* label, const json& h) {
    if (!h.is_object() || h.empty()) return {};
    return fmt::format("  {:<9} p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}  (n={})\n", label,
                       fmt_num(h["p50"]), fmt_num(h["p90"]), fmt_num(h["p99"]), fmt_num(h["p99.9"]),
                       fmt_num(h["max"]), fmt_num(h["mean"]), fmt_num(h["count"]));
}

}  // namespace

json limits_json(const std::optional<broker_limits>& l) {
    if (!l) return nullptr;
    return {{"receive_maximum", l->receive_maximum},
            {"maximum_packet_size", opt(l->maximum_packet_size)},
            {"topic_alias_maximum", l->topic_alias_maximum},
            {"maximum_qos", l->maximum_qos},
            {"retain_available", l->retain_available},
            {"wildcard_subscription_available", l->wildcard_subscription_available},
            {"subscription_identifier_available", l->subscription_identifier_available},
            {"shared_subscription_available", l->shared_subscription_available},
            {"server_keep_alive", opt(l->server_keep_alive)},
            {"advertised", l->advertised}};
}

std::optional<broker_limits> limits_from_json(const json& j) {
    if (!j.is_object()) return std::nullopt;
    broker_limits l;
    const auto num = [&j](const char* k) -> std::optional<std::uint32_t> {
        const auto it = j.find(k);
        if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
        return it->get<std::uint32_t>();
    };
    const auto flag = [&j](const char* k, bool dflt) {
        const auto it = j.find(k);
        return it != j.end() && it->is_boolean() ? it->get<bool>() : dflt;
    };
    l.receive_maximum = num("receive_maximum").value_or(65535);
    l.maximum_packet_size = num("maximum_packet_size");
    l.topic_alias_maximum = num("topic_alias_maximum").value_or(0);
    l.maximum_qos = num("maximum_qos").value_or(2);
    l.retain_available = flag("retain_available", true);
    l.wildcard_subscription_available = flag("wildcard_subscription_available", true);
    l.subscription_identifier_available = flag("subscription_identifier_available", true);
    l.shared_subscription_available = flag("shared_subscription_available", true);
    l.server_keep_alive = num("server_keep_alive");
    if (const auto it = j.find("advertised"); it != j.end() && it->is_array()) {
        for (const auto& a : *it) {
            if (a.is_string()) l.advertised.push_back(a.get<std::string>());
        }
    }
    return l;
}

std::optional<double> steady_rate(const std::vector<std::uint64_t>& per_second) {
    if (per_second.size() < 3) return std::nullopt;
    std::vector<std::uint64_t> v(per_second.begin() + 1, per_second.end() - 1);
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? static_cast<double>(v[n / 2])
                      : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2.0;
}

void check_validity(run_result& r) {
    if (!r.settings.rate) return;  // closed loop: generator_bound is reported instead
    const double target = *r.settings.rate;
    const double achieved = r.window_s > 0 ? static_cast<double>(r.sent) / r.window_s : 0.0;
    if (achieved < 0.99 * target) {
        r.invalid_reasons.push_back(
            fmt::format("offered rate {:.0f}/s is below 99% of the requested {:.0f}/s", achieved, target));
    }
    if (r.sent > 0 && static_cast<double>(r.overruns) > 0.01 * static_cast<double>(r.sent)) {
        r.invalid_reasons.push_back(
            fmt::format("{} of {} sends were more than one interval late (over 1%)", r.overruns, r.sent));
    }
    if (r.generator_bound) r.invalid_reasons.push_back("generator was CPU-bound");
}

json make_summary(const run_result& r) {
    const bool open = r.settings.rate.has_value();
    const double w = r.window_s;
    json rates = {{"offered", open ? json(*r.settings.rate) : json(per_s(r.sent, w))},
                  {"sent", per_s(r.sent, w)},
                  {"acked", per_s(r.acked, w)},
                  {"delivered", per_s(r.received, w)},
                  {"steady_delivered", opt(steady_rate(r.delivered_per_second))},
                  {"delivered_ratio", r.expected == 0 ? json(nullptr)
                                                      : json(static_cast<double>(r.received) /
                                                             static_cast<double>(r.expected))},
                  // Wire bytes per second of all bench clients, every MQTT packet included.
                  {"bytes_sent", per_s(r.bytes_sent, w)},
                  {"bytes_received", per_s(r.bytes_received, w)}};
    json counts = {{"sent", r.sent},           {"acked", r.acked},         {"expected", r.expected},
                   {"received", r.received},   {"lost", r.lost},           {"duplicates", r.duplicates},
                   {"reordered", r.reordered}, {"late", r.late},           {"foreign", r.foreign},
                   {"overruns", r.overruns},   {"dup_flags", r.dup_flags}, {"ack_failures", r.ack_failures},
                   {"bytes_sent", r.bytes_sent}, {"bytes_received", r.bytes_received}};
    json latency = nullptr;
    if (open) {
        latency = {{"intended", latency_json(r.intended)},
                   {"service", latency_json(r.service)},
                   {"ack", latency_json(r.ack)},
                   {"send_lag", latency_json(r.send_lag)}};
    }
    const auto rounded = [](const std::optional<double>& v) { return v ? json(round3(*v)) : json(nullptr); };
    json cpu = {{"generator_cores", rounded(r.cpu.generator_cores)},
                {"generator_us_per_msg", rounded(r.cpu.generator_us_per_msg)},
                {"broker_cores", rounded(r.cpu.broker_cores)},
                {"broker_us_per_msg", rounded(r.cpu.broker_us_per_msg)},
                {"broker_rss_kb", opt(r.cpu.broker_rss_kb)},
                {"machine_busy_pct", rounded(r.cpu.machine_busy_pct)}};
    json notes = json::array();
    if (!open) notes.push_back("closed-loop run");
    for (const auto& n : r.notes) notes.push_back(n);
    // bench-method §5: QoS 0 loss is reported; at QoS 1/2 it is an error.
    json errors = json::array();
    if (r.settings.qos > 0 && r.lost > 0) {
        errors.push_back(fmt::format("{} QoS {} messages lost", r.lost, r.settings.qos));
    }
    json s = {{"type", "summary"},
              {"format", 1},
              {"run_id", r.run_id},
              {"scenario", r.scenario},
              {"mode", open ? "open" : "closed"},
              {"valid", r.invalid_reasons.empty()},
              {"invalid_reasons", r.invalid_reasons},
              {"interrupted", r.interrupted},
              {"settings", settings_json(r.settings)},
              {"window_s", w},
              {"rates", std::move(rates)},
              {"counts", std::move(counts)},
              {"latency_us", std::move(latency)},
              {"connect",
               {{"ok", r.connect_ok},
                {"failed", r.connect_failed},
                {"handshake_us", latency_json(r.handshake)},
                {"rate", rounded(r.connect_rate)},
                {"broker_bytes_per_conn", rounded(r.broker_bytes_per_conn)}}},
              {"cpu", std::move(cpu)},
              {"broker_limits", limits_json(r.limits)},
              {"shared", r.shared ? json{{"group", r.shared->group},
                                         {"members", r.shared->members},
                                         {"min_share", rounded(r.shared->min_share)},
                                         {"max_share", rounded(r.shared->max_share)}}
                                  : json(nullptr)},
              {"generator_bound", r.generator_bound},
              {"noisy", r.noisy},
              {"notes", std::move(notes)},
              {"errors", std::move(errors)},
              {"gates", json::array()},
              // For `mq bench report` and merging: the full histograms (§9) and the series (§8).
              {"histograms", histograms_json(r)},
              {"series", series_json(r.series)}};
    return s;
}

bool attach_gates(json& summary, const std::vector<gate_result>& results) {
    json gates = json::array();
    bool failed = false;
    for (const gate_result& g : results) {
        json e = {{"expr", g.expr}, {"passed", g.passed}};
        e["actual"] = g.actual ? json(*g.actual) : json(nullptr);
        gates.push_back(std::move(e));
        failed = failed || !g.passed;
    }
    summary["gates"] = std::move(gates);
    return failed;
}

json make_hist_dump(const run_result& r) {
    json counters = make_summary(r)["counts"];
    return {{"type", "mq-bench-histograms"},
            {"format", 1},
            {"run_id", r.run_id},
            {"scenario", r.scenario},
            {"settings", settings_json(r.settings)},
            {"window_s", r.window_s},
            {"counts", std::move(counters)},
            {"broker_limits", limits_json(r.limits)},
            {"histograms", histograms_json(r)}};
}

std::string summary_text(const json& s) {
    const json& st = s["settings"];
    const json& rt = s["rates"];
    const json& c = s["counts"];
    std::string out;
    const bool open = s.value("mode", "") == "open";
    std::string rate =
        open ? fmt::format("open loop {} msg/s", fmt_num(st["rate"])) : std::string("closed loop");
    if (!open && st.value("qos", 0) > 0) rate += fmt::format(", window {}", fmt_num(st["effective_window"]));
    const double ws = s.value("window_s", 0.0);
    out += fmt::format("mq bench {}  run {}  {}  QoS {}  {} B  {} -> {}  MQTT {}  {}  {} s window\n",
                       s.value("scenario", "?"), s.value("run_id", "?"), rate, fmt_num(st["qos"]),
                       fmt_num(st["payload"]), fmt_num(st["publishers"]), fmt_num(st["subscribers"]),
                       st.value("protocol", 5) == 5 ? "5" : "3.1.1", st.value("url", ""),
                       ws >= 10 || ws == 0 ? fmt::format("{:.1f}", ws) : fmt::format("{:.3g}", ws));
    std::string ratio = "-";
    if (rt["delivered_ratio"].is_number()) ratio = fmt::format("{:.6f}", rt["delivered_ratio"].get<double>());
    out += fmt::format(
        "  rates     offered {}/s  sent {}/s  acked {}/s  delivered {}/s (ratio {})  steady {}/s\n",
        fmt_num(rt["offered"]), fmt_num(rt["sent"]), fmt_num(rt["acked"]), fmt_num(rt["delivered"]), ratio,
        fmt_num(rt["steady_delivered"]));
    out += fmt::format(
        "  counts    sent {}  received {}  lost {}  duplicates {}  reordered {}  late {}  foreign {}"
        "  overruns {}\n",
        fmt_num(c["sent"]), fmt_num(c["received"]), fmt_num(c["lost"]), fmt_num(c["duplicates"]),
        fmt_num(c["reordered"]), fmt_num(c["late"]), fmt_num(c["foreign"]), fmt_num(c["overruns"]));
    if (rt.contains("bytes_sent")) {
        out += fmt::format("  bytes     sent {}  received {}  (wire, every MQTT packet)\n",
                           bytes_rate(rt["bytes_sent"]), bytes_rate(rt["bytes_received"]));
    }
    if (st.value("qos", 0) > 0 && c.value("lost", 0) > 0) {
        out += fmt::format("  ERROR: {} QoS {} messages lost (acknowledged by the broker, never delivered)\n",
                           fmt_num(c["lost"]), fmt_num(st["qos"]));
    }
    if (!c["ack_failures"].empty()) out += fmt::format("  ack failures {}\n", c["ack_failures"].dump());
    if (s.contains("shared") && s["shared"].is_object()) {
        const json& sh = s["shared"];
        out += fmt::format("  shared    group {} of {} members: loss counted per (publisher, group); member share "
                           "min {} max {}\n",
                           sh.value("group", "?"), fmt_num(sh["members"]), fmt_num(sh["min_share"]),
                           fmt_num(sh["max_share"]));
    }
    if (s["latency_us"].is_object()) {
        out += "  latency (us; intended = from intended send time, coordinated-omission corrected)\n";
        out += latency_line("intended", s["latency_us"]["intended"]);
        out += latency_line("service", s["latency_us"]["service"]);
        out += latency_line("ack", s["latency_us"]["ack"]);
        out += latency_line("send_lag", s["latency_us"]["send_lag"]);
    } else {
        out += "  latency   not measured (closed-loop run; use --rate R)\n";
    }
    const json& conn = s["connect"];
    if (conn["handshake_us"].is_object() && !conn["handshake_us"].empty()) {
        out += latency_line("handshake", conn["handshake_us"]);
    }
    if (conn["rate"].is_number())
        out += fmt::format("  connect   {}/s, {} ok\n", fmt_num(conn["rate"]), fmt_num(conn["ok"]));
    if (conn["broker_bytes_per_conn"].is_number()) {
        out += fmt::format("  broker    {} bytes RSS per held connection\n",
                           fmt_num(conn["broker_bytes_per_conn"]));
    }
    if (!conn["failed"].empty()) out += fmt::format("  connect failures {}\n", conn["failed"].dump());
    if (s.contains("broker_limits") && (s["broker_limits"].is_object() || st.value("protocol", 5) != 5))
        out += "  broker    " + limits_text(s["broker_limits"]) + "\n";
    const json& cpu = s["cpu"];
    out += fmt::format("  cpu       generator {} cores, {} us/msg", fmt_num(cpu["generator_cores"]),
                       fmt_num(cpu["generator_us_per_msg"]));
    if (!cpu["broker_cores"].is_null()) {
        out += fmt::format("; broker {} cores, {} us/msg", fmt_num(cpu["broker_cores"]),
                           fmt_num(cpu["broker_us_per_msg"]));
    }
    out +=
        s.value("generator_bound", false) ? "  (generator-bound: this is the generator's ceiling)\n" : "\n";
    if (!s.value("valid", true)) {
        for (const auto& why : s["invalid_reasons"])
            out += fmt::format("  INVALID: {}\n", why.get<std::string>());
    }
    if (s.value("interrupted", false)) out += "  interrupted: partial results\n";
    if (const auto it = s.find("notes"); it != s.end() && it->is_array()) {
        for (const auto& n : *it) {
            if (n.is_string() && n.get<std::string>() != "closed-loop run")
                out += "  note: " + n.get<std::string>() + "\n";
        }
    }
    for (const auto& g : s["gates"]) {
        out += fmt::format("  gate {}: {}\n", g.value("expr", ""),
                           g.value("passed", false) ? "passed" : "FAILED");
    }
    return out;
}

}  // namespace mq::tools::bench
