// SPDX-License-Identifier: MIT
#include "bench/workers.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "bench/payload_header.hpp"
#include "bench/resources.hpp"

namespace mq::tools::bench::detail {

std::int64_t run_context::stamp_now() const noexcept {
    if (cfg->wall_clock) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
}

void completion_counter::done(std::error_code ec) {
    const std::lock_guard lock(mu_);
    ++count_;
    if (ec && !first_) first_ = ec;
    cv_.notify_all();
}

std::error_code completion_counter::error() {
    const std::lock_guard lock(mu_);
    return first_;
}

arrival group_streams::observe(std::uint32_t publisher, std::uint64_t seq) {
    const std::lock_guard lock(mu_);
    if (publisher >= by_pub_.size()) {
        by_pub_.resize(publisher + 1);
        first_seq_.resize(publisher + 1, UINT64_MAX);
    }
    auto& t = by_pub_[publisher];
    if (!t) t = std::make_unique<loss_tracker>();
    first_seq_[publisher] = std::min(first_seq_[publisher], seq);
    return t->observe(seq);
}

std::error_code completion_counter::wait(std::size_t n, const std::atomic<bool>& interrupted) {
    std::unique_lock lock(mu_);
    while (count_ < n && !first_ && !interrupted.load()) {
        cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
    return first_;
}

mqtt::net::bench_connection_options client_options(const bench_config& cfg, const std::string& client_id,
                                                   std::uint64_t client) {
    mqtt::net::bench_connection_options o;
    o.host = cfg.host;
    o.port = cfg.port;
    o.bind_address =
        cfg.source_ips.empty() ? cfg.bind_address : cfg.source_ips[client % cfg.source_ips.size()];
    o.version = cfg.version;
    o.client_id = client_id;
    o.nodelay = cfg.nodelay;
    o.keep_alive = cfg.keep_alive;
    o.transport = cfg.transport;
    o.ws_path = cfg.ws_path;
    o.tls = cfg.tls;
    o.max_unsent = cfg.max_unsent;
    o.username = cfg.username;
    if (cfg.password) o.password = std::vector<std::uint8_t>(cfg.password->begin(), cfg.password->end());
    return o;
}

namespace {

void lost_connection(worker& w, std::error_code ec) {
    if (!w.stats.closed_error) w.stats.closed_error = ec;
    auto& c = w.series.at(w.ctx.stamp_now());
    ++c.errors;
    ++c.closed;
}

}  // namespace

// ---- publisher ----

publisher::publisher(worker& wk, std::uint32_t i)
    : w(wk),
      index(i),
      topic(wk.ctx.cfg->topic.topic(wk.ctx.cfg->run_id, i, 0)),
      per_message_topic(wk.ctx.cfg->topic.per_message()),
      payload(std::max<std::uint64_t>(wk.ctx.cfg->payload, payload_header_size)),
      conn(wk.loop,
           client_options(*wk.ctx.cfg, fmt::format("mqb-{:08x}-p{}", wk.ctx.cfg->run_id, i),
                          std::uint64_t{wk.ctx.cfg->subscribers} + i),
           mqtt::net::bench_handlers{nullptr, [this](std::uint16_t id, std::uint8_t rc) { on_ack(id, rc); },
                                     [this] {
                                         if (done) return;
                                         if (w.ctx.pace) {
                                             if (waiting) fire();
                                         } else if (w.ctx.cfg->pub_qos == mqtt::qos::at_most_once) {
                                             fill_closed();
                                         }
                                     },
                                     [this](std::error_code ec) {
                                         if (!w.tearing_down) lost_connection(w, ec);
                                         finish();
                                     }}),
      timer(wk.loop) {
    fill_padding(payload);
    if (w.ctx.cfg->pub_qos != mqtt::qos::at_most_once) intended_by_id.assign(65536, 0);
    if (const auto& n = w.ctx.cfg->count) {
        const std::uint32_t pubs = std::max<std::uint32_t>(w.ctx.cfg->publishers, 1);
        quota = *n / pubs + (i < *n % pubs ? 1 : 0);
    }
}

void publisher::start() {
    // Closed loop at QoS 1/2: wake for acks a quarter window at a time (4 bytes
    // each on 3.1.1, at least that on 5), so a broker that acks each message in
    // its own write(2) costs one read and one write of W/4 publishes per batch.
    // The window stays W; ack times are latency samples only in a paced run. A
    // 1 ms period (a 100 µs one fired before W/4 acks came back from mosquitto at
    // 20k msg/s and cost more than it saved) bounds the wait for the last acks.
    if (!w.ctx.pace && w.ctx.cfg->pub_qos != mqtt::qos::at_most_once)
        conn.coalesce_reads(std::chrono::milliseconds(1), std::max<std::size_t>(window / 4, 1) * 4);
    if (w.ctx.pace) {
        fire();
    } else {
        // Closed loop starts at t0 too, so warm-up has the same length in both modes.
        timer.wait_until(w.ctx.ph.t0, [this](bool ok) {
            if (ok) fill_closed();
        });
    }
}

void publisher::finish() {
    if (done) return;
    done = true;
    w.pubs_done.fetch_add(1);
}

void publisher::send(std::int64_t intended, std::int64_t actual) {
    const auto& ctx = w.ctx;
    encode_header(payload_header{ctx.clock_domain, ctx.cfg->run_id, index, seq,
                                 static_cast<std::uint64_t>(intended), static_cast<std::uint64_t>(actual)},
                  payload);
    if (per_message_topic) ctx.cfg->topic.expand(topic, ctx.cfg->run_id, index, seq);
    const std::uint16_t id = conn.publish(topic, payload, ctx.cfg->pub_qos);
    if (id != 0) intended_by_id[id] = intended;
    ++seq;
    ++w.series.at(actual).sent;
    if (in_window(intended, ctx.ph.ws_stamp, ctx.ph.we_stamp)) {
        const std::uint64_t n = sent_in_window.load(std::memory_order_relaxed) + 1;
        sent_in_window.store(n, std::memory_order_relaxed);
        if (ctx.pace) {
            w.stats.send_lag.record_signed(actual - intended);
            if (ctx.pace->is_overrun(actual - intended)) ++w.stats.overruns;
        }
        last_send.store(actual, std::memory_order_relaxed);
        if (n >= quota && !done) {  // --count reached
            w.pubs_at_quota.fetch_add(1);
            finish();
        }
    }
}

void publisher::fire() {
    const auto& ctx = w.ctx;
    const bool windowed = ctx.cfg->pub_qos != mqtt::qos::at_most_once;
    waiting = false;
    std::uint32_t burst = 0;
    while (!done) {
        const std::int64_t off = ctx.pace->offset_ns(index, seq);
        const std::int64_t intended = ctx.ph.t0_stamp + off;
        if (intended >= ctx.ph.we_stamp) {
            finish();
            return;
        }
        // One clock read per message: it decides whether to wait, ends the
        // window and is the send time in the header.
        const std::int64_t now = ctx.stamp_now();
        if (intended > now) {
            timer.wait_until(ctx.ph.t0 + std::chrono::nanoseconds(off), [this](bool ok) {
                if (ok) fire();
            });
            return;
        }
        // The window ends on the clock too: a publisher that cannot keep up
        // with --rate stops at the window's end instead of working off its
        // backlog for as long again. The unsent slots lower the offered rate,
        // which makes the run invalid (bench-method.md §3.2).
        if (now >= ctx.ph.we_stamp) {
            finish();
            return;
        }
        if (windowed ? conn.inflight() >= window : !conn.writable()) {
            // Resumed by on_ack or on_writable; the wait is part of the latency.
            // Waiting for the socket keeps an overloaded QoS 0 run's backlog
            // at max_unsent instead of growing it without bound.
            waiting = true;
            return;
        }
        if (burst == max_late_burst) {
            // Late sends come back to back; yield so that the subscribers and
            // acks sharing this worker's loop are read meanwhile.
            w.loop.post([this] { fire(); });
            return;
        }
        // Late: send at once, never skip.
        send(intended, now);
        ++burst;
    }
}

void publisher::fill_closed() {
    const auto& ctx = w.ctx;
    const bool windowed = ctx.cfg->pub_qos != mqtt::qos::at_most_once;
    while (!done) {
        if (windowed ? conn.inflight() >= window : !conn.writable()) return;
        const std::int64_t now = ctx.stamp_now();
        if (now >= ctx.ph.we_stamp) {
            finish();
            return;
        }
        send(now, now);  // closed loop: intended = actual
    }
}

void publisher::on_ack(std::uint16_t id, std::uint8_t rc) {
    const auto& ctx = w.ctx;
    const std::int64_t intended = intended_by_id[id];
    const std::int64_t now = ctx.stamp_now();
    {
        auto& c = w.series.at(now);
        ++c.acked;
        if (rc >= 0x80) ++c.errors;
    }
    if (in_window(intended, ctx.ph.ws_stamp, ctx.ph.we_stamp)) {
        acked_in_window.store(acked_in_window.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (rc != 0) ++w.stats.ack_failures[fmt::format("0x{:02x}", rc)];
        if (rc < 0x80) {
            ++w.stats.acked_ok;
            if (ctx.pace) w.stats.ack.record_signed(now - intended);
        }
    }
    if (done) return;
    if (ctx.pace) {
        if (waiting) fire();
    } else {
        fill_closed();
    }
}

// ---- subscriber ----

namespace {

// Closed loop measures no latency, so a subscriber may batch small reads
// (bench-method §3.1): against a broker that writes each packet on its own
// (mosquitto) the kernel then wakes the loop once per KiB, not per packet,
// which cuts the generator's wake-ups, reads and TCP ACKs per message
// several-fold. A slower stream waits at most about two 100 µs periods. Never
// in a paced run, whose receive times are latency samples.
mqtt::net::bench_connection_options subscriber_options(const worker& wk, std::uint32_t i) {
    auto o = client_options(*wk.ctx.cfg, fmt::format("mqb-{:08x}-s{}", wk.ctx.cfg->run_id, i), i);
    if (!wk.ctx.pace) o.read_coalesce = std::chrono::microseconds(100);
    return o;
}

}  // namespace

subscriber::subscriber(worker& wk, std::uint32_t i)
    : w(wk),
      index(i),
      conn(wk.loop, subscriber_options(wk, i),
           mqtt::net::bench_handlers{[this](const mqtt::net::bench_message& m) { on_message(m); }, nullptr,
                                     nullptr,
                                     [this](std::error_code ec) {
                                         if (!w.tearing_down) lost_connection(w, ec);
                                     }}) {}

void subscriber::on_message(const mqtt::net::bench_message& m) {
    const auto& ctx = w.ctx;
    const std::int64_t now = ctx.stamp_now();
    if (m.dup) ++w.stats.dup_flags;
    const auto h = decode_header(m.payload);
    if (!h || h->run_id != ctx.cfg->run_id) {
        ++w.stats.foreign;
        return;
    }
    const bool sub_only = ctx.cfg->scenario == "sub";
    const auto intended = static_cast<std::int64_t>(h->intended_ns);
    // Across processes (`sub`) the window is by receive time: the publisher's t0 is unknown.
    const std::int64_t key = sub_only ? now : intended;
    const bool timed = ctx.pace && h->clock_domain == ctx.clock_domain;
    if (!in_window(key, ctx.ph.ws_stamp, ctx.ph.we_stamp)) {
        // Warm-up and stragglers: in the series only (no loss tracking outside the window).
        ++w.series.at(now).received;
        if (timed) w.series.latency(now, now - intended);
        return;
    }
    if (h->publisher_id > 1'000'000) {
        ++w.stats.foreign;
        return;
    }
    arrival a;
    if (ctx.group) {
        a = ctx.group->observe(h->publisher_id, h->sequence);  // one stream per (publisher, group)
    } else {
        if (h->publisher_id >= streams.size()) {
            streams.resize(h->publisher_id + 1);
            first_seq.resize(h->publisher_id + 1, UINT64_MAX);
        }
        auto& s = streams[h->publisher_id];
        if (!s) s = std::make_unique<loss_tracker>();
        first_seq[h->publisher_id] = std::min(first_seq[h->publisher_id], h->sequence);
        a = s->observe(h->sequence);
    }
    if (a == arrival::duplicate) ++w.series.at(now).duplicates;
    if (a == arrival::duplicate || a == arrival::late) return;
    {
        auto& c = w.series.at(now);
        ++c.received;
        if (a == arrival::reordered) ++c.reordered;
    }
    if (timed) w.series.latency(now, now - intended);
    ++received_local;
    received_in_window.store(received_local, std::memory_order_relaxed);
    const auto sec = static_cast<std::size_t>((now - ctx.ph.ws_stamp) / 1'000'000'000);
    if (now >= ctx.ph.ws_stamp) {
        if (w.stats.per_second.size() <= sec) w.stats.per_second.resize(sec + 1, 0);
        ++w.stats.per_second[sec];
    }
    if (timed) {
        w.stats.intended.record_signed(now - intended);
        w.stats.service.record_signed(now - static_cast<std::int64_t>(h->actual_ns));
    }
}

// ---- worker ----

worker::worker(const run_context& c) : ctx(c), cpu_timer_start(loop), cpu_timer_end(loop) {}

worker::~worker() {
    stop_and_join();
}

std::pair<std::uint64_t, std::uint64_t> worker::wire_bytes() const {
    std::uint64_t out = 0, in = 0;
    for (const auto& p : pubs) {
        out += p->conn.bytes_written();
        in += p->conn.bytes_read();
    }
    for (const auto& s : subs) {
        out += s->conn.bytes_written();
        in += s->conn.bytes_read();
    }
    return {out, in};
}

void limits_recorder::note(const mqtt::net::bench_connack& ca, bool v5) {
    const std::lock_guard lock(mu_);
    if (seen_) return;
    seen_ = true;
    if (!v5) return;  // a 3.1.1 CONNACK carries no limits
    const auto& a = ca.props;
    broker_limits l;
    const auto sent = [&l](const char* name, bool present) {
        if (present) l.advertised.emplace_back(name);
    };
    l.receive_maximum = a.receive_maximum.value_or(65535);
    sent("receive_maximum", a.receive_maximum.has_value());
    l.maximum_packet_size = a.maximum_packet_size;
    sent("maximum_packet_size", a.maximum_packet_size.has_value());
    l.topic_alias_maximum = a.topic_alias_maximum.value_or(0);
    sent("topic_alias_maximum", a.topic_alias_maximum.has_value());
    l.maximum_qos = a.maximum_qos.value_or(2);
    sent("maximum_qos", a.maximum_qos.has_value());
    l.retain_available = a.retain_available.value_or(true);
    sent("retain_available", a.retain_available.has_value());
    l.wildcard_subscription_available = a.wildcard_subscription_available.value_or(true);
    sent("wildcard_subscription_available", a.wildcard_subscription_available.has_value());
    l.subscription_identifier_available = a.subscription_identifier_available.value_or(true);
    sent("subscription_identifier_available", a.subscription_identifier_available.has_value());
    l.shared_subscription_available = a.shared_subscription_available.value_or(true);
    sent("shared_subscription_available", a.shared_subscription_available.has_value());
    l.server_keep_alive = a.server_keep_alive;
    sent("server_keep_alive", a.server_keep_alive.has_value());
    limits_ = std::move(l);
}

std::optional<broker_limits> limits_recorder::take() {
    const std::lock_guard lock(mu_);
    return std::move(limits_);
}

void worker::start_thread() {
    thread = std::thread([this] {
        set_timer_slack_ns(1000);  // bench-method §3.2: 1 µs slack
        loop.run();
    });
}

void worker::stop_and_join() {
    if (!thread.joinable()) return;
    loop.stop();
    thread.join();
}

}  // namespace mq::tools::bench::detail
