// SPDX-License-Identifier: MIT
#include "bench/svg_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace mq::tools::bench::svg {

namespace {

// Okabe-Ito colours (distinct for colour-blind readers) and dash patterns for greyscale print.
constexpr std::array<const char*, 6> colours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#000000"};
constexpr std::array<const char*, 6> dashes = {"", "9 4", "2 3", "12 3 3 3", "5 5", "1 6"};

constexpr int margin_left = 72, margin_right = 34, margin_top = 28, margin_bottom = 46;

struct scale {
    double lo = 0, hi = 1;
    bool log = false;
    double px0 = 0, px1 = 1;  // pixel positions of lo and hi
    bool shows(double v) const { return std::isfinite(v) && (!log || v > 0); }
    double operator()(double v) const {
        const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
        const double t = ((log ? std::log10(v) : v) - a) / (b - a);
        return px0 + t * (px1 - px0);
    }
};

// Trims "1.50" to "1.5" and "2.0" to "2".
std::string trim_number(double v, int decimals) {
    std::string s = fmt::format("{:.{}f}", v, decimals);
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    return s;
}

std::string coord(double v) {
    return trim_number(v, 1);
}

// Data range of one axis over every line (and bands for x), with defaults.
std::pair<double, double> data_range(const chart& c, bool for_x) {
    const axis& a = for_x ? c.x : c.y;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& l : c.lines) {
        for (const auto& [x, y] : l.points) {
            const double v = for_x ? x : y;
            if (!std::isfinite(v) || (a.log && v <= 0)) continue;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (for_x) {
        for (const auto& b : c.bands) {
            lo = std::min(lo, b.from);
            hi = std::max(hi, b.to);
        }
    }
    if (!std::isfinite(lo)) {
        lo = a.log ? 1 : 0;
        hi = a.log ? 10 : 1;
    }
    if (!for_x && !a.log) lo = std::min(lo, 0.0);  // rates and counts: from zero
    if (a.log) {
        lo = std::pow(10, std::floor(std::log10(lo)));
        hi = std::pow(10, std::ceil(std::log10(hi) + 1e-9));
    } else if (!for_x) {
        hi = hi <= lo ? lo + 1 : hi + (hi - lo) * 0.05;
    }
    if (hi <= lo) hi = lo + 1;
    return {a.min.value_or(lo), a.max.value_or(hi)};
}

std::vector<tick> auto_ticks(const axis& a, double lo, double hi) {
    std::vector<tick> out;
    const auto label = [&a](double v) { return a.format ? a.format(v) : trim_number(v, 3); };
    if (a.log) {
        const double decades = std::log10(hi / lo);
        for (double p = lo; p <= hi * 1.0001; p *= 10) {
            out.push_back({p, label(p)});
            if (decades <= 2) {
                for (double m : {2.0, 5.0}) {
                    if (p * m < hi * 1.0001) out.push_back({p * m, label(p * m)});
                }
            }
        }
        return out;
    }
    const double raw = (hi - lo) / 6;
    const double mag = std::pow(10, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * mag;
        if (step >= raw) break;
    }
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
        const double clean = std::abs(v) < step * 1e-9 ? 0.0 : v;
        out.push_back({clean, label(clean)});
    }
    return out;
}

// Pixel position and label of every tick inside the axis range.
std::vector<std::pair<double, std::string>> visible_ticks(const axis& a, const scale& s) {
    std::vector<std::pair<double, std::string>> out;
    for (const auto& t : a.ticks.empty() ? auto_ticks(a, s.lo, s.hi) : a.ticks) {
        if (!s.shows(t.value) || t.value < s.lo - 1e-9 || t.value > s.hi * (1 + 1e-9) + 1e-9) continue;
        out.emplace_back(s(t.value), t.label);
    }
    return out;
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
            // Control characters are not allowed in XML 1.0; show them as '?'.
            if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n') {
                out += '?';
            } else {
                out += ch;
            }
        }
    }
    return out;
}

line_style run_style(std::size_t index) {
    return {colours[index % colours.size()], dashes[index % dashes.size()]};
}

std::string swatch(const line_style& s) {
    return fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="36" height="10" viewBox="0 0 36 10">)"
        R"(<line x1="1" y1="5" x2="35" y2="5" stroke="{}" stroke-width="2.5"{}/></svg>)",
        escape(s.colour), s.dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", escape(s.dash)));
}

std::string format_si(double v) {
    const double a = std::abs(v);
    if (a >= 1e6) return trim_number(v / 1e6, 2) + "M";
    if (a >= 1e3) return trim_number(v / 1e3, 2) + "k";
    return trim_number(v, 2);
}

std::string format_us(double us) {
    if (us >= 1e6) return trim_number(us / 1e6, 2) + " s";
    if (us >= 1e3) return trim_number(us / 1e3, 2) + " ms";
    return trim_number(us, 1) + " µs";
}

