// SPDX-License-Identifier: MIT
// The broker engine: listeners, shutdown, and the public server API. Session
// lookup and routing are in server_routing.cpp, connections in server_connection.cpp.
#include <mqtt/net/server.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server_impl.hpp"

namespace mqtt::net {
namespace detail {

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::string bracket(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// hardening.md §1.1: idle 300 s, interval 30 s, 4 probes.
void set_socket_options(tcp::socket& s) {
    boost::system::error_code ec;
    s.set_option(tcp::no_delay(true), ec);
    s.set_option(asio::socket_base::keep_alive(true), ec);
    const int fd = s.native_handle();
    int idle = 300, intvl = 30, cnt = 4;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

std::vector<std::unique_ptr<worker>> make_workers(unsigned n) {
    std::vector<std::unique_ptr<worker>> w;
    for (unsigned i = 0; i < std::max(n, 1u); ++i) w.push_back(std::make_unique<worker>());
    return w;
}

}  // namespace

listen_address parse_listen_url(const std::string& url) {
    const auto sep = url.find("://");
    if (sep == std::string::npos)
        throw std::invalid_argument("listener URL '" + url + "': expected mqtt://host:port");
    const std::string scheme = url.substr(0, sep);
    listen_address out;
    if (scheme == "mqtt") {
        out.kind = transport_kind::tcp;
    } else if (scheme == "mqtts") {
        out.kind = transport_kind::tls;
        out.port = 8883;
    } else if (scheme == "ws") {
        out.kind = transport_kind::ws;
        out.port = 80;
    } else if (scheme == "wss") {
        out.kind = transport_kind::wss;
        out.port = 443;
    } else {
        throw std::invalid_argument("listener URL '" + url + "': unknown scheme '" + scheme +
                                    "' (mqtt, mqtts, ws, wss)");
    }
    std::string rest = url.substr(sep + 3);
    const bool ws = out.kind == transport_kind::ws || out.kind == transport_kind::wss;
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        const std::string path = rest.substr(slash);
        rest.resize(slash);
        if (ws)
            out.path = path == "/" ? std::string() : path;
        else if (path != "/")
            throw std::invalid_argument("listener URL '" + url + "': a path is only for ws:// and wss://");
    }
    std::string port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string::npos)
            throw std::invalid_argument("listener URL '" + url + "': unclosed '['");
        out.host = rest.substr(1, close - 1);
        const std::string tail = rest.substr(close + 1);
        if (!tail.empty()) {
            if (tail.front() != ':')
                throw std::invalid_argument("listener URL '" + url + "': junk after ']'");
            port_text = tail.substr(1);
        }
    } else {
        const auto colon = rest.find(':');
        if (colon != std::string::npos && rest.find(':', colon + 1) != std::string::npos)
            throw std::invalid_argument("listener URL '" + url + "': IPv6 addresses need brackets");
        out.host = rest.substr(0, colon);
        if (colon != std::string::npos) port_text = rest.substr(colon + 1);
    }
    if (out.host.empty()) throw std::invalid_argument("listener URL '" + url + "': missing host");
    if (!port_text.empty()) {
        unsigned long v = 0;
        for (char ch : port_text) {
            if (ch < '0' || ch > '9' || port_text.size() > 5)
                throw std::invalid_argument("listener URL '" + url + "': bad port '" + port_text + "'");
            v = v * 10 + static_cast<unsigned long>(ch - '0');
        }
        if (v > 65535) throw std::invalid_argument("listener URL '" + url + "': port out of range");
        out.port = static_cast<std::uint16_t>(v);
    }
    return out;
}

