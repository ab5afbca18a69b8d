// SPDX-License-Identifier: MIT
#pragma once
// Private to the broker engine: the shared state (server::impl), one
// connection per socket, and the encode-once PUBLISH templates.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>

#include <mqtt/codec/limits.hpp>
#include <mqtt/core/outbound_aliases.hpp>
#include <mqtt/core/retained_store.hpp>
#include <mqtt/core/router.hpp>
#include <mqtt/core/server_session.hpp>
#include <mqtt/net/server.hpp>

#include "server_auth.hpp"
#include "server_journal.hpp"
#include "transport.hpp"

namespace mqtt::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// A PUBLISH encoded once for every subscriber of one (version, has packet id)
/// pair: the first byte and packet id are patched per delivery in the gather
/// write, the rest is shared.
struct publish_template {
    std::vector<std::uint8_t> bytes;  // bytes[0] is a placeholder first byte
    std::uint32_t pid_offset = 0;     // where the 2-byte packet id sits (has_pid only)
    bool has_pid = false;
};
using template_ptr = std::shared_ptr<const publish_template>;

/// Builds the template of `msg` (properties dropped for 3.1.1).
template_ptr make_template(const mqtt::publish& msg, protocol_version v, bool has_pid);

/// Templates of one routed message, filled on first use.
struct publish_cache {
    std::array<template_ptr, 4> slots;  // [v5 * 2 + has_pid]
    template_ptr get(const mqtt::publish& msg, protocol_version v, bool has_pid);
};

/// One queued write: fully encoded bytes, or a shared template plus the
/// per-subscriber first byte and packet id.
struct out_item {
    std::vector<std::uint8_t> owned;
    template_ptr tmpl;
    std::uint8_t head = 0;
    std::array<std::uint8_t, 2> pid{};
    std::size_t size() const noexcept { return tmpl ? tmpl->bytes.size() : owned.size(); }
};

struct listen_address {
    transport_kind kind = transport_kind::tcp;
    std::string host;  // IPv6 without brackets
    std::uint16_t port = 1883;
    std::string path;  // ws/wss only; empty = any path
};
/// Parses `SCHEME://host[:port][/path]` with SCHEME mqtt, mqtts, ws or wss
/// (port 0 = any; default ports 1883, 8883, 80, 443; a path only for
/// WebSockets). Throws std::invalid_argument naming the problem.
listen_address parse_listen_url(const std::string& url);

/// One bound listener.
struct listener_slot {
    transport_kind kind = transport_kind::tcp;
    std::string ws_path;  // empty = any path
};

class server_state;

/// One --workers thread: an io_context that owns the sockets assigned to it.
/// Worker 0 also runs the listeners and the server-wide timers.
struct worker {
    asio::io_context ioc{1};
    // Makes the worker's epoll reactor (3 descriptors) now instead of at its
    // first connection: the broker's descriptor count is flat once it is up.
    tcp::socket reactor_probe{ioc};
    // Keeps run() going while the worker has no connection (stop() resets it).
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep{ioc.get_executor()};
};

/// Held by every handler that touches broker state (server_state, sessions,
/// connections' queues). With one worker it is never contended.
using state_lock = std::unique_lock<std::mutex>;

class connection : public std::enable_shared_from_this<connection> {
public:
    /// `sock` belongs to the io_context of the worker that owns the connection.
    connection(server_state& srv, asio::io_context& owner, tcp::socket sock, std::uint64_t id,
               const listener_slot& listener);
    /// Under the state lock, from any worker.
    void start();
    /// Executes the session's pending actions in order; `cache` shares the
    /// encoded bytes of one routed message between subscribers.
    void apply_actions(publish_cache* cache = nullptr);
    /// Server-initiated close (takeover, shutdown).
    void kick(reason why, bool publish_will);
    /// Closes the socket at once (no flush); from another worker it is posted
    /// to the owner (a socket and its TLS/WebSocket stream are used by the
    /// owning thread only: composed operations run there without the lock).
    void close_now();

    core::server_session& session() noexcept { return *session_; }
    /// The io_context of the worker this connection belongs to for life.
    asio::io_context& owner() noexcept { return ioc_; }
    std::uint64_t id() const noexcept { return id_; }

