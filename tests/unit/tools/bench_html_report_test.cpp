// SPDX-License-Identifier: MIT
// `mq bench --report` / `mq bench report`: the HTML page and its SVG charts.
#include <fstream>
#include <string>
#include <system_error>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/html_report.hpp"
#include "bench/report.hpp"
#include "bench/svg_plot.hpp"
#include "report_check.hpp"

using namespace mq::tools::bench;
namespace rc = mq::test::report;

namespace {

// A run with `seconds` series records from t = -warmup, as the sampler makes them.
run_result run_with_series(int warmup, int seconds, std::uint64_t per_second, bool open) {
    run_result r;
    r.run_id = open ? "000000a1" : "000000b2";
    r.settings.url = "mqtt://127.0.0.1:1883";
    r.settings.qos = open ? 0 : 1;
    if (open) r.settings.rate = static_cast<double>(per_second);
    r.settings.warmup_s = warmup;
    r.settings.duration_s = seconds - warmup;
    r.window_s = seconds - warmup;
    r.sent = r.acked = r.expected = r.received = per_second * static_cast<std::uint64_t>(seconds - warmup);
    for (int t = -warmup; t < seconds - warmup; ++t) {
        series_point p;
        p.t = t;
        p.phase = t < 0 ? "warmup" : "measure";
        p.sent = p.received = per_second + static_cast<std::uint64_t>(t + warmup);
        p.connections = 2;
        if (open) {
            p.lat_p50_us = 80.0 + t;
            p.lat_p99_us = 400.0 + t;
            p.lat_max_us = 900.0;
        }
        r.series.push_back(p);
    }
    if (open) {
        for (std::uint64_t i = 0; i < 20000; ++i) r.intended.record(50'000 + (i % 1000) * 100);
    }
    r.connect_ok = 2;
    return r;
}

run_result conn_run(int seconds) {
    run_result r;
    r.run_id = "000000c3";
    r.scenario = "conn";
    r.settings.clients = 50;
    r.settings.publishers = r.settings.subscribers = 0;
    r.connect_ok = 50;
    r.connect_rate = 1000;
    for (int t = 0; t < seconds; ++t) {
        series_point p;
        p.t = t;
        p.phase = t == 0 ? "connect" : "hold";
        p.connections = t == 0 ? 20 : 50;
        r.series.push_back(p);
    }
    return r;
}

}  // namespace

TEST_CASE("bench report page is well-formed, self-contained and has one point per second") {
    rc::scratch_dir dir;
    REQUIRE(dir.ok());
    const std::string hostile = "<script>alert(\"x\")</script> & 'quoted'";
    std::vector<report_run> runs = {
        {hostile, make_summary(run_with_series(2, 7, 1000, true))},
        {"closed.json", make_summary(run_with_series(1, 4, 1500, false))},
        {"conn.json", make_summary(conn_run(4))},
    };
    runs[0].summary["settings"]["url"] = "mqtt://broker-<1>&\"2\":1883";
    const std::string html = html_report(runs);
    std::ofstream(dir.file("r.html")) << html;
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;") != std::string::npos);
    CHECK(html.find("mqtt://broker-&lt;1&gt;&amp;&quot;2&quot;:1883") != std::string::npos);

    const auto check = rc::check_html(dir.file("r.html"), dir);
    CHECK_MESSAGE(check["errors"].empty(), check["errors"].dump());
    // One point per second of each run, warm-up included; conn runs have no message rates.
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "1") == 7);
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "2") == 4);
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "3") == -1);
    CHECK(rc::points_of(check, "Sent messages per second", "sent", "1") == 7);
    CHECK(rc::points_of(check, "Sent messages per second", "sent", "2") == 4);
    // Latency only where it was measured (open loop).
    CHECK(rc::points_of(check, "Latency p50 per second", "p50", "1") == 7);
    CHECK(rc::points_of(check, "Latency p99 per second", "p99", "1") == 7);
    CHECK(rc::points_of(check, "Latency p50 per second", "p50", "2") == -1);
    CHECK(rc::points_of(check, "Latency by percentile", "percentile", "1") > 10);
    CHECK(rc::points_of(check, "Latency by percentile", "percentile", "2") == -1);
    CHECK(rc::points_of(check, "Connections held", "connections", "3") == 4);
    CHECK(rc::points_of(check, "Connections held", "connections", "1") == -1);
    // Legends carry one swatch per run and chart, plus one per run in the runs table.
    CHECK(check["swatches"].get<int>() >= 3 + 2 * 2 + 1);

    if (rc::have_program("rsvg-convert")) {
        std::string why;
        CHECK_MESSAGE(rc::convert_charts(check, dir, why) == 0, why);
    } else {
        MESSAGE("rsvg-convert not installed (apt-get install librsvg2-bin): PNG conversion not checked");
    }
}

TEST_CASE("bench report table shows every run's figures and the ratio to run 1") {
    const auto a = make_summary(run_with_series(1, 3, 1000, true));  // delivered 1000/s
    auto b = a;
    b["rates"]["delivered"] = 1500.0;
    b["latency_us"]["intended"]["p99"] = 25.0;
    const std::string html = html_report({{"a.json", a}, {"b.json", b}});
    CHECK(html.find("<th>run 2/run 1</th>") != std::string::npos);
    CHECK(html.find("<tr><th scope=\"row\">delivered (msg/s)</th><td>1000</td><td>1500</td><td>1.500</td></tr>") !=
          std::string::npos);
    // Each run's settings are listed under the plots.
    CHECK(html.find("open loop 1000 msg/s") != std::string::npos);
    // A summary without series or histograms (older mq) still gives a page, saying so.
    auto old = a;
    old.erase("series");
    old.erase("histograms");
    const std::string page = html_report({{"old.json", old}});
    CHECK(page.find("no per-second series in this summary") != std::string::npos);
    CHECK(page.find("data-series=\"delivered\"") == std::string::npos);
    // A --hist-out dump needs settings and histograms; anything else is refused.
    CHECK(check_report_summary(nlohmann::json{{"type", "mq-bench-histograms"}}).has_value());
    CHECK(check_report_summary(nlohmann::json{{"type", "other"}, {"settings", nlohmann::json::object()}})
              .has_value());
    CHECK_FALSE(check_report_summary(make_hist_dump(run_with_series(1, 3, 1000, true))).has_value());
    CHECK_FALSE(check_report_summary(a).has_value());
}

