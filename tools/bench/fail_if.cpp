// SPDX-License-Identifier: MIT
#include "bench/fail_if.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

namespace mq::tools::bench {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_latency_short(std::string_view m) {
    for (const char* s : {"p50", "p90", "p99", "p99.9", "min", "max", "mean"}) {
        if (m == s) return true;
    }
    return false;
}

// Metric names whose summary value is a time in microseconds.
bool is_time_metric(std::string_view m) {
    return m.starts_with("latency_us.") || m.ends_with("_us") || m.ends_with("_us_per_msg") ||
           m.find("handshake_us") != std::string_view::npos;
}

std::string resolve_bare(std::string_view m) {
    if (m == "rate") return "rates.delivered";
    if (m == "delivered_ratio") return "rates.delivered_ratio";
    for (const char* c :
         {"lost", "duplicates", "reordered", "late", "foreign", "overruns", "sent", "received"}) {
        if (m == c) return std::string("counts.") + c;
    }
    return std::string(m);
}

bool valid_metric_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

std::optional<gate> parse_one(std::string_view text, std::string& error) {
    static constexpr std::array<std::pair<std::string_view, gate_op>, 6> ops{{{"<=", gate_op::le},
                                                                              {">=", gate_op::ge},
                                                                              {"==", gate_op::eq},
                                                                              {"!=", gate_op::ne},
                                                                              {"<", gate_op::lt},
                                                                              {">", gate_op::gt}}};
    const std::size_t at = text.find_first_of("<>=!");
    if (at == std::string_view::npos) {
        error = "fail-if '" + std::string(text) + "': expected METRIC OP VALUE, OP one of < <= > >= == !=";
        return std::nullopt;
    }
    gate g;
    g.expr = std::string(text);
    const std::string_view metric = trim(text.substr(0, at));
    std::string_view rest = text.substr(at);
    bool found = false;
    for (const auto& [sym, op] : ops) {
        if (rest.starts_with(sym)) {
            g.op = op;
            rest.remove_prefix(sym.size());
            found = true;
            break;
        }
    }
    if (!found || metric.empty()) {
        error = "fail-if '" + g.expr + "': expected METRIC OP VALUE, OP one of < <= > >= == !=";
        return std::nullopt;
    }
    for (const char c : metric) {
        if (!valid_metric_char(c)) {
            error = "fail-if '" + g.expr + "': bad metric name";
            return std::nullopt;
        }
    }
    g.latency_short = is_latency_short(metric);
    g.metric = g.latency_short ? std::string(metric) : resolve_bare(metric);
    rest = trim(rest);
    double number = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    if (ec != std::errc{} || !std::isfinite(number)) {
        error = "fail-if '" + g.expr + "': value is not a number";
        return std::nullopt;
    }
    const std::string_view unit =
        trim(std::string_view(ptr, static_cast<std::size_t>(rest.data() + rest.size() - ptr)));
    const bool time = g.latency_short || is_time_metric(g.metric);
    if (unit.empty()) {
        g.value = number;  // times without a unit are in the summary's unit, µs
    } else if (time && unit == "ns") {
        g.value = number / 1000.0;
    } else if (time && unit == "us") {
        g.value = number;
    } else if (time && unit == "ms") {
        g.value = number * 1e3;
    } else if (time && unit == "s") {
        g.value = number * 1e6;
    } else if (!time && unit == "k") {
        g.value = number * 1e3;
    } else if (!time && unit == "M") {
        g.value = number * 1e6;
    } else {
        error = "fail-if '" + g.expr + "': unit '" + std::string(unit) + "' does not fit metric " + g.metric +
                (time ? " (use ns, us, ms or s)" : " (use k or M, or no unit)");
        return std::nullopt;
    }
    return g;
}

bool holds(double actual, gate_op op, double value) {
    switch (op) {
        case gate_op::lt:
            return actual < value;
        case gate_op::le:
            return actual <= value;
        case gate_op::gt:
            return actual > value;
        case gate_op::ge:
            return actual >= value;
        case gate_op::eq:
            return actual == value;
        case gate_op::ne:
            return actual != value;
    }
    return false;
}

// A number at `path`; objects (ack_failures, connect.failed) count as the sum of their values.
std::optional<double> lookup(const nlohmann::json& summary, const std::string& path) {
    const nlohmann::json* node = &summary;
    std::size_t start = 0;
    while (start < path.size()) {
        // "p99.9" contains a dot: try the longest key first.
        bool stepped = false;
        if (node->is_object()) {
            for (std::size_t end = path.size(); end > start; --end) {
                if (end != path.size() && path[end] != '.') continue;
                const auto it = node->find(path.substr(start, end - start));
                if (it != node->end()) {
                    node = &*it;
                    start = end + 1;
                    stepped = true;
                    break;
                }
            }
        }
        if (!stepped) return std::nullopt;
    }
    if (node->is_number()) return node->get<double>();
    if (node->is_boolean()) return node->get<bool>() ? 1.0 : 0.0;
    if (node->is_object()) {
        double sum = 0;
        for (const auto& v : *node) {
            if (!v.is_number()) return std::nullopt;
            sum += v.get<double>();
        }
        return sum;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::vector<gate>> parse_gates(std::string_view text, std::string& error) {
    std::vector<gate> out;
    while (true) {
        const std::size_t comma = text.find(',');
        const std::string_view part = trim(text.substr(0, comma));
        if (part.empty()) {
            error = "fail-if: empty condition";
            return std::nullopt;
        }
        auto g = parse_one(part, error);
        if (!g) return std::nullopt;
        out.push_back(std::move(*g));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

bool needs_latency(const gate& g) noexcept {
    return g.latency_short || g.metric.starts_with("latency_us");
}

std::vector<gate_result> evaluate_gates(const std::vector<gate>& gates, const nlohmann::json& summary) {
    std::vector<gate_result> out;
    const bool valid = summary.value("valid", false);
    const bool pub = summary.value("scenario", "") == "pub";
    for (const gate& g : gates) {
        gate_result r;
        r.expr = g.expr;
        std::string path = g.metric;
        if (g.latency_short) path = std::string(pub ? "latency_us.ack." : "latency_us.intended.") + g.metric;
        r.actual = lookup(summary, path);
        r.passed = valid && r.actual.has_value() && !holds(*r.actual, g.op, g.value);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace mq::tools::bench
