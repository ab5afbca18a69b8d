// SPDX-License-Identifier: MIT
// Summaries of several runs (bench-method.md §8.1 sweep, §8.2 comparison).
#include "bench/multi_run.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/duration.hpp"

namespace mq::tools::bench {

using nlohmann::json;

namespace {

// A number at a dotted path of a summary ("latency_us.intended.p99"); nullopt
// when a member is missing or not a number.
std::optional<double> number_at(const json& s, std::string_view path) {
    const json* cur = &s;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const auto dot = path.find('.', pos);
        // "p99.9" is one key: the dot of a percentile is not a separator.
        std::string key(path.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos));
        std::size_t next = dot == std::string_view::npos ? path.size() + 1 : dot + 1;
        if (key == "p99" && dot != std::string_view::npos && path.substr(next) == "9") {
            key = "p99.9";
            next = path.size() + 1;
        }
        if (!cur->is_object() || !cur->contains(key)) return std::nullopt;
        cur = &(*cur)[key];
        pos = next;
    }
    if (!cur->is_number()) return std::nullopt;
    return cur->get<double>();
}

std::string num(std::optional<double> v) {
    if (!v) return "-";
    const double d = *v;
    if (d == std::round(d) && std::abs(d) < 1e15) return fmt::format("{:.0f}", d);
    if (std::abs(d) < 10) return fmt::format("{:.3g}", d);
    return std::abs(d) >= 1000 ? fmt::format("{:.0f}", d) : fmt::format("{:.1f}", d);
}

std::optional<double> opt_num(const json& v) {
    if (!v.is_number()) return std::nullopt;
    return v.get<double>();
}

json stats(const std::vector<double>& v) {
    if (v.empty()) return nullptr;
    return {{"median", *median_of(v)},
            {"min", *std::min_element(v.begin(), v.end())},
            {"max", *std::max_element(v.begin(), v.end())},
            {"n", v.size()}};
}

std::string stats_text(const json& s) {
    if (!s.is_object()) return "-";
    return fmt::format("{} ({}-{})", num(opt_num(s["median"])), num(opt_num(s["min"])), num(opt_num(s["max"])));
}

// The metrics a comparison reports, with labels for the table; a metric no run
// has (latency in closed loop, connect rate outside `conn`) is left out.
struct metric {
    const char* path;
    const char* label;
};
constexpr metric compare_metrics[] = {
    {"rates.sent", "sent msg/s"},
    {"rates.delivered", "delivered msg/s"},
    {"rates.steady_delivered", "steady delivered/s"},
    {"rates.delivered_ratio", "delivered ratio"},
    {"counts.lost", "lost"},
    {"latency_us.intended.p50", "latency p50 us"},
    {"latency_us.intended.p99", "latency p99 us"},
    {"latency_us.intended.p99.9", "latency p99.9 us"},
    {"cpu.broker_us_per_msg", "broker us/msg"},
    {"cpu.broker_cores", "broker cores"},
    {"cpu.broker_rss_kb", "broker RSS KiB"},
    {"cpu.generator_us_per_msg", "generator us/msg"},
    {"connect.rate", "connects/s"},
    {"connect.handshake_us.p50", "handshake p50 us"},
    {"connect.handshake_us.p99", "handshake p99 us"},
    {"connect.broker_bytes_per_conn", "broker B/conn"},
};

}  // namespace

std::optional<double> median_of(std::vector<double> v) {
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<std::vector<double>> parse_rate_list(std::string_view text, std::string& err) {
    std::vector<double> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        // The count syntax of a single --rate (5000, 5k).
        const auto n = parse_count(item);
        const std::uint64_t v = n.value_or(0);
        if (!n || v < 1 || v > 100'000'000) {
            err = fmt::format("--rate: '{}' in the sweep is not a rate in 1..100000000 msg/s (max is not "
                              "allowed in a sweep)",
                              item);
            return std::nullopt;
        }
        if (!out.empty() && static_cast<double>(v) <= out.back()) {
            err = "--rate: the rates of a sweep must increase (the knee is the first step that fails)";
            return std::nullopt;
        }
        out.push_back(static_cast<double>(v));
    }
    if (out.size() < 2) {
        err = "--rate: a sweep needs at least two rates";
        return std::nullopt;
    }
    return out;
}

std::optional<std::size_t> find_knee(const std::vector<json>& steps, std::string& why) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const json& s = steps[i];
        // SIGINT cut this step short: its figures say nothing about the rate.
        if (s.value("interrupted", false)) continue;
        if (!s.value("valid", false)) {
            why = "invalid";
            for (const auto& r : s.value("invalid_reasons", json::array())) why += ": " + r.get<std::string>();
            return i;
        }
        // No subscribers here (`pub`): delivery is unknown, validity alone decides.
        const auto ratio = number_at(s, "rates.delivered_ratio");
        if (ratio && *ratio < 1.0) {
            why = fmt::format("delivered ratio {:.6f}: fewer delivered than offered", *ratio);
            return i;
        }
    }
    return std::nullopt;
}

