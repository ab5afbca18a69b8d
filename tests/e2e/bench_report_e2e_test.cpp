// SPDX-License-Identifier: MIT
// `mq bench --series/--report` and `mq bench report` on real short runs against
// the embedded broker (issue "Bench results people can look at").
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../unit/tools/report_check.hpp"
#include "e2e_broker.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using mq::test::run_mq;
namespace rc = mq::test::report;

namespace {

std::vector<json> ndjson_lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(json::parse(line, nullptr, false));
    }
    return out;
}

void check_charts_convert(const json& check, const rc::scratch_dir& dir) {
    if (!rc::have_program("rsvg-convert")) {
        MESSAGE("rsvg-convert not installed (apt-get install librsvg2-bin): PNG conversion not checked");
        return;
    }
    std::string why;
    CHECK_MESSAGE(rc::convert_charts(check, dir, why) == 0, why);
}

}  // namespace

TEST_CASE("bench run writes a per-second series and an HTML report of itself") {
    rc::scratch_dir dir;
    REQUIRE(dir.ok());
    const auto r = run_mq({"bench", "e2e", "--rate", "500", "--warmup", "1s", "--duration", "2s", "--drain", "1s",
                           "--series", dir.file("s.ndjson"), "--report", dir.file("r.html"), "--json"},
                          {}, 30s);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto summary = json::parse(r.out, nullptr, false);
    REQUIRE(summary.is_object());

    // One record per second, warm-up included, numbered from the window start.
    const auto lines = ndjson_lines(rc::read_text(dir.file("s.ndjson")));
    REQUIRE(lines.size() == 3);
    const std::vector<std::string> phases = {"warmup", "measure", "measure"};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        CAPTURE(i);
        const auto& p = lines[i];
        REQUIRE(p.is_object());
        CHECK(p["t"] == static_cast<double>(i) - 1);
        CHECK(p["phase"] == phases[i]);
        CHECK(p["connections"] == 2);
        CHECK(p["sent"].get<std::uint64_t>() > 0);
        CHECK(p["sent"].get<std::uint64_t>() <= 1000);  // paced at 500/s
        CHECK(p["received"].get<std::uint64_t>() > 0);
        REQUIRE(p["lat_p50_us"].is_number());
        CHECK(p["lat_p50_us"].get<double>() <= p["lat_p99_us"].get<double>());
        CHECK(p["lat_p99_us"].get<double>() <= p["lat_max_us"].get<double>());
    }
    // The summary keeps the same records for `mq bench report`.
    CHECK(summary["series"] == json(lines));
    CHECK(summary["histograms"]["intended"]["count"] == summary["latency_us"]["intended"]["count"]);

    const auto check = rc::check_html(dir.file("r.html"), dir);
    CHECK_MESSAGE(check["errors"].empty(), check["errors"].dump());
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "1") == 3);
    CHECK(rc::points_of(check, "Sent messages per second", "sent", "1") == 3);
    CHECK(rc::points_of(check, "Latency p50 per second", "p50", "1") == 3);
    CHECK(rc::points_of(check, "Latency p99 per second", "p99", "1") == 3);
    CHECK(rc::points_of(check, "Latency by percentile", "percentile", "1") > 10);
    check_charts_convert(check, dir);
}