std::string render(const chart& c) {
    const auto [xlo, xhi] = data_range(c, true);
    const auto [ylo, yhi] = data_range(c, false);
    const double left = margin_left, right = c.width - margin_right;
    const double top = margin_top, bottom = c.height - margin_bottom;
    const scale sx{xlo, xhi, c.x.log, left, right};
    const scale sy{ylo, yhi, c.y.log, bottom, top};
    std::string o = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
        R"(font-family="sans-serif" font-size="11" role="img" aria-label="{2}">)"
        "\n<title>{2}</title>\n"
        R"(<rect x="0" y="0" width="{0}" height="{1}" fill="#ffffff"/>)"
        "\n",
        c.width, c.height, escape(c.title));
    o += fmt::format(R"(<text x="{}" y="17" font-size="13" font-weight="bold">{}</text>)"
                     "\n",
                     coord(left), escape(c.title));
    for (const auto& b : c.bands) {
        const double x0 = std::clamp(sx(b.from), left, right), x1 = std::clamp(sx(b.to), left, right);
        if (x1 <= x0) continue;
        o += fmt::format(R"(<rect class="band" x="{}" y="{}" width="{}" height="{}" fill="#e4e4e4"/>)"
                         "\n"
                         R"(<text x="{}" y="{}" fill="#555555">{}</text>)"
                         "\n",
                         coord(x0), coord(top), coord(x1 - x0), coord(bottom - top), coord(x0 + 4),
                         coord(top + 13), escape(b.label));
    }
    // Grid and tick labels.
    for (const auto& [x, label] : visible_ticks(c.x, sx)) {
        o += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#d0d0d0" stroke-width="1"/>)"
                         R"(<text x="{0}" y="{3}" text-anchor="middle">{4}</text>)"
                         "\n",
                         coord(x), coord(top), coord(bottom), coord(bottom + 15), escape(label));
    }
    for (const auto& [y, label] : visible_ticks(c.y, sy)) {
        o += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#d0d0d0" stroke-width="1"/>)"
                         R"(<text x="{3}" y="{4}" text-anchor="end">{5}</text>)"
                         "\n",
                         coord(left), coord(y), coord(right), coord(left - 6), coord(y + 4), escape(label));
    }
    // Axes and their labels.
    o += fmt::format(R"(<path d="M{0} {1}V{2}H{3}" fill="none" stroke="#000000" stroke-width="1"/>)"
                     "\n"
                     R"(<text x="{4}" y="{5}" text-anchor="middle">{6}</text>)"
                     "\n"
                     R"svg(<text x="14" y="{7}" text-anchor="middle" transform="rotate(-90 14 {7})">{8}</text>)svg"
                     "\n",
                     coord(left), coord(top), coord(bottom), coord(right), coord((left + right) / 2),
                     coord(c.height - 8.0), escape(c.x.label), coord((top + bottom) / 2), escape(c.y.label));
    bool any = false;
    for (const auto& l : c.lines) {
        std::string pts, marks;
        std::size_t n = 0;
        for (const auto& [x, y] : l.points) {
            if (!sx.shows(x) || !sy.shows(y)) continue;
            const double px = sx(x), py = sy(y);
            if (!pts.empty()) pts += ' ';
            pts += coord(px) + ',' + coord(py);
            marks += fmt::format(R"(<circle cx="{}" cy="{}" r="2" fill="{}"/>)", coord(px), coord(py),
                                 escape(l.style.colour));
            ++n;
        }
        if (n == 0) continue;
        any = true;
        o += fmt::format(
            R"(<polyline class="series" data-series="{}" data-run="{}" fill="none" stroke="{}" stroke-width="2"{} )"
            R"(stroke-linejoin="round" points="{}"/>)"
            "\n",
            escape(l.id), escape(l.run), escape(l.style.colour),
            l.style.dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", escape(l.style.dash)), pts);
        // Markers only where lines are short, so single seconds stay visible.
        if (n <= 60) o += "<g>" + marks + "</g>\n";
    }
    // Legend in the title row, right-aligned: one entry per labelled line.
    double lx = right;
    for (auto it = c.lines.rbegin(); it != c.lines.rend(); ++it) {
        if (it->label.empty()) continue;
        std::string text = it->label;
        if (text.size() > 28) {
            std::size_t cut = 27;  // never inside a UTF-8 sequence
            while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
            text = text.substr(0, cut) + "…";
        }
        lx -= 6.5 * static_cast<double>(text.size()) + 40;
        if (lx < left + 200) break;  // no room beside the title: the page's caption has it
        o += fmt::format(R"(<line x1="{0}" y1="13" x2="{1}" y2="13" stroke="{2}" stroke-width="2"{3}/>)"
                         R"(<text x="{4}" y="17">{5}</text>)"
                         "\n",
                         coord(lx), coord(lx + 28), escape(it->style.colour),
                         it->style.dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", escape(it->style.dash)),
                         coord(lx + 33), escape(text));
    }
    if (!any) {
        o += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" fill="#555555">no data</text>)"
                         "\n",
                         coord((left + right) / 2), coord((top + bottom) / 2));
    }
    o += "</svg>";
    return o;
}

}  // namespace mq::tools::bench::svg
