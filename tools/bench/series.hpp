// SPDX-License-Identifier: MIT
// The per-second time series of a run (bench-method.md §8 "Series"): what each
// worker counts per second, how the seconds of all workers are combined, and
// the record written to `--series FILE` and kept in the summary for the report.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "bench/histogram.hpp"

namespace mq::tools::bench {

/// Events of one second, counted by one worker thread (or summed over all).
struct second_counts {
    std::uint64_t sent = 0, acked = 0, received = 0, duplicates = 0, reordered = 0, errors = 0;
    std::uint64_t closed = 0;  // connections lost (also counted in errors)
    void add(const second_counts& o) noexcept;
};

/// One second of one worker: its counts and the latency of the messages received in it.
struct second_slice {
    std::int64_t sec = 0;  // seconds from the window start, negative in warm-up
    second_counts counts;
    histogram latency;  // intended latency of messages received in this second (open loop)
};

/// Counts events by the second they happen in. Owned by one thread; the hot path
/// is two comparisons and an increment. Seconds are numbered from `origin` (the
/// window start stamp); an event is never put in a second already handed over.
class second_recorder {
public:
    /// Starts counting from scratch with seconds numbered from `origin_stamp`.
    void set_origin(std::int64_t origin_stamp);

    second_counts& at(std::int64_t now_stamp) {
        if (now_stamp < cur_begin_ || now_stamp >= cur_end_) roll(now_stamp);
        return cur_.counts;
    }
    void latency(std::int64_t now_stamp, std::int64_t latency_ns) {
        if (now_stamp < cur_begin_ || now_stamp >= cur_end_) roll(now_stamp);
        cur_.latency.record_signed(latency_ns);
    }
    /// Hands over every second up to and including `last`; later events go to later seconds.
    std::vector<second_slice> take_through(std::int64_t last);

private:
    void roll(std::int64_t now_stamp);

    std::int64_t origin_ = 0;
    std::int64_t floor_sec_ = INT64_MIN;  // first second not yet handed over
    std::int64_t cur_begin_ = 0, cur_end_ = 0;
    bool have_cur_ = false;
    second_slice cur_;
    std::vector<second_slice> done_;
};

/// One record of the series (bench-method.md §8), one per second, warm-up included.
struct series_point {
    double t = 0;        // seconds from the window start (negative in warm-up)
    double span_s = 1;   // part of this second that belongs to the run (< 1 at a fractional edge)
    std::string phase;   // "warmup", "measure" (conn: "connect", "hold")
    std::optional<double> offered;  // open loop: the schedule's rate x span; closed loop: = sent
    std::uint64_t sent = 0, acked = 0, received = 0, duplicates = 0, reordered = 0, errors = 0;
    std::optional<std::uint64_t> connections;
    std::optional<double> lat_p50_us, lat_p99_us, lat_max_us;  // open loop only
    std::optional<double> gen_cpu, broker_cpu;                  // cores
    std::optional<std::uint64_t> broker_rss_kb;
};

/// Fills the latency fields from one second's merged histogram (none when empty).
void set_latency(series_point& p, const histogram& h);

nlohmann::json to_json(const series_point& p);
/// Parses to_json() output; nullopt when `j` is not such an object.
std::optional<series_point> series_point_from_json(const nlohmann::json& j);

/// `--series FILE` output: NDJSON, or CSV when the name ends in ".csv".
std::string series_csv_header();
std::string series_csv_line(const series_point& p);

}  // namespace mq::tools::bench
