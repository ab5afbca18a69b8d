// SPDX-License-Identifier: MIT
// `mq sub` (cli-contract.md §5): subscribe, print each message as one record,
// end on a goal, a timer, a signal or a closed stdout.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cstring>

#include <mqtt/codec/topic.hpp>
#include <mqtt/net/errors.hpp>

#include "commands.hpp"
#include "common/connection_options.hpp"
#include "common/duration.hpp"
#include "common/exit_codes.hpp"
#include "common/expect.hpp"
#include "common/globals.hpp"
#include "common/message_output.hpp"
#include "common/output_format.hpp"
#include "common/rollcall.hpp"
#include "common/session.hpp"
#include "common/stdio.hpp"
#include "common/sub_filters.hpp"
#include "common/summary_recorder.hpp"

namespace mq::tools {
namespace {
namespace asio = boost::asio;
using mqtt::property_id;
using clock = std::chrono::steady_clock;
constexpr std::size_t max_pending_bytes = 64 * 1024;  // one writer hand-off at most

struct sub_options {
    connection_options conn;
    std::vector<std::string> topics, excludes, unsubscribes, expects, fail_ons;
    std::string expect_topics, expect_ids, topic_template;
    output_options output;
    summary_options summary;
    sub_filter_options per_filter;  // -q, --no-local, --retain-as-published, --retain-handling
    std::string count, idle_timeout, duration, wait_first;
    std::string sub_id;
    bool exit_after_suback = false;
    bool skip_retained = false, retained_only = false, strict = false;
    CLI::Option* count_opt = nullptr;
};

enum class ended_by : std::uint8_t {
    none, count, goal, duration, idle, wait_first, retained_done, retained_idle, stdout_closed, fail_on
};

summary_end summary_end_of(ended_by e) {
    switch (e) {
    case ended_by::count: return summary_end::count;
    case ended_by::goal:
    case ended_by::retained_done: return summary_end::goal;
    case ended_by::duration: return summary_end::duration;
    case ended_by::idle:
    case ended_by::retained_idle: return summary_end::idle;
    case ended_by::wait_first: return summary_end::wait_first;
    case ended_by::stdout_closed: return summary_end::stdout_closed;
    case ended_by::fail_on: return summary_end::fail_on;
    case ended_by::none: break;
    }
    return summary_end::none;
}

// Runs `fn` when the scope ends, also when an error unwinds it.
template <class F> struct at_scope_exit {
    F fn;
    ~at_scope_exit() { fn(); }
};
template <class F> at_scope_exit(F) -> at_scope_exit<F>;

// Filters per SUBSCRIBE packet when a roll-call lists many topics (§5.5).
constexpr std::size_t filters_per_subscribe = 100;

std::optional<rollcall> load_rollcall(const sub_options& o) {
    if (!o.expect_topics.empty() && !o.expect_ids.empty())
        throw std::system_error(tool_error::usage, "--expect-topics and --expect-ids are mutually exclusive");
    if (!o.expect_ids.empty() && o.topic_template.empty())
        throw std::system_error(tool_error::usage, "--expect-ids needs --topic-template (e.g. 'devices/{id}/status')");
    if (o.expect_ids.empty() && !o.topic_template.empty())
        throw std::system_error(tool_error::usage, "--topic-template needs --expect-ids");
    if (!o.expect_topics.empty()) return rollcall::from_topics_file(o.expect_topics);
    if (!o.expect_ids.empty()) return rollcall::from_ids_file(o.expect_ids, o.topic_template);
    return std::nullopt;
}

// The plain filter of a subscription ("$share/g/a/+" -> "a/+").
std::string_view match_filter(std::string_view f) {
    std::error_code ec;
    if (auto s = mqtt::parse_shared(f, ec)) return s->filter;
    return f;
}

int run_sub(sub_options& o) {
    summary_recorder& sum = begin_summary(o.summary, "sub");
    // --- validation (64 before connecting) ---
    resolved_connection conn = o.conn.resolve();
    std::optional<rollcall> roll = load_rollcall(o);
    // The summary sees the roll-call as it stands when the run ends, however it ends.
    const at_scope_exit snapshot_rollcall{[&] {
        if (roll) sum.set_rollcall(*roll);
    }};
    if (o.topics.empty() && !conn.url_topic.empty()) o.topics.push_back(conn.url_topic);
    if (o.topics.empty() && roll) o.topics = roll->filters();
    if (o.topics.empty()) throw std::system_error(tool_error::usage, "-t FILTER is required");
    const std::vector<mqtt::subscription> subs = build_subscriptions(o.topics, o.per_filter);
    for (const auto* list : {&o.topics, &o.excludes, &o.unsubscribes}) {
        for (const auto& f : *list) {
            if (auto ec = mqtt::check_topic_filter(f)) {
                throw std::system_error(tool_error::usage, fmt::format("invalid filter '{}': {}", f, ec.message()));
            }
        }
    }
    const message_printer printer(o.output);
    std::uint64_t count = 0;
    if (o.count_opt->count() > 0) {
        auto n = parse_count(o.count);
        if (!n || *n == 0) throw std::system_error(tool_error::usage, "-C needs a count >= 1");
        count = *n;
    }
    const std::vector<predicate> expects = parse_expect_options(o.expects);
    const std::vector<predicate> fail_ons = parse_expect_options(o.fail_ons, "--fail-on");
    // Without a roll-call, --expect's goal is -C (default 1) matching messages.
    if (!expects.empty() && count == 0 && !roll) count = 1;
    std::optional<std::chrono::nanoseconds> idle, duration, wait_first;
    if (!o.idle_timeout.empty()) idle = duration_option(o.idle_timeout, "--idle-timeout");
    if (!o.duration.empty()) duration = duration_option(o.duration, "--duration");
    if (!o.wait_first.empty()) wait_first = duration_option(o.wait_first, "--wait-first");
    if (o.retained_only && !idle) idle = std::chrono::seconds(1);
    const bool has_goal = count > 0 || o.exit_after_suback || roll.has_value();
    // An unmet roll-call says who is missing, whatever ended the run; both the
    // body and a stop (-W, signal) may get here, so it is printed once.
    std::atomic<bool> rollcall_reported{false};
    auto report_rollcall = [&roll, &rollcall_reported] {
        if (roll && !roll->complete() && !rollcall_reported.exchange(true))
            (void)write_all(2, roll->report_json() + "\n");
    };

    mqtt::properties sub_props = conn.subscribe_props;
    if (!o.sub_id.empty()) {
        const std::string err = add_named_property(sub_props, mqtt::property_context::subscribe,
                                                   "subscription-identifier", {o.sub_id});
        if (!err.empty() || o.sub_id == "0") throw std::system_error(tool_error::usage, "--sub-id: needs 1-268435455");
    }
    const bool v5 = conn.client.connect.version == mqtt::protocol_version::v5;
    if (!v5 && (o.per_filter.uses_v5_options() || !o.sub_id.empty()))
        throw std::system_error(tool_error::usage, "subscription options need MQTT 5 (not -V 311)");
    // -C N: the broker need not send more than N unacknowledged messages.
    if (count > 0 && count < 65535 && v5 && expects.empty() && fail_ons.empty() && !roll) {
        const auto cur = conn.client.connect.props.get_int(property_id::receive_maximum).value_or(65535);
        if (count < cur)
            conn.client.connect.props.set_int(property_id::receive_maximum, static_cast<std::uint32_t>(count));
    }

    auto log = make_tool_logger();
    command_runner runner(conn.timeout);
    auto ex = runner.executor();
    stdout_writer writer(1);
    std::unique_ptr<mqtt::net::client> client;
    bool closing = false;
    ended_by ended = ended_by::none;
    async_event space(ex);
    // The writer thread reports space and a closed/failed stdout; a reader that
    // left must end the run even while no message arrives.
    writer.set_notify([&runner, &writer, wake = space.notifier()] {
        wake();
        const auto st = writer.status();
        if (st == stdout_writer::state::closed) runner.request_stop(stop_reason::stdout_closed);
        else if (st == stdout_writer::state::failed) runner.request_stop(stop_reason::output_error);
    });

    // Graceful end: DISCONNECT, which makes receive() return nullopt.
    auto shutdown = [&] {
        if (closing || !client) {
            if (!client) closing = true;
            return;
        }
        closing = true;
        asio::co_spawn(ex, disconnect_quietly(client.get(), conn.disconnect_props), asio::detached);
    };
    runner.on_stop([&] {
        if (client) shutdown();
    });

    asio::steady_timer timer(ex);
    clock::time_point duration_end = clock::time_point::max(), idle_end = clock::time_point::max(),
                      first_end = clock::time_point::max();
    bool got_first = false;
    auto rearm = [&] {
        const auto at = std::min({duration_end, idle_end, got_first ? clock::time_point::max() : first_end});
        timer.expires_at(at);
    };
    auto watcher = [&]() -> asio::awaitable<void> {
        for (;;) {
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (closing) co_return;
            const auto now = clock::now();
            if (now >= duration_end) ended = ended_by::duration;
            else if (!got_first && now >= first_end) ended = ended_by::wait_first;
            else if (now >= idle_end) ended = o.retained_only ? ended_by::retained_idle : ended_by::idle;
            else {
                // A message moved the deadline later meanwhile: wait for the new one.
                rearm();
                continue;
            }
            shutdown();
            co_return;
        }
    };

    std::uint64_t printed = 0;
    int exit_code = 0;
    std::string pending;  // rendered records not yet handed to the writer
    auto body = [&]() -> asio::awaitable<int> {
        sum.connect_started();
        client = co_await connect_client(ex, conn, log);
        sum.connected(client->connack_info());
        if (closing) co_return 0;  // stopped while connecting
        if (!o.unsubscribes.empty()) {
            co_await client->unsubscribe(o.unsubscribes, conn.unsubscribe_props);
        }
        if (!v5) sub_props = {};
        mqtt::suback ack;
        for (std::size_t first = 0; first < subs.size(); first += filters_per_subscribe) {
            const auto last = std::min(subs.size(), first + filters_per_subscribe);
            std::vector<mqtt::subscription> chunk(subs.begin() + static_cast<std::ptrdiff_t>(first),
                                                  subs.begin() + static_cast<std::ptrdiff_t>(last));
            const auto part = co_await client->subscribe(std::move(chunk), sub_props);
            ack.reason_codes.insert(ack.reason_codes.end(), part.reason_codes.begin(), part.reason_codes.end());
        }
        sum.subscribed(subs, ack);
        if (const int refused = suback_exit_code(ack, subs, o.strict); refused != 0) {
            exit_code = refused;
            sum.subscribe_failed(refused);
            shutdown();
        }
        if (o.exit_after_suback && exit_code == 0) {
            ended = ended_by::goal;
            shutdown();
        }
        const auto t0 = clock::now();
        if (duration) duration_end = t0 + *duration;
        if (idle) idle_end = t0 + *idle;
        if (wait_first) first_end = t0 + *wait_first;
        rearm();
        asio::co_spawn(ex, watcher(), asio::detached);

        std::vector<std::string> filters;
        for (;;) {
            auto msg = co_await client->receive();
            if (!msg) break;
            if (closing) continue;  // draining after our DISCONNECT
            auto& counts = sum.messages();
            ++counts.received;
            if (msg->retain) ++counts.retained;
            // Deadlines only move later here, so the watcher re-arms lazily when
            // the old one fires: re-arming per message cancelled the timer's
            // wait, a handler and a coroutine resumption for every message.
            got_first = true;
            if (idle) idle_end = clock::now() + *idle;
            if (o.retained_only && !msg->retain) {
                ended = ended_by::retained_done;
                shutdown();
                continue;
            }
            bool excluded = o.skip_retained && msg->retain;
            for (const auto& x : o.excludes) excluded = excluded || mqtt::topic_matches(match_filter(x), msg->topic);
            if (excluded) {
                ++counts.excluded;
                continue;
            }
            bool failed = false;
            for (const auto& p : fail_ons) failed = failed || evaluate(p, *msg);
            bool matched = true;
            for (const auto& p : expects) matched = matched && evaluate(p, *msg);
            if (matched) ++counts.matched;
            if (!expects.empty() && !matched && !failed) continue;
            std::size_t n_filters = 0;  // `filters` keeps its strings' capacity between messages
            for (const auto& f : o.topics) {
                if (!mqtt::topic_matches(match_filter(f), msg->topic)) continue;
                if (n_filters < filters.size()) filters[n_filters] = f;
                else filters.push_back(f);
                ++n_filters;
            }
            const received_message rm{*msg, std::chrono::system_clock::now(),
                                      std::span<const std::string>(filters.data(), n_filters)};
            printer.append(rm, pending);
            // Records are batched only while the next message is already
            // buffered: nothing waits in `pending` while mq sub waits on the
            // network, yet a burst costs one queue hand-off (and one writev)
            // per batch instead of a thread wake-up per message.
            auto written = stdout_writer::state::ok;
            if (client->buffered() == 0 || pending.size() >= max_pending_bytes) {
                written = co_await push_record(writer, space, pending);
                pending.clear();
            }
            if (written == stdout_writer::state::closed) {
                ended = ended_by::stdout_closed;  // the reader left: DISCONNECT, exit 0 (§1)
                shutdown();
                continue;
            }
            if (written == stdout_writer::state::failed) {
                const std::string why = fmt::format("writing stdout: {}", std::strerror(writer.error()));
                print_error(why);
                sum.failure(exit_status::io, std::nullopt, why);
                exit_code = exit_status::io;
                shutdown();
                continue;
            }
            ++printed;
            ++counts.printed;
            if (failed) {
                // --fail-on: printed, then the run fails (exit 1).
                ended = ended_by::fail_on;
                shutdown();
                continue;
            }
            if (roll && roll->record(msg->topic) && roll->complete()) {
                ended = ended_by::goal;
                shutdown();
                continue;
            }
            if (count > 0 && printed >= count) {
                ended = ended_by::count;
                shutdown();
            }
        }
        closing = true;
        timer.cancel();
        if (!pending.empty()) co_await push_record(writer, space, pending);
        pending.clear();
        writer.flush();
        sum.end(summary_end_of(ended));
        if (writer.status() == stdout_writer::state::failed && exit_code == 0) {
            sum.failure(exit_status::io, std::nullopt, fmt::format("writing stdout: {}", std::strerror(writer.error())));
            exit_code = exit_status::io;
        }
        if (exit_code != 0) co_return exit_code;
        if (ended == ended_by::fail_on) co_return exit_status::check_failed;
        if (roll && !roll->complete() && ended != ended_by::stdout_closed && ended != ended_by::none) {
            report_rollcall();
            co_return exit_status::timeout;
        }
        switch (ended) {
        case ended_by::count:
        case ended_by::goal:
        case ended_by::stdout_closed:
        case ended_by::retained_done:
        case ended_by::retained_idle: co_return 0;
        case ended_by::wait_first: co_return exit_status::timeout;
        case ended_by::duration:
        case ended_by::idle: co_return has_goal ? exit_status::timeout : 0;
        default: break;
        }
        // receive() ended without us asking: the broker went away.
        throw std::system_error(mqtt::net::net_error::connection_lost, "connection lost");
    };
    const int code = runner.run(body, [&](stop_reason r) {
        // Records already counted as printed: once the queue drained, they fit.
        if (!pending.empty()) {
            writer.flush();
            writer.try_push(std::move(pending));
        }
        writer.flush();
        sum.stopped(r);
        if (r == stop_reason::timeout || r == stop_reason::signal) report_rollcall();
        switch (r) {
        case stop_reason::timeout: return exit_status::timeout;
        case stop_reason::signal: return has_goal ? exit_status::interrupted : 0;
        case stop_reason::stdout_closed: return 0;
        case stop_reason::output_error: {
            const std::string why = fmt::format("writing stdout: {}", std::strerror(writer.error()));
            print_error(why);
            sum.failure(exit_status::io, std::nullopt, why);
            return exit_status::io;
        }
        case stop_reason::none: break;
        }
        return 0;
    });
    writer.flush();
    return code;
}

}  // namespace

void add_sub_command(CLI::App& app) {
    auto o = std::make_shared<sub_options>();
    auto* cmd = app.add_subcommand("sub", "Subscribe and print messages");
    o->conn.add_to(*cmd, false);
    cmd->add_option("-t,--topic", o->topics, "Filter to subscribe to (repeatable)")->allow_extra_args(false);
    // Per-filter options: once = every filter, once per -t = the n-th for the n-th filter.
    cmd->add_option("-q,--qos", o->per_filter.qos, "QoS (default 0); once for all filters or once per -t")
        ->allow_extra_args(false);
    cmd->add_option("-T,--exclude", o->excludes, "Do not print topics matching FILTER (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("-U,--unsubscribe", o->unsubscribes, "Unsubscribe from FILTER first (repeatable)")
        ->allow_extra_args(false);
    cmd->add_flag("-R,--no-retained", o->skip_retained, "Do not print retained messages");
    o->output.add_to(*cmd);
    o->summary.add_to(*cmd);
    o->count_opt = cmd->add_option("-C,--count", o->count, "Exit 0 after N messages");
    cmd->add_flag("-E,--exit-after-suback", o->exit_after_suback, "Exit 0 once subscribed");
    cmd->add_flag("--retained-only", o->retained_only, "Print retained messages, end at the first live one");
    cmd->add_option("--idle-timeout", o->idle_timeout, "End when no message arrived for DUR");
    cmd->add_option("--duration", o->duration, "Listen for DUR after subscribing");
    cmd->add_option("--wait-first", o->wait_first, "The first message must arrive within DUR (else 124)");
    cmd->add_option("--expect", o->expects, "Predicate every counted message must satisfy (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--fail-on", o->fail_ons, "Print the first message satisfying PRED and exit 1 (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--expect-topics", o->expect_topics,
                    "Roll-call: every topic listed in FILE must report (missing ones on stderr, 124)");
    cmd->add_option("--expect-ids", o->expect_ids, "Roll-call of ids in FILE, with --topic-template");
    cmd->add_option("--topic-template", o->topic_template, "Topic of an id for --expect-ids: 'devices/{id}/status'");
    cmd->add_flag("--strict", o->strict, "Any refused subscription is fatal");
    cmd->add_flag("--no-local", o->per_filter.no_local,
                  "Skip our own messages (v5); per filter: =true|false per -t");
    cmd->add_flag("--retain-as-published", o->per_filter.retain_as_published,
                  "Keep the retain flag (v5); per filter: =true|false per -t");
    cmd->add_option("--retain-handling", o->per_filter.retain_handling,
                    "0 send retained, 1 if new, 2 never (v5); once or per -t")
        ->allow_extra_args(false);
    cmd->add_option("--sub-id", o->sub_id, "Subscription Identifier (v5)");
    cmd->callback([o] { globals().run = [o] { return run_sub(*o); }; });
}

}  // namespace mq::tools