TEST_CASE("bench report accepts --hist-out files: the page has that run's percentile curve") {
    rc::scratch_dir dir;
    REQUIRE(dir.ok());
    const run_result open = run_with_series(1, 4, 1000, true);  // 20,000 latency samples
    const auto dump = make_hist_dump(open);
    REQUIRE(dump["type"] == "mq-bench-histograms");
    std::ofstream(dir.file("gen-0.hist.json")) << dump.dump() << '\n';
    std::ofstream(dir.file("run.json")) << make_summary(open).dump() << '\n';

    // A dump and a summary of the same run on one page, loaded as `mq bench report` loads them.
    const auto runs = load_report_runs({dir.file("gen-0.hist.json"), dir.file("run.json")});
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].label == "gen-0.hist.json");
    CHECK(runs[0].summary["type"] == "summary");
    CHECK(runs[0].summary["source"] == "hist-out");
    // Figures come from the dump's counts and histograms: the same as the run's own summary.
    CHECK(runs[0].summary["rates"]["delivered"] == runs[1].summary["rates"]["delivered"]);
    CHECK(runs[0].summary["latency_us"]["intended"] == runs[1].summary["latency_us"]["intended"]);
    CHECK(runs[0].summary["settings"]["threads"] == runs[1].summary["settings"]["threads"]);
    const std::string html = html_report(runs);
    std::ofstream(dir.file("cmp.html")) << html;
    CHECK(html.find("from a --hist-out file") != std::string::npos);
    const auto check = rc::check_html(dir.file("cmp.html"), dir);
    CHECK_MESSAGE(check["errors"].empty(), check["errors"].dump());
    const int curve = rc::points_of(check, "Latency by percentile", "percentile", "1");
    CHECK(curve > 10);
    CHECK(curve == rc::points_of(check, "Latency by percentile", "percentile", "2"));
    // No series in a dump: no per-second points for run 1, but run 2 still has them.
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "1") == -1);
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "2") == 4);
    // The figures table has both columns, with ratio 1 for the same run.
    CHECK(html.find("<tr><th scope=\"row\">latency p99 (µs)</th>") != std::string::npos);

    // html_report() takes a dump directly as well.
    const std::string direct = html_report({{"dump", dump}});
    CHECK(direct.find("data-series=\"percentile\"") != std::string::npos);

    // A dump with a broken histogram is refused naming the file.
    auto bad = dump;
    bad["histograms"].erase("intended");
    std::ofstream(dir.file("bad.json")) << bad.dump();
    try {
        (void)load_report_runs({dir.file("bad.json")});
        FAIL("expected an error");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == 65);
        CHECK(std::string(e.what()).find("bad.json: ") != std::string::npos);
    }
}

TEST_CASE("svg chart puts values where they belong and leaves out what a log axis cannot show") {
    svg::chart c;
    c.title = "t";
    c.x.label = "x (s)";
    c.y.label = "y (msg/s)";
    c.x.min = 0;
    c.x.max = 10;
    c.y.min = 0;
    c.y.max = 100;
    c.lines.push_back({"a", "1", "run <a>", svg::run_style(0), {{0, 0}, {10, 100}, {5, 50}}});
    const std::string out = svg::render(c);
    // Plot area: x 72..(760-34), y 300-46 (value 0) .. 28 (value 100).
    CHECK(out.find("points=\"72,254 726,28 399,141\"") != std::string::npos);
    CHECK(out.find(">x (s)</text>") != std::string::npos);
    CHECK(out.find(">y (msg/s)</text>") != std::string::npos);
    CHECK(out.find(">run &lt;a&gt;</text>") != std::string::npos);  // legend, escaped

    svg::chart l;
    l.y.log = true;
    l.lines.push_back({"b", "1", "", svg::run_style(1), {{1, 0}, {2, 10}, {3, -5}, {4, 1000}}});
    const std::string log_out = svg::render(l);
    const auto pts = log_out.find("points=\"");
    REQUIRE(pts != std::string::npos);
    const std::string list = log_out.substr(pts + 8, log_out.find('"', pts + 8) - pts - 8);
    CHECK(std::count(list.begin(), list.end(), ',') == 2);
    CHECK(log_out.find("stroke-dasharray=\"9 4\"") != std::string::npos);  // run 2 is dashed

    CHECK(svg::escape("a<b>&\"c'\x01") == "a&lt;b&gt;&amp;&quot;c&#39;?");
    // A long legend label is shortened on a character boundary (the XML stays valid UTF-8).
    svg::chart u;
    u.lines.push_back({"c", "1", std::string(26, 'x') + "ééé", svg::run_style(0), {{0, 1}}});
    const std::string u_out = svg::render(u);
    CHECK(u_out.find(">" + std::string(26, 'x') + "…</text>") != std::string::npos);
    CHECK(svg::format_us(850) == "850 µs");
    CHECK(svg::format_us(1200) == "1.2 ms");
    CHECK(svg::format_si(20000) == "20k");
    CHECK(svg::run_style(0).colour != svg::run_style(1).colour);
    CHECK(svg::run_style(0).dash != svg::run_style(1).dash);
}