server_state::server_state(server_options o, logger l)
    : opts(std::move(o)), log(std::move(l)), workers(make_workers(opts.workers)), ioc(workers.front()->ioc) {
    const auto& lim = opts.limits;
    session_cfg.max_packet_size = lim.max_packet_size;
    session_cfg.receive_maximum = lim.receive_maximum;
    session_cfg.max_inflight = lim.max_inflight;
    session_cfg.max_queued = lim.max_queued;
    session_cfg.topic_alias_maximum = lim.topic_alias_maximum;
    session_cfg.max_keepalive = lim.max_keepalive;
    session_cfg.max_session_expiry = lim.max_session_expiry;
    session_cfg.max_string_length = lim.max_string_length;
    session_cfg.max_topic_length = lim.max_topic_length;
    session_cfg.max_topic_levels = lim.max_topic_levels;
    session_cfg.max_queued_bytes = lim.max_queued_bytes;
    // Before CONNECT: a small packet limit, strings bounded only by it (the
    // session applies the client id / username limits with their own codes).
    connect_limits.max_packet_size = lim.max_connect_packet;
    connect_limits.max_user_properties = lim.max_user_properties;
    connect_limits.max_topic_levels = lim.max_topic_levels;
    connect_limits.from_client = true;
    packet_limits.max_packet_size = lim.max_packet_size;
    packet_limits.max_string_length = lim.max_string_length;
    packet_limits.max_user_properties = lim.max_user_properties;
    // PUBLISH topic levels are the session's to check, so QoS 1/2 can be
    // answered with 0x90 in the ack instead of a decode error's DISCONNECT.
    packet_limits.from_client = true;
}

void server_state::start() {
    asio::ip::tcp::resolver resolver(ioc);
    // Everything that can be wrong with the configuration fails before any bind.
    std::vector<listen_address> addrs;
    bool need_tls = false;
    for (const auto& l : opts.listeners) {
        addrs.push_back(parse_listen_url(l.url));
        need_tls = need_tls || addrs.back().kind == transport_kind::tls || addrs.back().kind == transport_kind::wss;
    }
    load_auth();
    if (need_tls) tls_ctx = make_server_tls_context(opts.tls);
    // Restored sessions and retained messages are in place before any client connects.
    open_persistence();
    for (const auto& a : addrs) {
        boost::system::error_code ec;
        auto results =
            resolver.resolve(a.host, std::to_string(a.port), asio::ip::resolver_base::numeric_service, ec);
        if (ec || results.empty())
            throw std::system_error(
                ec ? std::error_code(ec) : make_error_code(std::errc::address_not_available),
                "cannot resolve listener host '" + a.host + "'");
        const tcp::endpoint ep = results.begin()->endpoint();
        // cli-contract §9: without a password file, anonymous clients are the
        // default only on loopback; elsewhere the choice must be explicit.
        const bool cert_auth = opts.tls.require_client_cert &&
                               (a.kind == transport_kind::tls || a.kind == transport_kind::wss);
        if (!ep.address().is_loopback() && opts.password_file.empty() && !opts.allow_anonymous && !cert_auth)
            throw config_error("listener " + bracket(ep.address().to_string()) +
                               " is not loopback: give --password-file or --allow-anonymous");
        tcp::acceptor acc(ioc);
        acc.open(ep.protocol(), ec);
        if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec && ep.address().is_v6()) acc.set_option(asio::ip::v6_only(true), ec);
        if (!ec) acc.bind(ep, ec);
        if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::system_error(
                std::error_code(ec),
                "cannot listen on " + bracket(ep.address().to_string()) + ":" + std::to_string(a.port));
        const auto bound = acc.local_endpoint();
        listener_info info;
        static constexpr const char* transports[] = {"tcp", "tls", "ws", "wss"};
        static constexpr const char* schemes[] = {"mqtt", "mqtts", "ws", "wss"};
        const auto k = static_cast<std::size_t>(a.kind);
        info.transport = transports[k];
        info.address = bound.address().to_string();
        info.port = bound.port();
        info.url = std::string(schemes[k]) + "://" + bracket(info.address) + ":" + std::to_string(info.port);
        const bool ws = a.kind == transport_kind::ws || a.kind == transport_kind::wss;
        if (ws) info.url += a.path;
        infos.push_back(info);
        slots.push_back({a.kind, a.path});
        acceptors.push_back(std::move(acc));
        MQ_LOG(log, log_level::info, "broker", "", "listening on {}", info.url);
    }
    for (std::size_t i = 0; i < acceptors.size(); ++i)
        asio::co_spawn(ioc, accept_loop(acceptors[i], slots[i]), asio::detached);
    asio::co_spawn(ioc, housekeeping_loop(), asio::detached);
    started_at = core::clock::now();
    if (opts.sys_interval.count() > 0) asio::co_spawn(ioc, sys_loop(), asio::detached);
    if (opts.handle_signals) {
        signals.emplace(ioc, SIGINT, SIGTERM, SIGHUP);
        wait_signal();
    }
}

