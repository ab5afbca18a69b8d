// SPDX-License-Identifier: MIT
// The `conn` scenario (bench-method.md §2): N clients connect at --connect-rate with
// at most --connect-concurrency handshakes in flight, stay connected for --hold,
// then disconnect. Reports conn/s, the TCP-connect -> CONNACK histogram, failures
// by kind and, with --broker-pid, the broker's RSS per held connection.
#include <algorithm>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "bench/resources.hpp"
#include "bench/scenario.hpp"
#include "bench/series_sampler.hpp"
#include "bench/workers.hpp"

namespace mq::tools::bench {

using namespace detail;

namespace {

struct conn_state {
    const bench_config* cfg = nullptr;
    mqtt::net::bench_loop* loop = nullptr;
    std::vector<std::unique_ptr<mqtt::net::bench_connection>> conns;
    std::unique_ptr<mqtt::net::bench_timer> pace_timer;
    clock::time_point start;
    std::uint32_t next = 0, in_flight = 0, finished = 0;
    std::uint64_t ok = 0;
    std::map<std::string, std::uint64_t> failed;
    histogram handshake;
    limits_recorder limits;
    clock::time_point last_done;
    std::atomic<bool> all_done{false};
    // Read by the series sampler on the main thread.
    std::atomic<std::uint64_t> ok_count{0}, failed_count{0}, lost_count{0};
    bool tearing_down = false;

    void launch() {
        const auto now = clock::now();
        while (next < cfg->clients && in_flight < cfg->connect_concurrency) {
            // Client k may start at start + k / connect_rate.
            const auto due =
                start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                            1e9 * static_cast<double>(next) / static_cast<double>(cfg->connect_rate)));
            if (due > now) {
                pace_timer->wait_until(due, [this](bool ok_) {
                    if (ok_) launch();
                });
                return;
            }
            connect_one(next++);
        }
    }

    void connect_one(std::uint32_t k) {
        ++in_flight;
        auto c = std::make_unique<mqtt::net::bench_connection>(
            *loop, client_options(*cfg, fmt::format("mqb-{:08x}-c{}", cfg->run_id, k), k),
            mqtt::net::bench_handlers{nullptr, nullptr, nullptr, [this](std::error_code ec) {
                                          if (tearing_down) return;
                                          ++failed["lost: " + ec.message()];
                                          lost_count.fetch_add(1);
                                      }});
        auto* raw = c.get();
        conns.push_back(std::move(c));
        const auto t = clock::now();
        raw->connect([this, t](std::error_code ec, const mqtt::net::bench_connack& ca) {
            --in_flight;
            ++finished;
            if (ec) {
                ++failed[ec.message()];
                failed_count.fetch_add(1);
            } else {
                ++ok;
                ok_count.fetch_add(1);
                limits.note(ca, cfg->version == mqtt::protocol_version::v5);
                handshake.record(static_cast<std::uint64_t>((clock::now() - t).count()));
            }
            last_done = clock::now();
            if (finished == cfg->clients) {
                all_done.store(true);
                return;
            }
            launch();
        });
    }
};

// One record per second from the start of connecting: connections held and failures.
class conn_series {
public:
    conn_series(const bench_config& cfg, const conn_state& st)
        : cfg_(cfg), st_(st), start_(clock::now()), resources_(cfg) {}

    clock::time_point next_due() const { return start_ + std::chrono::seconds(sec_ + 1); }
    /// Completes every whole second so far; `final` also the partial last one.
    void poll(bool final) {
        while (clock::now() >= next_due()) add(1.0);
        if (final) {
            const double part = std::chrono::duration<double>(clock::now() - (next_due() - std::chrono::seconds(1))).count();
            if (part >= 0.001) add(std::min(part, 1.0));
        }
    }
    std::vector<series_point> take() { return std::move(points_); }

private:
    void add(double span) {
        series_point p;
        p.t = static_cast<double>(sec_++);
        p.span_s = span;
        p.phase = st_.all_done.load() ? "hold" : "connect";
        const std::uint64_t lost = st_.lost_count.load(), failed = st_.failed_count.load();
        p.connections = st_.ok_count.load() - std::min(st_.ok_count.load(), lost);
        p.errors = lost + failed - last_errors_;
        last_errors_ = lost + failed;
        resources_.sample(p);
        if (cfg_.on_second) cfg_.on_second(p);
        points_.push_back(std::move(p));
    }

    const bench_config& cfg_;
    const conn_state& st_;
    clock::time_point start_;
    resource_sampler resources_;
    std::int64_t sec_ = 0;
    std::uint64_t last_errors_ = 0;
    std::vector<series_point> points_;
};

}  // namespace

run_result run_conn_bench(const bench_config& cfg, const std::atomic<bool>& interrupted) {
    run_result r;
    r.run_id = fmt::format("{:08x}", cfg.run_id);
    r.scenario = "conn";
    mqtt::net::bench_loop loop;
    conn_state st;
    st.cfg = &cfg;
    st.loop = &loop;
    st.pace_timer = std::make_unique<mqtt::net::bench_timer>(loop);
    const std::uint64_t rss_before = cfg.broker_pid ? pid_rss_kb(*cfg.broker_pid).value_or(0) : 0;
    std::thread th([&loop] {
        set_timer_slack_ns(1000);
        loop.run();
    });
    loop.post([&st] {
        st.start = clock::now();
        st.launch();
    });
    conn_series series(cfg, st);
    while (!st.all_done.load() && !interrupted.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        series.poll(false);
    }
    // Hold: the broker carries every connection now.
    const auto hold_end = clock::now() + cfg.hold;
    while (clock::now() < hold_end && !interrupted.load()) {
        std::this_thread::sleep_until(std::min({hold_end, series.next_due(), clock::now() + std::chrono::milliseconds(20)}));
        series.poll(false);
    }
    series.poll(true);
    r.series = series.take();
    const std::uint64_t rss_held = cfg.broker_pid ? pid_rss_kb(*cfg.broker_pid).value_or(0) : 0;
    loop.post([&st] {
        st.tearing_down = true;
        for (auto& c : st.conns) c->disconnect();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    loop.stop();
    th.join();
    st.conns.clear();

    const double secs = std::chrono::duration<double>(st.last_done - st.start).count();
    r.connect_ok = st.ok;
    r.connect_failed = st.failed;
    r.handshake = st.handshake;
    r.limits = st.limits.take();
    if (secs > 0) r.connect_rate = static_cast<double>(st.ok) / secs;
    if (rss_before > 0 && rss_held >= rss_before && st.ok > 0) {
        r.broker_bytes_per_conn =
            static_cast<double>(rss_held - rss_before) * 1024.0 / static_cast<double>(st.ok);
        r.cpu.broker_rss_kb = rss_held;
    }
    r.interrupted = interrupted.load();
    r.window_s = secs;
    auto& s = r.settings;
    s.url = cfg.url;
    s.protocol = cfg.version == mqtt::protocol_version::v5 ? 5 : 311;
    s.publishers = 0;
    s.subscribers = 0;
    s.clients = cfg.clients;
    s.nodelay = cfg.nodelay;
    s.tls = cfg.transport == mqtt::net::transport_kind::tls || cfg.transport == mqtt::net::transport_kind::wss;
    s.warmup_s = 0;
    s.duration_s = std::chrono::duration<double>(cfg.hold).count();
    s.embedded_broker = cfg.embedded_broker;
    if (!st.failed.empty()) r.invalid_reasons.push_back("some connections failed");
    return r;
}

}  // namespace mq::tools::bench