    /// Restarts a reader parked by back-pressure or authentication (see
    /// server_state::should_pause); a no-op unless it is parked.
    void wake_reader();
    /// Starts the writer when something is queued (or a close must be
    /// flushed) and it is not running; it ends again when the queue drains.
    void wake_writer();
    /// Called by server_state's deadline queue when this connection's entry
    /// is due: connect timeout, keepalive x1.5, close bound; then re-arms.
    void on_deadline(core::time_point now);
    /// The time of this connection's live entry in server_state::deadlines
    /// (max: none). Entries with another time are stale and skipped.
    core::time_point armed_deadline = core::time_point::max();
    /// Persistence: packets queued from now on wait until journal record `seq` is durable.
    void depend_on_journal(std::uint64_t seq) noexcept {
        if (seq > wal_dep_) wal_dep_ = seq;
    }

    // Set by server_state when the CONNECT is accepted.
    core::session_ref ref = 0;
    bool attached = false;
    /// Who the ACL sees: the verified certificate CN, else the CONNECT username.
    std::optional<std::string> username;
    /// Subject CN of a verified client certificate (TLS listeners).
    const std::optional<std::string>& cert_name() const noexcept { return io_.peer_common_name(); }
    core::acl_subject subject() const {
        return {username ? std::optional<std::string_view>(*username) : std::nullopt, session_->client_id()};
    }

    /// Credentials are being verified off the worker thread: the reader stops
    /// between packets until end_auth(), so nothing runs before the CONNACK.
    void begin_auth() noexcept { auth_pending_ = true; }
    void end_auth();
    bool is_closed() const noexcept { return closed_; }
    /// Readable from the hash pool: a connection that closed while waiting
    /// for its turn is not worth a PBKDF2 run (reconnect storms).
    bool abandoned() const noexcept { return abandoned_.load(std::memory_order_relaxed); }

private:
    // No coroutine is resident while a connection is idle (issue 4): the
    // reader ends when it would wait for bytes on a TCP/Unix socket (a plain
    // async_wait handler restarts it) or when it is parked; the writer runs
    // only while the queue holds something; deadlines live in server_state.
    void spawn_reader();
    asio::awaitable<void> reader();
    void on_readable(const boost::system::error_code& ec);
    asio::awaitable<void> writer();
    /// Puts the current deadline (connect, keepalive or close) in the queue.
    void arm_deadline();
    bool process_frames();
    /// The read buffer comes from server_state::spare_buffers and goes back
    /// there while the connection waits with nothing buffered.
    void acquire_buffer();
    void release_buffer();
    void enqueue(out_item item);
    void enqueue_publish(const core::send_publish& sp, publish_cache* cache);
    /// --topic-alias-out: queues `sp` with a Topic Alias (server_aliases.cpp);
    /// false when it goes without one (the shared encoding).
    bool enqueue_aliased(const core::send_publish& sp);
    /// Persistence: the journal could not store what this packet id's ack
    /// would acknowledge; refuse it (hardening S15).
    bool refuse_unstored(mqtt::packet& p);
    /// The ack of the PUBLISH that matched no subscriber gets 0x10.
    void mark_unmatched(mqtt::packet& p);
    mqtt::limits current_limits() const noexcept;

    server_state& srv_;
    asio::io_context& ioc_;  // the owning worker's
    transport io_;  // in place: one allocation less per connection
    const listener_slot& listener_;
    std::uint64_t id_;
    std::unique_ptr<core::server_session> session_;
    core::lazy_deque<out_item> out_;  // allocated at the first write
    std::size_t out_bytes_ = 0;
    std::vector<std::uint8_t> buf_;
    std::size_t start_ = 0, end_ = 0;
    // The connect deadline until the session is connected, the close bound
    // once closing_ (the keepalive deadline is the session's).
    core::time_point deadline_;
    bool closing_ = false;  // no more reads; flush then close
    bool closed_ = false;
    bool writer_running_ = false;
    bool reader_paused_ = false;  // parked: wake_reader() restarts it
    bool reading_ = false;        // a read or readable-wait is pending on io_
    bool readable_ = false;       // the readable-wait fired: read without asking again
    bool handshake_done_ = false; // TLS / WebSocket accept ran (the reader restarts)
    bool auth_pending_ = false;
    std::optional<std::uint16_t> unstored_;
    // Packet id of an inbound v5 QoS 1/2 PUBLISH that matched no subscriber,
    // whose PUBACK/PUBREC says 0x10; 0 = none (no PUBLISH has id 0).
    std::uint16_t unmatched_ = 0;
    // Write-ahead gate (persistence): wal_ready_ front items may be written;
    // wal_count_ more wait for the journal to reach wal_target_.
    std::size_t wal_ready_ = 0, wal_count_ = 0;
    std::uint64_t wal_target_ = 0, wal_dep_ = 0;  // packet id of a PUBLISH the journal refused
    std::atomic<bool> abandoned_{false};
    // Outbound Topic Aliases of this network connection, made at the first
    // PUBLISH to a client that accepts them [MQTT-3.3.2-7].
    std::unique_ptr<core::outbound_aliases> aliases_out_;
};