void server_state::wait_signal() {
    signals->async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        const state_lock lk(mu);
        if (sig == SIGHUP) {
            MQ_LOG(log, log_level::info, "broker", "", "SIGHUP: reloading password and ACL files");
            reload();
            wait_signal();
            return;
        }
        MQ_LOG(log, log_level::info, "broker", "", "signal {}: shutting down", sig);
        stop(opts.shutdown_timeout);
    });
}

core::clock::duration server_state::connect_rate_delay(core::time_point now) {
    const double rate = opts.limits.max_connect_rate;
    if (connect_refill == core::time_point{}) {
        connect_tokens = rate;  // one second's burst from the start
    } else {
        const double elapsed = std::chrono::duration<double>(now - connect_refill).count();
        connect_tokens = std::min(rate, connect_tokens + elapsed * rate);
    }
    connect_refill = now;
    if (connect_tokens >= 1.0) {
        connect_tokens -= 1.0;
        return core::clock::duration::zero();
    }
    return std::chrono::duration_cast<core::clock::duration>(std::chrono::duration<double>((1.0 - connect_tokens) / rate));
}

asio::awaitable<void> server_state::accept_loop(tcp::acceptor& acc, const listener_slot& slot) {
    // The state lock is held between suspensions, never across one.
    state_lock lk(mu, std::defer_lock);
    for (;;) {
        if (opts.limits.max_connect_rate > 0) {
            // Over the rate, the next accept waits: clients queue in the listen
            // backlog and get their CONNACK late, not a refusal to retry on.
            for (int waits = 0;; ++waits) {
                lk.lock();
                const auto now = core::clock::now();
                const auto delay = connect_rate_delay(now);
                if (delay == core::clock::duration::zero()) {
                    lk.unlock();
                    break;
                }
                if (waits == 0 && now - last_rate_log >= std::chrono::seconds(1)) {
                    last_rate_log = now;
                    MQ_LOG(log, log_level::warn, "broker", "", "connect rate {}/s reached (--max-connect-rate): accept delayed",
                           opts.limits.max_connect_rate);
                }
                lk.unlock();
                asio::steady_timer t(ioc, delay);
                co_await t.async_wait(use_nothrow);
                lk.lock();
                const bool ending = stopping;
                lk.unlock();
                if (ending) co_return;
            }
        }
        // Round-robin over the workers; the socket belongs to its worker for life.
        worker& w = *workers[next_worker++ % workers.size()];
        auto [ec, accepted_sock] = co_await acc.async_accept(w.ioc, use_nothrow);
        tcp::socket sock(std::move(accepted_sock));  // io_context executor -> any_io_executor
        lk.lock();
        if (stopping || ec == asio::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors and the like: back off instead of spinning.
            MQ_LOG(log, log_level::warn, "broker", "", "accept: {}", ec.message());
            lk.unlock();
            asio::steady_timer t(ioc, std::chrono::milliseconds(100));
            co_await t.async_wait(use_nothrow);
            continue;
        }
        set_socket_options(sock);
        accepted.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t id = next_conn++;
        auto c = std::make_shared<connection>(*this, w.ioc, std::move(sock), id, slot);
        conns.emplace(id, c);
        c->start();
        lk.unlock();
    }
}