TEST_CASE("bench report builds one page from saved summaries, with ratios and connections") {
    rc::scratch_dir dir;
    REQUIRE(dir.ok());
    auto a = run_mq({"bench", "e2e", "-q", "1", "--warmup", "500ms", "--duration", "1s", "--json"}, {}, 30s);
    REQUIRE_MESSAGE(a.exit_code == 0, a.err);
    auto c = run_mq({"bench", "conn", "--clients", "20", "--hold", "1s", "--json", "--series", dir.file("c.csv")},
                    {}, 30s);
    REQUIRE_MESSAGE(c.exit_code == 0, c.err);
    std::ofstream(dir.file("a.json")) << a.out;
    std::ofstream(dir.file("c.json")) << c.out;
    const auto conn = json::parse(c.out);
    const auto conn_points = conn["series"].size();
    REQUIRE(conn_points >= 1);
    // The CSV series has a header and one line per record.
    const std::string csv = rc::read_text(dir.file("c.csv"));
    CHECK(csv.starts_with("t,span_s,phase,"));
    CHECK(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')) == conn_points + 1);
    CHECK(conn["series"].back()["connections"] == 20);

    const auto r = run_mq({"bench", "report", dir.file("a.json"), dir.file("a.json"), dir.file("c.json"), "-o",
                           dir.file("cmp.html")},
                          {}, 30s);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.empty());
    const std::string html = rc::read_text(dir.file("cmp.html"));
    CHECK(html.find("<th>run 2/run 1</th>") != std::string::npos);
    CHECK(html.find("<th>run 3/run 1</th>") != std::string::npos);
    CHECK(html.find("c.json") != std::string::npos);
    const auto check = rc::check_html(dir.file("cmp.html"), dir);
    CHECK_MESSAGE(check["errors"].empty(), check["errors"].dump());
    const int seconds = static_cast<int>(json::parse(a.out)["series"].size());
    CHECK(seconds == 2);
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "1") == seconds);
    CHECK(rc::points_of(check, "Delivered messages per second", "delivered", "2") == seconds);
    CHECK(rc::points_of(check, "Connections held", "connections", "3") == static_cast<int>(conn_points));
    // Closed loop: no latency charts (bench-method §1 rule 1).
    CHECK(rc::points_of(check, "Latency p50 per second", "p50", "1") == -1);
    check_charts_convert(check, dir);

    // Without -o the page goes to stdout.
    const auto out = run_mq({"bench", "report", dir.file("a.json")}, {}, 30s);
    CHECK(out.exit_code == 0);
    CHECK(out.out.starts_with("<!DOCTYPE html>"));
}

TEST_CASE("bench report puts --hist-out files of real runs on one page with their percentile curves") {
    rc::scratch_dir dir;
    REQUIRE(dir.ok());
    for (const char* q : {"0", "1"}) {
        const auto r = run_mq({"bench", "e2e", "-q", q, "--rate", "500", "--warmup", "500ms", "--duration", "1s",
                               "--drain", "1s", "--hist-out", dir.file(std::string("q") + q + ".hist.json")},
                              {}, 30s);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    }
    const auto r = run_mq(
        {"bench", "report", dir.file("q0.hist.json"), dir.file("q1.hist.json"), "-o", dir.file("cmp.html")}, {},
        30s);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const std::string html = rc::read_text(dir.file("cmp.html"));
    CHECK(html.find("q1.hist.json") != std::string::npos);
    CHECK(html.find("<th>run 2/run 1</th>") != std::string::npos);
    const auto check = rc::check_html(dir.file("cmp.html"), dir);
    CHECK_MESSAGE(check["errors"].empty(), check["errors"].dump());
    CHECK(rc::points_of(check, "Latency by percentile", "percentile", "1") > 10);
    CHECK(rc::points_of(check, "Latency by percentile", "percentile", "2") > 10);
    check_charts_convert(check, dir);
}

TEST_CASE("bench report and --series/--report refuse bad input with the contract's exit codes") {
    rc::scratch_dir dir;
    REQUIRE(dir.ok());
    CHECK(run_mq({"bench", "report"}).exit_code == 64);
    CHECK(run_mq({"bench", "report", dir.file("missing.json")}).exit_code == 66);
    std::ofstream(dir.file("not-summary.json")) << "{\"type\":\"something-else\"}\n";
    const auto bad = run_mq({"bench", "report", dir.file("not-summary.json")});
    CHECK(bad.exit_code == 65);
    CHECK(bad.err.find("not an mq bench summary") != std::string::npos);
    std::ofstream(dir.file("empty-dump.json")) << "{\"type\":\"mq-bench-histograms\"}\n";
    const auto empty = run_mq({"bench", "report", dir.file("empty-dump.json")});
    CHECK(empty.exit_code == 65);
    CHECK(empty.err.find("--hist-out file without settings") != std::string::npos);
    std::ofstream(dir.file("garbage.json")) << "<html>\n";
    CHECK(run_mq({"bench", "report", dir.file("garbage.json")}).exit_code == 65);
    CHECK(run_mq({"bench", "report", dir.file("a.json"), "--fail-if", "p99>1ms"}).exit_code == 64);
    // -o belongs to bench report; a run writes its page with --report.
    CHECK(run_mq({"bench", "e2e", "-o", dir.file("x.html")}).exit_code == 64);
    // An unwritable output fails before the run starts.
    const auto unwritable =
        run_mq({"bench", "e2e", "--duration", "1s", "--series", dir.file("no/such/dir/s.ndjson")}, {}, 10s);
    CHECK(unwritable.exit_code == 74);
    CHECK(run_mq({"bench", "e2e", "--duration", "1s", "--report", dir.file("no/such/r.html")}, {}, 10s).exit_code ==
          74);
}