/// Why a message was dropped (server_stats and $SYS/broker/stats).
enum class drop_cause : std::uint8_t { queue_full, packet_too_large, expired, write_buffer, retained_limit, not_authorized };
inline constexpr std::size_t drop_cause_count = 6;

/// Rate-limited warn log of drops for one client id.
struct drop_log_entry {
    std::uint64_t pending = 0;  // drops not logged yet
    core::time_point last_log{};
};

/// Offline or online state of one client id.
struct session_record {
    core::session_ref ref = 0;
    // The map key, not a copy of it (unordered_map nodes do not move).
    const std::string* key = nullptr;
    const std::string& client_id() const noexcept { return *key; }
    connection* conn = nullptr;                     // online connection, if any
    std::unique_ptr<core::server_session> offline;  // state while offline
    core::time_point expires{};
    std::optional<std::string> username;  // ACL subject for offline deliveries
    // Persistence: the session is in the journal (expiry > 0), with these
    // subscriptions (kept only then: a snapshot needs them, the router cannot list them).
    bool journaled = false;
    std::uint32_t expiry = 0;  // as journaled (an offline session object does not keep it)
    std::map<std::string, core::subscriber_options> subs;
};

class server_state {
public:
    server_state(server_options opts, logger log);

    server_options opts;
    logger log;
    // Every handler on every worker takes this before it touches the state
    // below or a connection's (unlocked only around socket and TLS I/O).
    std::mutex mu;
    std::vector<std::unique_ptr<worker>> workers;  // opts.workers, at least 1
    asio::io_context& ioc;                         // worker 0's
    std::size_t next_worker = 0;                   // round-robin for accepted sockets
    /// Ends run() on every worker.
    void stop_workers();
    core::server_session_config session_cfg;
    mqtt::limits connect_limits, packet_limits;

    std::vector<tcp::acceptor> acceptors;
    std::vector<listener_slot> slots;  // parallel to acceptors
    std::vector<listener_info> infos;
    std::shared_ptr<asio::ssl::context> tls_ctx;  // when a mqtts/wss listener exists

    // Authentication and authorisation (cli-contract.md §9).
    auth_holder auth;
    credential_cache credentials;
    bool anonymous_allowed = true;
    core::password_entry dummy_entry;   // unknown users cost one hash too
    asio::thread_pool hash_pool{1};     // PBKDF2 runs here, off the worker
    /// Loads the files named in opts into `auth`; throws config_error.
    void load_auth();
    /// SIGHUP / server::reload(): keeps the old files on error.
    bool reload();
    std::optional<asio::signal_set> signals;
    asio::steady_timer housekeeping{ioc};

    // Connection deadlines (server_deadlines.cpp): one min-heap for all
    // connections ticked by one timer, instead of a timer and a coroutine
    // each. A connection keeps at most one live entry (armed_deadline); a
    // deadline that moves later (keepalive after each packet) is not
    // re-queued: the early entry fires, finds nothing due and re-arms.
    struct deadline_entry {
        core::time_point at;
        std::uint64_t conn = 0;
    };
    std::vector<deadline_entry> deadlines;  // min-heap on `at`
    asio::steady_timer deadline_timer{ioc};
    core::time_point deadline_timer_at = core::time_point::max();
    /// Connection `c` must be looked at no later than `t` (max: never).
    void schedule_deadline(connection& c, core::time_point t);
    void run_deadlines();
    void arm_deadline_timer();
    /// Back-pressure bound: parked readers are woken at least every 20 ms by
    /// one server-wide timer (it runs only while `paused` is not empty).
    asio::steady_timer pause_tick{ioc};
    bool pause_tick_armed = false;
    void park_reader(connection& c);
    asio::steady_timer drain_timer{ioc};
    bool stopping = false;

