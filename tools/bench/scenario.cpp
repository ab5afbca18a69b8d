// SPDX-License-Identifier: MIT
#include "bench/scenario.hpp"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string_view>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include <mqtt/codec/reason.hpp>

#include "bench/multi_run.hpp"
#include "bench/progress.hpp"
#include "bench/resources.hpp"
#include "bench/series_sampler.hpp"
#include "bench/workers.hpp"
#include "common/exit_codes.hpp"

namespace mq::tools::bench {

using namespace detail;

std::optional<topic_template> topic_template_or_default(const std::string& text) {
    std::string err;
    return topic_template::parse(text, err);
}

namespace {

// Sleeps until `t` in short steps so SIGINT is noticed; false when interrupted.
bool sleep_until(clock::time_point t, const std::atomic<bool>& interrupted) {
    while (clock::now() < t) {
        if (interrupted.load()) return false;
        std::this_thread::sleep_until(std::min(t, clock::now() + std::chrono::milliseconds(20)));
    }
    return !interrupted.load();
}

std::error_code suback_error(const std::vector<mqtt::reason>& codes) {
    for (const auto rc : codes) {
        if (static_cast<unsigned>(rc) >= 0x80) return mqtt::make_error_code(rc);
    }
    if (codes.empty()) return mqtt::make_error_code(mqtt::reason::unspecified_error);
    return {};
}

// Starts clients 0..n-1 at --connect-rate with at most --connect-concurrency
// handshakes in flight (bench-method §6) and waits for all; the first error.
std::error_code launch_paced(const bench_config& cfg, std::uint32_t n, completion_counter& done,
                             const std::atomic<bool>& interrupted,
                             const std::function<void(std::uint32_t)>& start) {
    const auto begin = clock::now();
    for (std::uint32_t i = 0; i < n; ++i) {
        const auto due = begin + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                     1e9 * static_cast<double>(i) / static_cast<double>(cfg.connect_rate)));
        if (!sleep_until(due, interrupted)) return {};
        if (i >= cfg.connect_concurrency) {
            if (auto ec = done.wait(i - cfg.connect_concurrency + 1, interrupted)) return ec;
        }
        if (auto ec = done.error()) return ec;
        if (interrupted.load()) return {};
        start(i);
    }
    return done.wait(n, interrupted);
}

struct broker_sample {
    std::optional<std::uint64_t> cpu_ns;
    std::optional<machine_ticks> ticks;
};

broker_sample sample_broker(const bench_config& cfg) {
    broker_sample s;
    if (cfg.broker_cpu_ns) {
        s.cpu_ns = cfg.broker_cpu_ns();
    } else if (cfg.broker_pid) {
        s.cpu_ns = pid_cpu_ns(*cfg.broker_pid);
    }
    s.ticks = read_machine_ticks();
    return s;
}

}  // namespace

