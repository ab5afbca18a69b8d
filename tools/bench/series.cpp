// SPDX-License-Identifier: MIT
#include "bench/series.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mq::tools::bench {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

double us1(std::uint64_t ns) {
    return std::round(static_cast<double>(ns) / 100.0) / 10.0;
}
double round3(double v) {
    return std::round(v * 1000.0) / 1000.0;
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <class T>
std::string csv(const std::optional<T>& v) {
    return v ? fmt::format("{}", *v) : std::string();
}

template <class T>
std::optional<T> opt_from(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    return it->get<T>();
}

}  // namespace

void second_counts::add(const second_counts& o) noexcept {
    sent += o.sent;
    acked += o.acked;
    received += o.received;
    duplicates += o.duplicates;
    reordered += o.reordered;
    errors += o.errors;
    closed += o.closed;
}

void second_recorder::set_origin(std::int64_t origin_stamp) {
    origin_ = origin_stamp;
    floor_sec_ = INT64_MIN;
    cur_begin_ = cur_end_ = 0;
    have_cur_ = false;
    cur_ = second_slice{};
    done_.clear();
}

void second_recorder::roll(std::int64_t now_stamp) {
    const std::int64_t s = std::max(floor_div(now_stamp - origin_, ns_per_s), floor_sec_);
    if (have_cur_ && cur_.sec == s) {
        // Only reachable for the clamped second: widen it to everything before it.
        cur_begin_ = INT64_MIN;
        return;
    }
    if (have_cur_) {
        done_.push_back(std::move(cur_));
        cur_ = second_slice{};
    }
    have_cur_ = true;
    cur_.sec = s;
    // The first second still open also takes late stamps (a wall clock stepping back).
    cur_begin_ = s == floor_sec_ ? INT64_MIN : origin_ + s * ns_per_s;
    cur_end_ = origin_ + (s + 1) * ns_per_s;
}

std::vector<second_slice> second_recorder::take_through(std::int64_t last) {
    if (have_cur_ && cur_.sec <= last) {
        done_.push_back(std::move(cur_));
        cur_ = second_slice{};
        have_cur_ = false;
        cur_begin_ = cur_end_ = 0;
    }
    floor_sec_ = std::max(floor_sec_, last + 1);
    if (have_cur_ && cur_begin_ == INT64_MIN && cur_.sec != floor_sec_) cur_begin_ = origin_ + cur_.sec * ns_per_s;
    std::vector<second_slice> out;
    std::vector<second_slice> keep;
    for (auto& s : done_) (s.sec <= last ? out : keep).push_back(std::move(s));
    done_ = std::move(keep);
    return out;
}

void set_latency(series_point& p, const histogram& h) {
    if (h.count() == 0) return;
    p.lat_p50_us = us1(h.percentile(0.5));
    p.lat_p99_us = us1(h.percentile(0.99));
    p.lat_max_us = us1(h.max());
}

nlohmann::json to_json(const series_point& p) {
    return {{"t", p.t},
            {"span_s", round3(p.span_s)},
            {"phase", p.phase},
            {"offered", opt(p.offered)},
            {"sent", p.sent},
            {"acked", p.acked},
            {"received", p.received},
            {"duplicates", p.duplicates},
            {"reordered", p.reordered},
            {"connections", opt(p.connections)},
            {"errors", p.errors},
            {"lat_p50_us", opt(p.lat_p50_us)},
            {"lat_p99_us", opt(p.lat_p99_us)},
            {"lat_max_us", opt(p.lat_max_us)},
            {"gen_cpu", opt(p.gen_cpu)},
            {"broker_cpu", opt(p.broker_cpu)},
            {"broker_rss_kb", opt(p.broker_rss_kb)}};
}

std::optional<series_point> series_point_from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("t") || !j["t"].is_number()) return std::nullopt;
    series_point p;
    p.t = j["t"].get<double>();
    p.span_s = opt_from<double>(j, "span_s").value_or(1.0);
    if (!(p.span_s > 0) || p.span_s > 1.0) return std::nullopt;
    if (const auto it = j.find("phase"); it != j.end() && it->is_string()) p.phase = it->get<std::string>();
    p.offered = opt_from<double>(j, "offered");
    for (const auto& [key, field] :
         {std::pair{"sent", &series_point::sent}, std::pair{"acked", &series_point::acked},
          std::pair{"received", &series_point::received}, std::pair{"duplicates", &series_point::duplicates},
          std::pair{"reordered", &series_point::reordered}, std::pair{"errors", &series_point::errors}}) {
        const auto it = j.find(key);
        if (it != j.end() && it->is_number_unsigned()) p.*field = it->get<std::uint64_t>();
    }
    if (const auto it = j.find("connections"); it != j.end() && it->is_number_unsigned())
        p.connections = it->get<std::uint64_t>();
    p.lat_p50_us = opt_from<double>(j, "lat_p50_us");
    p.lat_p99_us = opt_from<double>(j, "lat_p99_us");
    p.lat_max_us = opt_from<double>(j, "lat_max_us");
    p.gen_cpu = opt_from<double>(j, "gen_cpu");
    p.broker_cpu = opt_from<double>(j, "broker_cpu");
    if (const auto it = j.find("broker_rss_kb"); it != j.end() && it->is_number_unsigned())
        p.broker_rss_kb = it->get<std::uint64_t>();
    return p;
}

std::string series_csv_header() {
    return "t,span_s,phase,offered,sent,acked,received,duplicates,reordered,connections,errors,"
           "lat_p50_us,lat_p99_us,lat_max_us,gen_cpu,broker_cpu,broker_rss_kb\n";
}

std::string series_csv_line(const series_point& p) {
    return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", p.t, round3(p.span_s), p.phase,
                       csv(p.offered), p.sent, p.acked, p.received, p.duplicates, p.reordered,
                       csv(p.connections), p.errors, csv(p.lat_p50_us), csv(p.lat_p99_us),
                       csv(p.lat_max_us), csv(p.gen_cpu), csv(p.broker_cpu), csv(p.broker_rss_kb));
}

}  // namespace mq::tools::bench