json sweep_summary(std::vector<json> steps, bool interrupted) {
    std::string why;
    const auto knee = find_knee(steps, why);
    json k = nullptr;
    if (knee) k = {{"step", *knee}, {"rate", steps[*knee]["settings"]["rate"]}, {"reason", why}};
    bool failed = false;
    for (const auto& s : steps) {
        for (const auto& g : s.value("gates", json::array())) failed = failed || !g.value("passed", true);
    }
    return {{"type", "sweep"},     {"format", 1},      {"scenario", steps.empty() ? json("") : steps[0]["scenario"]},
            {"knee", std::move(k)}, {"gates_failed", failed}, {"interrupted", interrupted},
            {"steps", std::move(steps)}};
}

std::string sweep_text(const json& sw) {
    const json& steps = sw["steps"];
    std::string out;
    const json first = steps.empty() ? json::object() : steps[0];
    const json st = first.value("settings", json::object());
    out += fmt::format("mq bench {} rate sweep  {} steps  QoS {}  {} B  {} -> {}  {}\n", sw.value("scenario", "?"),
                       steps.size(), num(opt_num(st.value("qos", json()))), num(opt_num(st.value("payload", json()))),
                       num(opt_num(st.value("publishers", json()))), num(opt_num(st.value("subscribers", json()))),
                       st.value("url", ""));
    out += fmt::format("  {:>10} {:>10} {:>12} {:>10} {:>9} {:>9} {:>9}  {}\n", "rate/s", "sent/s", "delivered/s",
                       "ratio", "p50 us", "p99 us", "p99.9 us", "valid");
    const json& knee = sw["knee"];
    const std::size_t knee_step = knee.is_object() ? knee["step"].get<std::size_t>() : steps.size();
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const json& s = steps[i];
        const auto ratio = number_at(s, "rates.delivered_ratio");
        std::string gates;
        for (const auto& g : s.value("gates", json::array())) {
            if (!g.value("passed", true)) gates += "  gate " + g.value("expr", "") + " failed";
        }
        out += fmt::format("  {:>10} {:>10} {:>12} {:>10} {:>9} {:>9} {:>9}  {}{}{}\n",
                           num(number_at(s, "settings.rate")), num(number_at(s, "rates.sent")),
                           num(number_at(s, "rates.delivered")), ratio ? fmt::format("{:.6f}", *ratio) : "-",
                           num(number_at(s, "latency_us.intended.p50")), num(number_at(s, "latency_us.intended.p99")),
                           num(number_at(s, "latency_us.intended.p99.9")), s.value("valid", false) ? "yes" : "no",
                           i == knee_step ? "  <- knee" : "", gates);
    }
    if (knee.is_object()) {
        out += fmt::format("  knee at {} msg/s: {}\n", num(opt_num(knee["rate"])), knee.value("reason", ""));
    } else {
        out += "  no knee: every step was valid and delivered what it offered\n";
    }
    if (sw.value("interrupted", false)) out += "  interrupted: later steps did not run\n";
    return out;
}