    core::router router;
    core::retained_store retained;
    // Arrival time of retained messages that carry a Message Expiry Interval,
    // by topic: expired ones are not sent and are removed [MQTT-3.3.2-5].
    std::unordered_map<std::string, core::time_point> retained_received;
    /// Stores or clears a retained message; false when the store is full.
    bool store_retained(const std::shared_ptr<const mqtt::publish>& msg, core::time_point now);
    /// Removes retained messages whose expiry passed.
    void expire_retained(core::time_point now);
    using session_map = std::unordered_map<std::string, session_record>;
    session_map sessions;  // by client id
    std::unordered_map<core::session_ref, session_record*> by_ref;
    std::unordered_map<std::uint64_t, std::shared_ptr<connection>> conns;
    std::uint64_t next_ref = 1, next_conn = 1;
    std::vector<core::delivery> deliveries;  // scratch
    /// Read buffers of connections that are waiting idle, for the next reader
    /// that gets bytes (under the state lock).
    static constexpr std::size_t max_spare_buffers = 64;
    std::vector<std::vector<std::uint8_t>> spare_buffers;

    std::atomic<std::uint64_t> accepted{0}, received{0}, sent{0}, dropped{0};
    std::atomic<std::uint64_t> bytes_received{0}, bytes_sent{0};
    core::time_point started_at{};
    asio::steady_timer sys_timer{ioc};
    /// Publishes the retained $SYS/broker/... topics every opts.sys_interval.
    asio::awaitable<void> sys_loop();
    void publish_sys(core::time_point now);
    std::array<std::atomic<std::uint64_t>, drop_cause_count> drops_by_cause{};

    /// Counts `n` drops of `cause` for `client_id` and logs them at warn, at
    /// most once a second per client with the count (the rest on housekeeping).
    void note_drop(const std::string& client_id, drop_cause cause, std::uint64_t n = 1);
    void note_drops(const std::string& client_id, const core::drop_counts& d);
    /// Logs drops still pending for clients whose last line is over a second old.
    void flush_drop_log(core::time_point now, bool all);

    // Publisher back-pressure: a subscriber whose queue passes the high-water
    // mark while it is still acknowledging makes every other connection's
    // reader pause between packets until it drains below the low-water mark,
    // so a burst is delivered instead of overflowing max_queued. A subscriber
    // that stops acknowledging stops counting (its queue policy applies), so
    // publishers are never held by a stuck client.
    std::unordered_map<std::uint64_t, std::weak_ptr<connection>> congested;
    std::vector<std::weak_ptr<connection>> paused;
    /// The subscriber `c` just got a message or an ack: track its congestion.
    void update_congestion(connection& c);
    /// True when the reader of connection `c` should wait now.
    bool should_pause(connection& c, core::time_point now);
    void wake_paused();

    void start();
    void stop(std::chrono::milliseconds drain);
    asio::awaitable<void> accept_loop(tcp::acceptor& acc, const listener_slot& slot);
    void wait_signal();
    asio::awaitable<void> housekeeping_loop();