run_result run_bench(const bench_config& cfg, const std::atomic<bool>& interrupted) {
    run_context ctx;
    ctx.cfg = &cfg;
    ctx.clock_domain = cfg.wall_clock ? 0 : local_clock_domain();
    if (cfg.rate) ctx.pace.emplace(*cfg.rate, std::max<std::uint32_t>(cfg.publishers, 1));

    const std::uint32_t nthreads = std::max<std::uint32_t>(
        1, std::min(cfg.threads, std::max<std::uint32_t>(1, cfg.publishers + cfg.subscribers)));
    std::vector<std::unique_ptr<worker>> workers;
    for (std::uint32_t t = 0; t < nthreads; ++t) workers.push_back(std::make_unique<worker>(ctx));
    for (auto& w : workers) w->start_thread();

    auto run_on = [](worker& w, auto fn) { w.loop.post(std::move(fn)); };

    // Subscribers first: every SUBACK must be in before any message is sent (§6).
    completion_counter subs_ready;
    limits_recorder limits;
    const bool v5 = cfg.version == mqtt::protocol_version::v5;
    group_streams group;
    if (!cfg.shared_group.empty()) ctx.group = &group;
    const std::string filter = cfg.shared_group.empty()
                                   ? cfg.topic.filter(cfg.run_id)
                                   : "$share/" + cfg.shared_group + "/" + cfg.topic.filter(cfg.run_id);
    // Callbacks reference locals of this function: join the threads before throwing.
    std::atomic<std::uint32_t> broker_max_packet{0};
    auto fail = [&](std::error_code ec, const char* who) {
        for (auto& w : workers) w->stop_and_join();
        if (ec == tool_error::data) {
            throw std::system_error(
                ec, fmt::format("a {}-byte payload is over the broker's Maximum Packet Size ({})",
                                cfg.payload, broker_max_packet.load()));
        }
        throw std::system_error(ec, fmt::format("bench {} on {}: {}", who, cfg.url, ec.message()));
    };
    auto start_sub = [&](std::uint32_t i) {
        worker& w = *workers[i % nthreads];
        run_on(w, [&w, &subs_ready, &cfg, &filter, &limits, v5, i] {
            w.subs.push_back(std::make_unique<subscriber>(w, i));
            subscriber& s = *w.subs.back();
            s.conn.connect([&s, &subs_ready, &cfg, &filter, &limits, v5](std::error_code ec,
                                                                         const mqtt::net::bench_connack& ca) {
                if (ec) {
                    subs_ready.done(ec);
                    return;
                }
                limits.note(ca, v5);
                s.conn.subscribe(filter, cfg.sub_qos,
                                 [&subs_ready](std::error_code sec, const std::vector<mqtt::reason>& codes) {
                                     subs_ready.done(sec ? sec : suback_error(codes));
                                 });
            });
        });
    };
    if (auto ec = launch_paced(cfg, cfg.subscribers, subs_ready, interrupted, start_sub)) fail(ec, "subscriber");

    completion_counter pubs_ready;
    std::atomic<std::uint32_t> effective_window{cfg.window};
    std::atomic<bool> rm_known{cfg.version == mqtt::protocol_version::v5};
    auto start_pub = [&](std::uint32_t i) {
        worker& w = *workers[i % nthreads];
        run_on(w, [&w, &pubs_ready, &cfg, &effective_window, &broker_max_packet, &limits, v5, i] {
            w.pubs.push_back(std::make_unique<publisher>(w, i));
            publisher& p = *w.pubs.back();
            p.conn.connect([&p, &pubs_ready, &cfg, &effective_window, &broker_max_packet, &limits, v5](
                               std::error_code ec, const mqtt::net::bench_connack& ca) {
                if (!ec) limits.note(ca, v5);
                // A payload the broker would refuse is a usage problem, not a benchmark result.
                const std::size_t frame = 1 + 4 + 2 + cfg.topic.max_size() + 2 + 1 + p.payload.size();
                if (!ec && ca.maximum_packet_size != 0 && frame > ca.maximum_packet_size) {
                    broker_max_packet.store(ca.maximum_packet_size);
                    pubs_ready.done(make_error_code(tool_error::data));
                    return;
                }
                // W = min(--window, the broker's Receive Maximum) (§3.1).
                p.window =
                    static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg.window, ca.receive_maximum));
                std::uint32_t cur = effective_window.load();
                while (p.window < cur && !effective_window.compare_exchange_weak(cur, p.window)) {
                }
                pubs_ready.done(ec);
            });
        });
    };
    if (auto ec = launch_paced(cfg, cfg.publishers, pubs_ready, interrupted, start_pub)) fail(ec, "publisher");

    // Phases: everyone is connected; start shortly so every worker sees t0 in the future.
    auto& ph = ctx.ph;
    ph.t0 = clock::now() + std::chrono::milliseconds(20);
    ph.window_start = ph.t0 + cfg.warmup;
    ph.window_end = ph.window_start + cfg.duration;
    const std::int64_t stamp_now = ctx.stamp_now();
    const std::int64_t steady_now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
    ph.t0_stamp = std::chrono::duration_cast<std::chrono::nanoseconds>(ph.t0.time_since_epoch()).count() +
                  (stamp_now - steady_now);
    ph.ws_stamp = ph.t0_stamp + cfg.warmup.count();
    ph.we_stamp = ph.ws_stamp + cfg.duration.count();

    series_sampler series(cfg, ph, workers, cfg.publishers + cfg.subscribers);
    for (auto& wp : workers) {
        worker& w = *wp;
        run_on(w, [&w] {
            w.series.set_origin(w.ctx.ph.ws_stamp);
            for (auto& p : w.pubs) p->start();
            w.cpu_timer_start.wait_until(w.ctx.ph.window_start, [&w](bool ok) {
                if (!ok) return;
                w.stats.cpu_start_ns = thread_cpu_ns();
                std::tie(w.stats.bytes_sent_start, w.stats.bytes_received_start) = w.wire_bytes();
            });
            w.cpu_timer_end.wait_until(w.ctx.ph.window_end, [&w](bool ok) {
                if (!ok) return;
                w.stats.cpu_end_ns = thread_cpu_ns();
                std::tie(w.stats.bytes_sent_end, w.stats.bytes_received_end) = w.wire_bytes();
                w.stats.bytes_end_taken = true;
            });
        });
    }

    run_result r;
    // Each message reaches every subscriber, or one member of the shared group.
    const std::uint64_t deliveries = cfg.shared_group.empty() ? cfg.subscribers : 1;
    std::uint64_t expected = 0, received = 0, sent = 0, acked = 0;
    auto totals = [&] {
        sent = acked = received = 0;
        std::uint32_t done = 0;
        for (auto& w : workers) {
            done += w->pubs_done.load();
            for (auto& p : w->pubs) {
                sent += p->sent_in_window.load(std::memory_order_relaxed);
                acked += p->acked_in_window.load(std::memory_order_relaxed);
            }
            for (auto& s : w->subs) received += s->received_in_window.load(std::memory_order_relaxed);
        }
        expected = cfg.scenario == "sub" ? 0 : sent * deliveries;
        const bool acks_in = cfg.pub_qos == mqtt::qos::at_most_once || acked >= sent;
        return done == cfg.publishers && received >= expected && acks_in;
    };
    // Progress (bench-method §8): stderr TTY only, one line rewritten 4 times a second
    // from the completed seconds of the series.
    const bool progress = progress_wanted(2);
    auto next_progress = clock::now() + std::chrono::milliseconds(250);
    const bool acked_qos = cfg.pub_qos != mqtt::qos::at_most_once;
    const bool e2e = cfg.publishers > 0 && cfg.subscribers > 0;
    // --count: the window ends when every publisher has sent its share.
    auto all_sent = [&] {
        std::uint32_t done = 0;
        for (auto& w : workers) done += w->pubs_at_quota.load();
        return done == cfg.publishers;
    };
    bool count_reached = false;
    auto wait_phase = [&](clock::time_point until, const char* phase) {
        const bool counting = cfg.count && std::string_view(phase) == "window";
        while (clock::now() < until) {
            if (counting && all_sent()) {
                count_reached = true;
                return true;
            }
            auto wake = std::min({until, next_progress, series.next_due()});
            if (counting) wake = std::min(wake, clock::now() + std::chrono::milliseconds(5));
            if (!sleep_until(wake, interrupted)) return false;
            series.poll(interrupted);
            if (clock::now() < next_progress) continue;
            next_progress += std::chrono::milliseconds(250);
            if (!progress) continue;
            const auto& run = series.totals();
            progress_state st;
            st.phase = phase;
            st.elapsed_s = std::chrono::duration<double>(clock::now() - ph.window_start).count();
            if (run.last) {
                st.sent_per_s = static_cast<double>(run.last->sent) / run.last->span_s;
                st.received_per_s = static_cast<double>(run.last->received) / run.last->span_s;
                st.connections = run.last->connections.value_or(0);
            } else {
                st.connections = cfg.publishers + cfg.subscribers;
            }
            if (acked_qos) {
                st.in_flight = run.sent - std::min(run.sent, run.acked);
            } else if (e2e) {
                const std::uint64_t due = run.sent * deliveries;
                st.in_flight = due - std::min(due, run.received);
            }
            if (cfg.rate && run.latency.count() > 0)
                st.p99_us = static_cast<double>(run.latency.percentile(0.99)) / 1000.0;
            st.errors = run.errors;
            const std::string line = "\r\033[K" + progress_text(st);
            (void)!::write(2, line.data(), line.size());
        }
        return true;
    };
    bool stopped = !wait_phase(ph.window_start, "warm-up");
    const broker_sample b0 = sample_broker(cfg);
    stopped = stopped || !wait_phase(ph.window_end, "window");
    if (count_reached) {
        // The window ends now: CPU and byte counts, and the series, stop here.
        const auto end = clock::now();
        completion_counter sampled;
        for (auto& wp : workers) {
            worker& w = *wp;
            run_on(w, [&w, &sampled] {
                w.cpu_timer_end.cancel();
                w.stats.cpu_end_ns = thread_cpu_ns();
                std::tie(w.stats.bytes_sent_end, w.stats.bytes_received_end) = w.wire_bytes();
                w.stats.bytes_end_taken = true;
                sampled.done({});
            });
        }
        sampled.wait(workers.size(), interrupted);
        series.end_window(end);
    }
    const broker_sample b1 = sample_broker(cfg);
    series.poll(interrupted);
    if (progress) (void)!::write(2, "\r\033[K", 4);

    // Drain: wait for publishers to finish their window and for every expected delivery or ack.
    const auto drain_end = clock::now() + cfg.drain;
    while (!stopped && !totals() && clock::now() < drain_end) {
        if (!sleep_until(std::min(drain_end, clock::now() + std::chrono::milliseconds(10)), interrupted)) {
            stopped = true;
        }
    }

    // An interrupted run's rates divide by the part of the window that happened.
    const double window_done = std::clamp(
        std::chrono::duration<double>(std::min(clock::now(), ph.window_end) - ph.window_start).count(), 0.0,
        std::chrono::duration<double>(cfg.duration).count());

    // Teardown: DISCONNECT everyone, give the writes a moment, stop the loops.
    completion_counter closed;
    for (auto& wp : workers) {
        worker& w = *wp;
        run_on(w, [&w, &closed] {
            w.tearing_down = true;
            // An interrupted window ends now.
            if (!w.stats.bytes_end_taken) {
                std::tie(w.stats.bytes_sent_end, w.stats.bytes_received_end) = w.wire_bytes();
                w.stats.bytes_end_taken = true;
            }
            for (auto& p : w.pubs) {
                p->finish();
                p->timer.cancel();
                p->conn.disconnect();
            }
            for (auto& s : w.subs) s->conn.disconnect();
            closed.done({});
        });
    }
    closed.wait(workers.size(), interrupted);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (auto& w : workers) w->stop_and_join();
    totals();

    // Merge per-thread results (the threads are joined: plain reads are safe).
    r.run_id = fmt::format("{:08x}", cfg.run_id);
    r.scenario = cfg.scenario;
    r.interrupted = interrupted.load();
    r.window_s = stopped ? window_done : std::chrono::duration<double>(cfg.duration).count();
    if (count_reached && !stopped) {
        // Open loop: the schedule's length (count / rate); closed loop: up to the last send.
        std::int64_t last = ph.ws_stamp;
        for (auto& wp : workers) {
            for (auto& p : wp->pubs) last = std::max(last, p->last_send.load());
        }
        r.window_s = cfg.rate ? static_cast<double>(*cfg.count) / *cfg.rate
                              : std::max(1e-3, static_cast<double>(last - ph.ws_stamp) / 1e9);
    } else if (cfg.count && !stopped) {
        r.notes.push_back(fmt::format("--count {}: {} sent before --duration ended the window", *cfg.count, sent));
    }
    r.sent = sent;
    r.expected = expected;
    r.series = series.take();
    r.limits = limits.take();
    double gen_cpu_s = 0;
    std::error_code closed_error;
    for (auto& wp : workers) {
        worker_stats& st = wp->stats;
        r.intended.merge(st.intended);
        r.service.merge(st.service);
        r.ack.merge(st.ack);
        r.send_lag.merge(st.send_lag);
        r.overruns += st.overruns;
        r.foreign += st.foreign;
        r.dup_flags += st.dup_flags;
        r.acked += st.acked_ok;
        for (const auto& [k, v] : st.ack_failures) r.ack_failures[k] += v;
        if (r.delivered_per_second.size() < st.per_second.size())
            r.delivered_per_second.resize(st.per_second.size());
        for (std::size_t i = 0; i < st.per_second.size(); ++i) r.delivered_per_second[i] += st.per_second[i];
        if (st.cpu_end_ns > st.cpu_start_ns)
            gen_cpu_s += static_cast<double>(st.cpu_end_ns - st.cpu_start_ns) / 1e9;
        if (!closed_error) closed_error = st.closed_error;
        if (st.bytes_sent_end > st.bytes_sent_start) r.bytes_sent += st.bytes_sent_end - st.bytes_sent_start;
        if (st.bytes_received_end > st.bytes_received_start)
            r.bytes_received += st.bytes_received_end - st.bytes_received_start;
        for (auto& s : wp->subs) {
            for (std::size_t pid = 0; pid < s->streams.size(); ++pid) {
                const auto& t = s->streams[pid];
                if (!t) continue;
                r.duplicates += t->duplicates();
                r.reordered += t->reordered();
                r.late += t->late();
                r.received += t->unique();
                if (cfg.scenario == "sub") r.lost += t->lost(t->highest() + 1 - s->first_seq[pid]);
            }
        }
        r.connect_ok += static_cast<std::uint64_t>(wp->pubs.size() + wp->subs.size());
    }
    if (ctx.group) {
        // Shared subscription: the group's streams count, and each member's share of them.
        for (std::size_t pid = 0; pid < group.streams().size(); ++pid) {
            const auto& t = group.streams()[pid];
            if (!t) continue;
            r.duplicates += t->duplicates();
            r.reordered += t->reordered();
            r.late += t->late();
            r.received += t->unique();
            if (cfg.scenario == "sub") r.lost += t->lost(t->highest() + 1 - group.first_seq()[pid]);
        }
        shared_result sh;
        sh.group = cfg.shared_group;
        sh.members = cfg.subscribers;
        std::uint64_t lo = UINT64_MAX, hi = 0, all = 0;
        for (auto& wp : workers) {
            for (auto& sub : wp->subs) {
                lo = std::min(lo, sub->received_local);
                hi = std::max(hi, sub->received_local);
                all += sub->received_local;
            }
        }
        if (all > 0 && lo != UINT64_MAX) {
            sh.min_share = static_cast<double>(lo) / static_cast<double>(all);
            sh.max_share = static_cast<double>(hi) / static_cast<double>(all);
        }
        r.shared = sh;
    }
    if (cfg.pub_qos == mqtt::qos::at_most_once) r.acked = r.sent;
    if (cfg.scenario != "sub")
        r.lost = r.expected > r.received + r.late ? r.expected - r.received - r.late : 0;
    if (r.delivered_per_second.size() > static_cast<std::size_t>(r.window_s)) {
        r.delivered_per_second.resize(static_cast<std::size_t>(r.window_s));
    }
    if (closed_error)
        r.invalid_reasons.push_back(fmt::format("a connection was lost: {}", closed_error.message()));

    // Resources over the window (§10).
    auto& s = r.settings;
    s.url = cfg.url;
    s.protocol = cfg.version == mqtt::protocol_version::v5 ? 5 : 311;
    s.qos = static_cast<int>(cfg.pub_qos);
    s.payload = std::max<std::uint64_t>(cfg.payload, 40);
    s.publishers = cfg.publishers;
    s.subscribers = cfg.subscribers;
    s.rate = cfg.rate;
    s.window = cfg.window;
    s.effective_window = effective_window.load();
    s.receive_maximum_known = rm_known.load();
    s.nodelay = cfg.nodelay;
    s.tls = cfg.transport == mqtt::net::transport_kind::tls || cfg.transport == mqtt::net::transport_kind::wss;
    s.threads = nthreads;
    s.topic = cfg.topic.text();
    s.count = cfg.count;
    s.connect_rate = cfg.connect_rate;
    s.source_ips = cfg.source_ips;
    s.warmup_s = std::chrono::duration<double>(cfg.warmup).count();
    s.duration_s = std::chrono::duration<double>(cfg.duration).count();
    s.clock = cfg.wall_clock ? "wall" : "monotonic";
    s.embedded_broker = cfg.embedded_broker;
    const std::uint64_t per_msg_base = r.received > 0 ? r.received : r.sent;
    if (!stopped && r.window_s > 0) {
        r.cpu.generator_cores = gen_cpu_s / r.window_s;
        if (per_msg_base > 0)
            r.cpu.generator_us_per_msg = gen_cpu_s * 1e6 / static_cast<double>(per_msg_base);
        r.generator_bound = gen_cpu_s / r.window_s > 0.9 * nthreads;
        if (b0.cpu_ns && b1.cpu_ns && *b1.cpu_ns >= *b0.cpu_ns) {
            const double bs = static_cast<double>(*b1.cpu_ns - *b0.cpu_ns) / 1e9;
            r.cpu.broker_cores = bs / r.window_s;
            if (per_msg_base > 0) r.cpu.broker_us_per_msg = bs * 1e6 / static_cast<double>(per_msg_base);
        }
        if (cfg.broker_pid) r.cpu.broker_rss_kb = pid_rss_kb(*cfg.broker_pid);
        if (b0.ticks && b1.ticks) r.cpu.machine_busy_pct = busy_pct(*b0.ticks, *b1.ticks);
        // §10: only with the broker's CPU known can the rest of the machine's load be told apart.
        if (r.cpu.machine_busy_pct && r.cpu.broker_cores) {
            const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
            r.noisy = is_noisy(*r.cpu.machine_busy_pct, gen_cpu_s / r.window_s, *r.cpu.broker_cores,
                               cores > 0 ? static_cast<unsigned>(cores) : 1u);
        }
    }
    check_validity(r);
    return r;
}

}  // namespace mq::tools::bench
