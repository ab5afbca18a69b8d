// SPDX-License-Identifier: MIT
// A small line-chart renderer for the bench report: axes with units, linear or
// log scales, shaded bands, one polyline per series. Output is plain SVG 1.1
// (no scripts, no external resources) meant to sit inline in an HTML page.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mq::tools::bench::svg {

/// Escapes text for XML/HTML content and attribute values (& < > " ').
std::string escape(std::string_view text);

/// How one run's lines are drawn: a colour that stays distinguishable in print
/// plus a dash pattern, so greyscale copies still tell the runs apart.
struct line_style {
    std::string colour;
    std::string dash;  // SVG stroke-dasharray; empty = solid
};
/// The style of run `index` (0-based); cycles after 6 runs.
line_style run_style(std::size_t index);
/// A short sample of the line style (inline SVG) for legends.
std::string swatch(const line_style& style);

struct tick {
    double value;
    std::string label;
};

struct axis {
    std::string label;  // with its unit, e.g. "delivered (msg/s)"
    bool log = false;
    std::optional<double> min, max;              // default: from the data (linear y starts at 0)
    std::vector<tick> ticks;                     // empty: chosen automatically
    std::function<std::string(double)> format;  // labels of automatic ticks
};

struct line {
    std::string id;  // data-series attribute, e.g. "delivered"
    std::string run;  // data-run attribute, e.g. "1"
    std::string label;  // legend text inside the chart (long labels are shortened)
    line_style style;
    std::vector<std::pair<double, double>> points;  // (x, y) in data units
};

/// A shaded x-range, e.g. the warm-up.
struct band {
    double from, to;
    std::string label;
};

struct chart {
    std::string title;
    axis x, y;
    std::vector<line> lines;
    std::vector<band> bands;
    int width = 760;
    int height = 300;
};

/// The chart as one <svg> element. Points a log axis cannot show (<= 0) are left out.
std::string render(const chart& c);

/// Axis label helpers: 1500 -> "1.5k", 2e6 -> "2M"; microseconds -> "850 µs", "1.2 ms", "3 s".
std::string format_si(double v);
std::string format_us(double us);

}  // namespace mq::tools::bench::svg