    // Requests from connections' sessions.
    /// Authenticates (maybe asynchronously), then attach_session().
    void on_connect(connection& c, const core::connect_request& req);
    /// After authentication: Will ACL check, publish ACL hook, session lookup.
    void attach_session(connection& c, const core::connect_request& req);
    /// opts.response_information with `%c` expanded; empty when none is offered.
    std::string response_information_for(const std::string& client_id) const;
    void on_subscribe(connection& c, const core::subscribe_request& req);
    void on_unsubscribe(connection& c, const core::unsubscribe_request& req);
    /// What route() did with a message: the publisher's v5 ack says it.
    enum class route_result : std::uint8_t {
        delivered,       // handed to at least one subscribing session
        no_subscribers,  // accepted (and retained if asked), nobody to give it to: 0x10
        refused,         // the journal cannot be written (hardening S15): not routed, 0x80
    };
    /// `count` is false for the broker's own $SYS messages (not client traffic).
    route_result route(core::session_ref from, const std::shared_ptr<const mqtt::publish>& msg, bool count = true);
    /// The connection's session closed: keep it offline or drop it.
    void on_session_closed(connection& c);
    /// Gives one routed delivery to its session (ACL read check, journal);
    /// false when the session is gone or may not read the topic.
    bool hand_to(core::delivery& d, const std::shared_ptr<const mqtt::publish>& msg, const core::acl* acl,
                 publish_cache& cache, std::uint64_t& tag, core::time_point now,
                 std::optional<core::time_point> arrived);
    /// Session `from` ends (after its subscriptions are gone): its unfinished
    /// shared-subscription messages go to other members of their groups.
    void return_shared(core::session_ref from, core::server_session& ending);
    /// Another member of `share` than `excluded` that may read msg's topic;
    /// `refused` is set when members exist but the ACL refuses them all.
    std::optional<core::delivery> pick_reader(const std::string& share, core::session_ref excluded,
                                              const mqtt::publish& msg, const core::acl* acl, bool& refused);

    // Delayed Wills [MQTT-3.1.3-9] (server_wills.cpp): published when the delay
    // passes, dropped when the client reconnects to its session in time, and
    // published at once when a clean start ends that session first.
    struct delayed_will {
        std::shared_ptr<const mqtt::publish> msg;
        core::session_ref from = 0;
        std::unique_ptr<asio::steady_timer> timer;
    };
    std::unordered_map<std::string, delayed_will> delayed_wills;  // by client id
    void schedule_will(const std::string& client_id, core::session_ref from,
                       std::shared_ptr<const mqtt::publish> will, std::uint32_t delay_s);
    /// The client is back: its pending Will is dropped, or published now when
    /// `session_ended` (clean start).
    void settle_will(const std::string& client_id, bool session_ended);
    void cancel_all_wills();
    void forget(std::uint64_t conn_id);

    // Persistence (server_persist.cpp); all of it idle without --persistence-dir.
    std::unique_ptr<journal> persist;
    bool persist_flush_posted = false;
    std::vector<std::weak_ptr<connection>> persist_waiters;  // writers holding packets until durable
    std::uint64_t next_tag = 1;
    std::uint64_t last_snapshot_bytes = 0;
    std::chrono::steady_clock::time_point last_refusal_log{};
    // --max-connect-rate token bucket (server.cpp accept_loop), shared by the listeners.
    double connect_tokens = 0;
    core::time_point connect_refill{}, last_rate_log{};
    /// Takes a connect token, or says how long until one is there.
    core::clock::duration connect_rate_delay(core::time_point now);
    /// Opens the journal and restores its state (start()); throws persistence_error.
    void open_persistence();
    void append_record(const core::store::record& r);
    void on_journal_durable(std::uint64_t seq);
    /// The session attached with `expiry`: journaled when > 0, else its record ends.
    void persist_session(session_record& rec, core::server_session& s, std::uint32_t expiry, bool online);
    void persist_session_end(session_record& rec);
    /// `o` null: unsubscribed.
    void persist_subscription(session_record& rec, const std::string& filter, const core::subscriber_options* o);
    void persist_retained(const std::shared_ptr<const mqtt::publish>& msg);
    /// Journals a QoS 1/2 delivery to a journaled session; returns its tag (0:
    /// not journaled). `tag` is the routed message's, 0 until its body is written.
    std::uint64_t persist_delivery(session_record& rec, const std::shared_ptr<const mqtt::publish>& msg,
                                   std::uint64_t& tag, qos level, bool retain,
                                   const std::vector<std::uint32_t>& sub_ids);
    /// Journals what the session reported (in flight, acknowledged, ...).
    void persist_events(const std::string& client_id, core::server_session& s);
    std::vector<std::uint8_t> persist_snapshot();
    /// Housekeeping: compacts the journal when it grew (background write).
    void maybe_compact();

private:
    std::unordered_map<std::string, drop_log_entry> drop_log_;
    void drop_session(session_record& rec);
    void expire_sessions(core::time_point now);
    bool session_expired(const session_record& rec, core::time_point now) const noexcept;
    void erase_session(session_map::iterator it);
};

}  // namespace mqtt::net::detail
