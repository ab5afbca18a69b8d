// SPDX-License-Identifier: MIT
#include "bench/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "bench/histogram.hpp"
#include "bench/merge.hpp"
#include "bench/series.hpp"
#include "bench/svg_plot.hpp"
#include "common/exit_codes.hpp"

namespace mq::tools::bench {

namespace {

using nlohmann::json;
using svg::escape;

// The member at `path`, or null: a saved summary may lack any key.
const json& at(const json& j, std::initializer_list<const char*> path) {
    static const json null_value;
    const json* cur = &j;
    for (const char* key : path) {
        if (!cur->is_object()) return null_value;
        const auto it = cur->find(key);
        if (it == cur->end()) return null_value;
        cur = &*it;
    }
    return *cur;
}

std::string str(const json& j, std::initializer_list<const char*> path, const std::string& fallback = "?") {
    const json& v = at(j, path);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    return fallback;
}

std::string figure(double v) {
    if (std::abs(v) >= 100 || v == std::floor(v)) return fmt::format("{:.0f}", v);
    if (std::abs(v) >= 1) return fmt::format("{:.2f}", v);
    return fmt::format("{:.3g}", v);
}

std::string seconds_text(const json& v) {
    return v.is_number() ? figure(v.get<double>()) + " s" : "?";
}

// The settings that change results (bench-method §1 rule 4), in one line.
std::string settings_text(const json& s) {
    const json& st = at(s, {"settings"});
    const std::string scenario = str(s, {"scenario"});
    std::vector<std::string> parts{scenario};
    if (scenario == "conn") {
        parts.push_back(str(st, {"clients"}) + " clients");
        parts.push_back("hold " + seconds_text(at(st, {"duration_s"})));
    } else {
        parts.push_back("QoS " + str(st, {"qos"}));
        parts.push_back(str(st, {"payload"}) + " B payload");
        parts.push_back(str(st, {"publishers"}) + " pub → " + str(st, {"subscribers"}) + " sub");
        const json& rate = at(st, {"rate"});
        parts.push_back(rate.is_number() ? "open loop " + figure(rate.get<double>()) + " msg/s" : "closed loop");
        if (str(st, {"qos"}) != "0") parts.push_back("window " + str(st, {"effective_window"}));
        parts.push_back("warm-up " + seconds_text(at(st, {"warmup_s"})));
        parts.push_back("window " + seconds_text(at(st, {"duration_s"})));
        parts.push_back(str(st, {"threads"}) + " thread(s)");
    }
    parts.push_back(str(st, {"protocol"}) == "5" ? "MQTT 5" : "MQTT 3.1.1");
    parts.push_back(at(st, {"nodelay"}) == json(false) ? "Nagle on" : "TCP_NODELAY");
    std::string url = str(st, {"url"});
    if (at(st, {"embedded_broker"}) == json(true)) url += " (embedded mq broker)";
    parts.push_back(url);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

std::vector<series_point> series_of(const json& s) {
    std::vector<series_point> out;
    const json& a = at(s, {"series"});
    if (!a.is_array()) return out;
    for (const auto& e : a) {
        if (auto p = series_point_from_json(e)) out.push_back(std::move(*p));
    }
    return out;
}

// The latency the summary headlines: intended, or ack latency in the `pub` scenario (§11).
std::optional<histogram> latency_of(const json& s) {
    const char* name = str(s, {"scenario"}) == "pub" ? "ack" : "intended";
    std::string err;
    const json& h = at(s, {"histograms", name});
    if (!h.is_object()) return std::nullopt;
    auto parsed = histogram::from_json(h, err);
    if (!parsed || parsed->count() == 0) return std::nullopt;
    return parsed;
}

struct run_view {
    const report_run* run;
    std::size_t index;
    svg::line_style style;
    std::vector<series_point> series;
    std::optional<histogram> latency;
    bool conn = false;
};

std::string run_label(const run_view& v) {
    return std::to_string(v.index + 1) + ". " + v.run->label;
}

std::string legend(const std::vector<const run_view*>& runs) {
    std::string o = "<ul class=\"legend\">\n";
    for (const auto* r : runs) {
        o += fmt::format("<li>{} <b>{}. {}</b>: {}</li>\n", svg::swatch(r->style), r->index + 1,
                         escape(r->run->label), escape(settings_text(r->run->summary)));
    }
    return o + "</ul>\n";
}

std::string figure_html(const svg::chart& c, const std::vector<const run_view*>& runs, const std::string& note) {
    std::string o = "<figure>\n" + svg::render(c) + "\n<figcaption>\n";
    if (!note.empty()) o += "<p>" + escape(note) + "</p>\n";
    return o + legend(runs) + "</figcaption>\n</figure>\n";
}

// One chart of a per-second value over time, every run overlaid.
std::string time_chart(const std::string& title, const std::string& id, const std::string& y_label,
                       const std::string& x_label, const std::vector<run_view>& views, bool conn_runs,
                       const std::function<std::optional<double>(const series_point&)>& value, bool latency_axis,
                       const std::string& note) {
    svg::chart c;
    c.title = title;
    c.x.label = x_label;
    c.y.label = y_label;
    c.y.format = latency_axis ? svg::format_us : svg::format_si;
    std::vector<const run_view*> shown;
    double first_t = 0, end_t = 1;
    for (const auto& v : views) {
        if (v.conn != conn_runs || v.series.empty()) continue;
        svg::line l{id, std::to_string(v.index + 1), run_label(v), v.style, {}};
        for (const auto& p : v.series) {
            const auto y = value(p);
            if (!y) continue;
            // A point sits in the middle of its second.
            l.points.emplace_back(p.t + 0.5, *y);
            first_t = std::min(first_t, p.t);
            end_t = std::max(end_t, p.t + 1);
        }
        if (l.points.empty()) continue;
        c.lines.push_back(std::move(l));
        shown.push_back(&v);
    }
    if (shown.empty()) return {};
    c.x.min = first_t;
    c.x.max = end_t;
    if (first_t < 0) c.bands.push_back({first_t, 0, "warm-up"});
    return figure_html(c, shown, note);
}

std::string percentile_chart(const std::vector<run_view>& views) {
    svg::chart c;
    c.title = "Latency by percentile";
    c.x.label = "percentile (log scale of 1/(1 − p))";
    c.x.log = true;
    c.x.min = 2;
    c.x.ticks = {{2, "50%"}, {10, "90%"}, {100, "99%"}, {1e3, "99.9%"}, {1e4, "99.99%"}, {1e5, "99.999%"}};
    c.y.label = "latency (log scale)";
    c.y.log = true;
    c.y.format = svg::format_us;
    std::vector<const run_view*> shown;
    double x_max = 10;
    for (const auto& v : views) {
        if (!v.latency) continue;
        // Up to p99.999, but no further than the run's own sample count resolves.
        const double last = std::min(1e5, static_cast<double>(v.latency->count()));
        if (last < 2) continue;
        svg::line l{"percentile", std::to_string(v.index + 1), run_label(v), v.style, {}};
        constexpr int steps = 80;
        for (int i = 0; i <= steps; ++i) {
            const double x = 2 * std::pow(last / 2, static_cast<double>(i) / steps);
            const double us = static_cast<double>(v.latency->percentile(1 - 1 / x)) / 1000.0;
            l.points.emplace_back(x, std::max(us, 0.001));
        }
        x_max = std::max(x_max, last);
        c.lines.push_back(std::move(l));
        shown.push_back(&v);
    }
    if (shown.empty()) return {};
    c.x.max = std::pow(10, std::ceil(std::log10(x_max) - 1e-9));
    return figure_html(c, shown,
                       "Latency from the intended send time (coordinated-omission corrected; ack latency for "
                       "the pub scenario), from each run's full histogram. A curve ends where the run has too "
                       "few samples to resolve a higher percentile.");
}

struct metric {
    const char* label;
    std::vector<const char*> path;
};

std::optional<double> number_at(const json& s, const std::vector<const char*>& path) {
    const json* cur = &s;
    for (const char* k : path) {
        if (!cur->is_object() || !cur->contains(k)) return std::nullopt;
        cur = &(*cur)[k];
    }
    return cur->is_number() ? std::optional<double>(cur->get<double>()) : std::nullopt;
}

std::string figures_table(const std::vector<run_view>& views) {
    const bool pub = !views.empty() && str(views.front().run->summary, {"scenario"}) == "pub";
    const char* lat = pub ? "ack" : "intended";
    const std::vector<metric> metrics = {
        {"delivered (msg/s)", {"rates", "delivered"}},
        {"steady delivered (msg/s)", {"rates", "steady_delivered"}},
        {"sent (msg/s)", {"rates", "sent"}},
        {"acked (msg/s)", {"rates", "acked"}},
        {"delivered ratio", {"rates", "delivered_ratio"}},
        {"received (messages)", {"counts", "received"}},
        {"lost", {"counts", "lost"}},
        {"duplicates", {"counts", "duplicates"}},
        {"reordered", {"counts", "reordered"}},
        {"latency p50 (µs)", {"latency_us", lat, "p50"}},
        {"latency p90 (µs)", {"latency_us", lat, "p90"}},
        {"latency p99 (µs)", {"latency_us", lat, "p99"}},
        {"latency p99.9 (µs)", {"latency_us", lat, "p99.9"}},
        {"latency max (µs)", {"latency_us", lat, "max"}},
        {"connect rate (conn/s)", {"connect", "rate"}},
        {"connections ok", {"connect", "ok"}},
        {"handshake p50 (µs)", {"connect", "handshake_us", "p50"}},
        {"handshake p99 (µs)", {"connect", "handshake_us", "p99"}},
        {"broker bytes per connection", {"connect", "broker_bytes_per_conn"}},
        {"generator CPU (cores)", {"cpu", "generator_cores"}},
        {"generator CPU (µs/msg)", {"cpu", "generator_us_per_msg"}},
        {"broker CPU (cores)", {"cpu", "broker_cores"}},
        {"broker CPU (µs/msg)", {"cpu", "broker_us_per_msg"}},
        {"broker RSS (KiB)", {"cpu", "broker_rss_kb"}},
        {"window (s)", {"window_s"}},
    };
    std::string o = "<table class=\"figures\">\n<thead><tr><th>figure</th>";
    for (const auto& v : views) o += fmt::format("<th>{}. {}</th>", v.index + 1, escape(v.run->label));
    for (std::size_t i = 1; i < views.size(); ++i) o += fmt::format("<th>run {}/run 1</th>", i + 1);
    o += "</tr></thead>\n<tbody>\n";
    for (const auto& m : metrics) {
        std::vector<std::optional<double>> vals;
        for (const auto& v : views) vals.push_back(number_at(v.run->summary, m.path));
        if (std::none_of(vals.begin(), vals.end(), [](const auto& x) { return x.has_value(); })) continue;
        o += fmt::format("<tr><th scope=\"row\">{}</th>", escape(m.label));
        for (const auto& x : vals) o += "<td>" + (x ? figure(*x) : std::string("–")) + "</td>";
        for (std::size_t i = 1; i < vals.size(); ++i) {
            const bool ok = vals[0] && vals[i] && *vals[0] != 0;
            o += "<td>" + (ok ? fmt::format("{:.3f}", *vals[i] / *vals[0]) : std::string("–")) + "</td>";
        }
        o += "</tr>\n";
    }
    return o + "</tbody>\n</table>\n";
}

std::string runs_table(const std::vector<run_view>& views) {
    std::string o =
        "<table class=\"runs\">\n<thead><tr><th>run</th><th>scenario</th><th>run id</th><th>mode</th>"
        "<th>result</th><th>settings</th></tr></thead>\n<tbody>\n";
    for (const auto& v : views) {
        const json& s = v.run->summary;
        std::string result = at(s, {"valid"}) == json(false) ? "INVALID" : "valid";
        if (const json& why = at(s, {"invalid_reasons"}); why.is_array()) {
            for (const auto& w : why) {
                if (w.is_string()) result += "; " + w.get<std::string>();
            }
        }
        if (at(s, {"interrupted"}) == json(true)) result += "; interrupted (partial)";
        if (at(s, {"generator_bound"}) == json(true)) result += "; generator-bound";
        if (at(s, {"source"}) == json("hist-out")) {
            result += "; from a --hist-out file: histograms and counts, no per-second series";
        } else if (v.series.empty()) {
            result += "; no per-second series in this summary";
        }
        o += fmt::format("<tr><td>{} {}. {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         svg::swatch(v.style), v.index + 1, escape(v.run->label), escape(str(s, {"scenario"})),
                         escape(str(s, {"run_id"})), escape(str(s, {"mode"})), escape(result),
                         escape(settings_text(s)));
    }
    return o + "</tbody>\n</table>\n";
}

constexpr const char* page_style = R"(body{font-family:sans-serif;margin:1.5em;max-width:64em;color:#111}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #bbb;padding:0.2em 0.5em;text-align:right}
table.runs td{text-align:left}thead th{background:#eee}tbody th{text-align:left;font-weight:normal}
figure{margin:1em 0 2em;break-inside:avoid}figcaption{font-size:0.9em}ul.legend{list-style:none;padding:0}
ul.legend li{margin:0.2em 0}svg{max-width:100%;height:auto})";

}  // namespace

std::optional<std::string> check_report_summary(const json& s) {
    if (is_hist_dump(s)) {
        if (!at(s, {"settings"}).is_object()) return "--hist-out file without settings";
        if (!at(s, {"histograms"}).is_object()) return "--hist-out file without histograms";
        return std::nullopt;
    }
    if (!s.is_object() || at(s, {"type"}) != json("summary"))
        return "not an mq bench summary (expected the object of mq bench --json or a --hist-out file)";
    if (!at(s, {"settings"}).is_object()) return "summary without settings";
    return std::nullopt;
}

std::string html_report(const std::vector<report_run>& given) {
    // A --hist-out dump becomes the summary `mq bench merge` would print for it.
    std::vector<report_run> runs = given;
    for (auto& r : runs) {
        if (is_hist_dump(r.summary)) r.summary = summary_of_dump(r.summary);
    }
    std::vector<run_view> views;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        run_view v{&runs[i], i, svg::run_style(i), series_of(runs[i].summary), latency_of(runs[i].summary),
                   str(runs[i].summary, {"scenario"}) == "conn"};
        views.push_back(std::move(v));
    }
    std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<title>mq bench report</title>\n<style>\n";
    o += page_style;
    o += "\n</style>\n</head>\n<body>\n<h1>mq bench report</h1>\n";
    o += fmt::format("<p>{} run(s). Every figure and curve below comes from the runs' own summaries "
                     "(mq bench --json): rates from the measurement window, per-second values from the "
                     "series, percentiles from the full histograms. Ratios are run k / run 1; compare runs "
                     "made on the same machine in one session (bench-method.md §1).</p>\n",
                     runs.size());
    o += "<h2>Runs</h2>\n" + runs_table(views);
    o += "<h2>Summary</h2>\n" + figures_table(views);
    o += "<h2>Per second</h2>\n";
    const std::string t_label = "time from window start (s)";
    o += time_chart("Delivered messages per second", "delivered", "delivered (msg/s)", t_label, views, false,
                    [](const series_point& p) { return std::optional<double>(static_cast<double>(p.received) / p.span_s); }, false,
                    "Unique messages received in each second by all subscribers (each delivery counts). "
                    "The shaded part is the warm-up, which the summary does not count.");
    o += time_chart("Sent messages per second", "sent", "sent (msg/s)", t_label, views, false,
                    [](const series_point& p) { return std::optional<double>(static_cast<double>(p.sent) / p.span_s); }, false,
                    "Messages handed to the socket in each second by all publishers.");
    o += percentile_chart(views);
    o += time_chart("Latency p50 per second", "p50", "p50 latency", t_label, views, false,
                    [](const series_point& p) { return p.lat_p50_us; }, true,
                    "Median latency (from the intended send time) of the messages received in each second.");
    o += time_chart("Latency p99 per second", "p99", "p99 latency", t_label, views, false,
                    [](const series_point& p) { return p.lat_p99_us; }, true,
                    "99th percentile latency of the messages received in each second.");
    o += time_chart("Connections held", "connections", "connections", "time from the first connect (s)", views,
                    true,
                    [](const series_point& p) {
                        return p.connections ? std::optional<double>(static_cast<double>(*p.connections))
                                             : std::nullopt;
                    },
                    false, "Connections open at the end of each second (connected minus lost).");
    o += "</body>\n</html>\n";
    return o;
}

std::vector<report_run> load_report_runs(const std::vector<std::string>& paths) {
    std::vector<report_run> out;
    for (const auto& path : paths) {
        std::ifstream f(path);
        if (!f) throw std::system_error(make_error_code(tool_error::no_input), "cannot open " + path);
        std::stringstream buf;
        buf << f.rdbuf();
        const std::string text = buf.str();
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) {
            // Tolerate a file of several lines (e.g. progress or other output): take the summary line.
            std::istringstream lines(text);
            for (std::string line; std::getline(lines, line);) {
                json l = json::parse(line, nullptr, false);
                if (!l.is_discarded() && !check_report_summary(l)) {
                    j = std::move(l);
                    break;
                }
            }
        }
        if (auto why = check_report_summary(j)) {
            throw std::system_error(make_error_code(tool_error::data), path + ": " + *why);
        }
        if (is_hist_dump(j)) {
            try {
                j = summary_of_dump(j);
            } catch (const std::system_error& e) {
                std::string what = e.what();  // "message: category text"
                const std::string suffix = ": " + e.code().message();
                if (what.ends_with(suffix)) what.resize(what.size() - suffix.size());
                throw std::system_error(e.code(), path + ": " + what);
            }
        }
        const auto slash = path.find_last_of('/');
        out.push_back({slash == std::string::npos ? path : path.substr(slash + 1), std::move(j)});
    }
    return out;
}

}  // namespace mq::tools::bench