json compare_summary(const compare_targets& t, std::uint32_t pairs, const std::vector<compare_run>& runs,
                     const std::vector<json>& summaries, bool interrupted) {
    // The kept runs: a pair's last attempt (a repeat replaces the first try).
    std::vector<std::optional<std::size_t>> kept_a(pairs), kept_b(pairs);
    std::vector<bool> repeated(pairs, false);
    json run_list = json::array();
    for (std::size_t i = 0; i < runs.size() && i < summaries.size(); ++i) {
        const auto& r = runs[i];
        if (r.pair >= pairs) continue;
        // An interrupted run is partial: the pair keeps its earlier attempt, if any.
        if (!summaries[i].value("interrupted", false)) (r.target == 'A' ? kept_a : kept_b)[r.pair] = i;
        if (r.repeat) repeated[r.pair] = true;
        run_list.push_back({{"target", std::string(1, r.target)},
                            {"pair", r.pair},
                            {"repeat", r.repeat},
                            {"run_id", summaries[i].value("run_id", "")},
                            {"valid", summaries[i].value("valid", false)},
                            {"noisy", summaries[i].value("noisy", false)},
                            {"summary", summaries[i]}});
    }
    json pair_list = json::array();
    bool any_noisy = false, all_valid = true, failed = false;
    std::vector<std::uint32_t> complete;
    for (std::uint32_t p = 0; p < pairs; ++p) {
        if (!kept_a[p] || !kept_b[p]) continue;
        complete.push_back(p);
        const json& a = summaries[*kept_a[p]];
        const json& b = summaries[*kept_b[p]];
        const bool noisy = a.value("noisy", false) || b.value("noisy", false);
        any_noisy = any_noisy || noisy;
        all_valid = all_valid && a.value("valid", false) && b.value("valid", false);
        for (const json* s : {&a, &b}) {
            for (const auto& g : s->value("gates", json::array())) failed = failed || !g.value("passed", true);
        }
        pair_list.push_back({{"pair", p}, {"a", *kept_a[p]}, {"b", *kept_b[p]}, {"repeated", repeated[p]},
                             {"noisy", noisy}});
    }
    json metrics = json::object();
    for (const metric& m : compare_metrics) {
        std::vector<double> av, bv, ratios;
        for (const auto p : complete) {
            const auto a = number_at(summaries[*kept_a[p]], m.path);
            const auto b = number_at(summaries[*kept_b[p]], m.path);
            if (a) av.push_back(*a);
            if (b) bv.push_back(*b);
            // Per pair: the two runs of a pair ran back to back, so their ratio
            // cancels most of the machine's drift between pairs.
            if (a && b && *a != 0) ratios.push_back(*b / *a);
        }
        if (av.empty() && bv.empty()) continue;
        metrics[m.path] = {{"label", m.label}, {"A", stats(av)}, {"B", stats(bv)}, {"ratio", stats(ratios)}};
    }
    const char first = runs.empty() ? 'A' : runs.front().target;
    return {{"type", "compare"},
            {"format", 1},
            {"scenario", summaries.empty() ? json("") : summaries[0]["scenario"]},
            {"targets",
             {{"A", {{"url", t.url_a}, {"broker_pid", t.pid_a ? json(*t.pid_a) : json(nullptr)}}},
              {"B", {{"url", t.url_b}, {"broker_pid", t.pid_b ? json(*t.pid_b) : json(nullptr)}}}}},
            {"pairs", pairs},
            {"pairs_done", complete.size()},
            {"order", first == 'A' ? json::array({"A", "B"}) : json::array({"B", "A"})},
            {"valid", all_valid && complete.size() == pairs},
            {"noisy", any_noisy},
            {"gates_failed", failed},
            {"interrupted", interrupted},
            {"metrics", std::move(metrics)},
            {"pair_runs", std::move(pair_list)},
            {"runs", std::move(run_list)}};
}

std::string compare_text(const json& c) {
    std::string out;
    out += fmt::format("mq bench {} side by side  {} of {} pairs  order {}{} per pair\n", c.value("scenario", "?"),
                       c.value("pairs_done", 0), c.value("pairs", 0), c["order"][0].get<std::string>(),
                       c["order"][1].get<std::string>());
    out += fmt::format("  A  {}\n  B  {}\n", c["targets"]["A"].value("url", ""), c["targets"]["B"].value("url", ""));
    out += fmt::format("  {:<20} {:>26} {:>26} {:>26}\n", "median (min-max)", "A", "B", "B/A");
    // In the order of compare_metrics (a JSON object's members are sorted by name).
    for (const metric& mt : compare_metrics) {
        if (!c["metrics"].contains(mt.path)) continue;
        const json& m = c["metrics"][mt.path];
        out += fmt::format("  {:<20} {:>26} {:>26} {:>26}\n", mt.label, stats_text(m["A"]), stats_text(m["B"]),
                           stats_text(m["ratio"]));
    }
    const json& runs = c["runs"];
    for (const auto& p : c["pair_runs"]) {
        std::string notes;
        if (p.value("repeated", false)) notes += "  repeated";
        if (p.value("noisy", false)) notes += "  noisy";
        for (const char* side : {"a", "b"}) {
            const json& r = runs[p[side].get<std::size_t>()];
            if (!r.value("valid", false)) {
                notes += fmt::format("  {} invalid", r.value("target", "?"));
                for (const auto& why : r["summary"].value("invalid_reasons", json::array()))
                    notes += " (" + why.get<std::string>() + ")";
            }
        }
        if (!notes.empty()) out += fmt::format("  pair {}:{}\n", p.value("pair", 0) + 1, notes);
    }
    if (c.value("noisy", false)) out += "  noisy: another process used the machine during a kept run\n";
    if (c.value("interrupted", false)) out += "  interrupted: the pairs after the last complete one did not run\n";
    return out;
}

bool is_noisy(double machine_busy_pct, double generator_cores, double broker_cores, unsigned cores) noexcept {
    if (cores == 0) return false;
    const double others = machine_busy_pct / 100.0 * cores - generator_cores - broker_cores;
    return others > 0.10 * cores;
}

}  // namespace mq::tools::bench