asio::awaitable<void> server_state::housekeeping_loop() {
    state_lock lk(mu);
    while (!stopping) {
        housekeeping.expires_after(std::chrono::seconds(1));
        lk.unlock();
        co_await housekeeping.async_wait(use_nothrow);
        lk.lock();
        if (stopping) co_return;
        const auto now = core::clock::now();
        expire_sessions(now);
        expire_retained(now);
        flush_drop_log(now, false);
        maybe_compact();
    }
}

void server_state::stop(std::chrono::milliseconds drain) {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ec;
    for (auto& a : acceptors) a.close(ec);
    if (signals) signals->cancel(ec);
    housekeeping.cancel();
    sys_timer.cancel();
    cancel_all_wills();  // sessions end without persistence; Wills are not sent on shutdown
    flush_drop_log(core::clock::now(), true);
    // Copy: kicks may close connections, which erases them from `conns`.
    std::vector<std::shared_ptr<connection>> live;
    for (auto& [id, c] : conns) live.push_back(c);
    for (auto& c : live) c->kick(reason::server_shutting_down, false);  // v5: DISCONNECT 0x8B
    if (conns.empty()) {
        stop_workers();
        return;
    }
    drain_timer.expires_after(drain);
    drain_timer.async_wait([this](const boost::system::error_code& wait_ec) {
        if (wait_ec) return;  // everything closed in time (forget() cancelled it)
        const state_lock lk(mu);
        std::vector<std::shared_ptr<connection>> rest;
        for (auto& [id, c] : conns) rest.push_back(c);
        // Closes on other workers are posted to them; the last one's forget()
        // ends the run.
        for (auto& c : rest) c->close_now();
        if (conns.empty()) stop_workers();
    });
}

void server_state::forget(std::uint64_t conn_id) {
    conns.erase(conn_id);
    if (stopping && conns.empty()) {
        drain_timer.cancel();
        stop_workers();
    }
}

void server_state::stop_workers() {
    for (auto& w : workers) {
        w->keep.reset();
        w->ioc.stop();
    }
}

}  // namespace detail

struct server::impl {
    impl(server_options o, logger l) : state(std::move(o), std::move(l)) {}
    detail::server_state state;
};

server::server(server_options opts, logger log)
    : impl_(std::make_unique<impl>(std::move(opts), std::move(log))) {}

server::~server() = default;

void server::start() {
    impl_->state.start();
}

bool server::reload() {
    const detail::state_lock lk(impl_->state.mu);
    return impl_->state.reload();
}

std::vector<listener_info> server::listeners() const {
    return impl_->state.infos;
}

void server::run() {
    auto& st = impl_->state;
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < st.workers.size(); ++i)
        threads.emplace_back([w = st.workers[i].get()] { w->ioc.run(); });
    st.ioc.run();
    // Worker 0 ends only through stop_workers(), which ends them all.
    for (auto& t : threads) t.join();
}

void server::stop(std::chrono::milliseconds drain) {
    auto* st = &impl_->state;
    boost::asio::post(st->ioc, [st, drain] {
        const detail::state_lock lk(st->mu);
        st->stop(drain);
    });
}

server_stats server::stats() const {
    const auto& st = impl_->state;
    server_stats s;
    s.connections_accepted = st.accepted.load(std::memory_order_relaxed);
    s.messages_received = st.received.load(std::memory_order_relaxed);
    s.messages_sent = st.sent.load(std::memory_order_relaxed);
    s.messages_dropped = st.dropped.load(std::memory_order_relaxed);
    const auto cause = [&st](detail::drop_cause c) {
        return st.drops_by_cause[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
    };
    s.dropped_queue_full = cause(detail::drop_cause::queue_full);
    s.dropped_packet_too_large = cause(detail::drop_cause::packet_too_large);
    s.dropped_expired = cause(detail::drop_cause::expired);
    s.dropped_write_buffer = cause(detail::drop_cause::write_buffer);
    s.dropped_retained_limit = cause(detail::drop_cause::retained_limit);
    s.dropped_not_authorized = cause(detail::drop_cause::not_authorized);
    return s;
}

}  // namespace mqtt::net
