// SPDX-License-Identifier: MIT
// `mq retain-clear` (cli-contract.md §7): find the retained messages under some
// filters, delete them with zero-length retained publishes [MQTT-3.3.1-6], then
// subscribe again to check that none is left.
#include <deque>
#include <map>

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <mqtt/codec/topic.hpp>
#include <mqtt/net/errors.hpp>

#include "commands.hpp"
#include "common/connection_options.hpp"
#include "common/duration.hpp"
#include "common/encoding.hpp"
#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/output_format.hpp"
#include "common/progress.hpp"
#include "common/session.hpp"
#include "common/stdio.hpp"

namespace mq::tools {
namespace {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

struct retain_clear_options {
    connection_options conn;
    std::vector<std::string> topics, excludes;
    std::string idle_timeout = "1s", max;
    bool dry_run = false, all = false, json = false;
};

// `#`, `+`, `+/#`, `+/+`: every level a wildcard, so the filter reaches every
// retained message on the broker; such a filter needs --all.
bool wildcard_only(std::string_view filter) {
    std::size_t start = 0;
    for (;;) {
        const auto slash = filter.find('/', start);
        const auto level = filter.substr(start, slash == std::string_view::npos ? filter.npos : slash - start);
        if (level != "+" && level != "#") return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

// Messages from the connection, queued so the command can wait for "the next
// message or the idle deadline" with one timer.
struct inbox {
    explicit inbox(asio::any_io_executor ex) : wake(ex) {}
    std::deque<mqtt::publish> queue;
    asio::steady_timer wake;  // the waiting command sleeps on it; a message cancels it
    bool closed = false;
    std::exception_ptr error;
};

// Free functions, not lambdas: a detached coroutine must not refer to a
// closure (GCC 12 coroutine rules).
asio::awaitable<void> read_into(mqtt::net::client* c, inbox* in) {
    try {
        while (auto m = co_await c->receive()) {
            in->queue.push_back(std::move(*m));
            in->wake.cancel();
        }
    } catch (...) {
        in->error = std::current_exception();
    }
    in->closed = true;
    in->wake.cancel();
}

// topic -> payload length of every retained message seen.
using retained_set = std::map<std::string, std::size_t>;

// Steps 2 and 6: retained messages until `idle` passes without one; live
// messages are ignored. The clock starts now (the SUBACK has just arrived).
asio::awaitable<retained_set> collect_retained(inbox& in, std::chrono::nanoseconds idle, progress_line& progress) {
    retained_set found;
    auto deadline = clock::now() + idle;
    for (;;) {
        while (!in.queue.empty()) {
            mqtt::publish m = std::move(in.queue.front());
            in.queue.pop_front();
            if (!m.retain) continue;
            found[m.topic] = m.payload.size();
            deadline = clock::now() + idle;
        }
        progress.update([&] { return fmt::format("retain-clear: collecting, {} retained", found.size()); });
        if (in.closed) {
            if (in.error) std::rethrow_exception(in.error);
            throw std::system_error(mqtt::net::net_error::connection_lost, "connection lost");
        }
        if (clock::now() >= deadline) co_return found;
        in.wake.expires_at(deadline);
        auto [ec] = co_await in.wake.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;  // cancelled: a message arrived (or the connection ended)
    }
}

// Step 5 state: the topics to clear, shared by the publishing workers.
struct clear_job {
    std::vector<std::string> topics;
    mqtt::properties props;             // -D publish ... (v5)
    std::vector<mqtt::reason> results;  // PUBACK reason per topic
    std::size_t next = 0, acked = 0;
    std::size_t workers = 0;
    progress_line* progress = nullptr;
    std::exception_ptr error;
};

asio::awaitable<void> clear_worker(mqtt::net::client* c, clear_job* job, async_event* done) {
    try {
        while (job->next < job->topics.size() && !job->error) {
            const std::size_t i = job->next++;
            mqtt::publish m;
            m.topic = job->topics[i];
            m.level = mqtt::qos::at_least_once;
            m.retain = true;  // zero-length payload: delete the retained message
            m.props = job->props;
            job->results[i] = (co_await c->publish(std::move(m))).reason_code;
            ++job->acked;
            job->progress->update(
                [job] { return fmt::format("retain-clear: clearing {}/{}", job->acked, job->topics.size()); });
        }
    } catch (...) {
        if (!job->error) job->error = std::current_exception();
    }
    if (--job->workers == 0) done->notify();
}

void append_record(std::string& out, bool json, const std::string& topic, std::size_t len, std::string_view action) {
    if (!json) {
        // Control bytes in a topic print as \xNN on a terminal (§5.1).
        out += isatty(1) != 0 ? escape_controls(topic) : topic;
        out += '\n';
        return;
    }
    out += R"({"type":"retained","topic":)";
    json_quote(topic, out);
    out += fmt::format(R"(,"payload_len":{},"action":"{}"}})", len, action);
    out += '\n';
}

int run_retain_clear(retain_clear_options& o) {
    // --- validation (64 before connecting) ---
    resolved_connection conn = o.conn.resolve();
    if (o.topics.empty() && !conn.url_topic.empty()) o.topics.push_back(conn.url_topic);
    if (o.topics.empty()) throw std::system_error(tool_error::usage, "-t FILTER is required");
    for (const auto* list : {&o.topics, &o.excludes}) {
        for (const auto& f : *list) {
            if (auto ec = mqtt::check_topic_filter(f))
                throw std::system_error(tool_error::usage, fmt::format("invalid filter '{}': {}", f, ec.message()));
        }
    }
    for (const auto& f : o.topics) {
        std::error_code ec;
        if (mqtt::parse_shared(f, ec) || ec)
            throw std::system_error(tool_error::usage,
                                    fmt::format("'{}': shared subscriptions get no retained messages", f));
        if (wildcard_only(f) && !o.all) {
            throw std::system_error(tool_error::usage,
                                    fmt::format("'{}' matches every retained message; add --all to mean it", f));
        }
    }
    const auto idle = duration_option(o.idle_timeout, "--idle-timeout");
    std::optional<std::uint64_t> max;
    if (!o.max.empty()) {
        max = parse_count(o.max);
        if (!max) throw std::system_error(tool_error::usage, "--max needs a count");
    }

    auto log = make_tool_logger();
    command_runner runner(conn.timeout);
    auto ex = runner.executor();
    std::unique_ptr<mqtt::net::client> client;
    runner.on_stop([&] {
        if (client) client->close();
    });
    inbox in(ex);
    clear_job job;
    async_event cleared(ex);
    progress_line progress;
    job.progress = &progress;

    auto body = [&]() -> asio::awaitable<int> {
        client = co_await connect_client(ex, conn, log);
        const bool v5 = client->version() == mqtt::protocol_version::v5;
        // Step 1: QoS 0, Retain Handling 0; v5 No Local keeps our own clearing
        // publishes away from the verification pass.
        std::vector<mqtt::subscription> subs;
        for (const auto& f : o.topics) {
            mqtt::subscription s;
            s.filter = f;
            s.no_local = v5;
            subs.push_back(std::move(s));
        }
        const mqtt::properties sub_props = v5 ? conn.subscribe_props : mqtt::properties{};
        if (v5) job.props = conn.publish_props;
        asio::co_spawn(ex, read_into(client.get(), &in), asio::detached);
        // A partly refused SUBSCRIBE would hide retained messages: any refusal is fatal.
        if (const int refused = suback_exit_code(co_await client->subscribe(subs, sub_props), subs, true); refused != 0) {
            co_await disconnect_quietly(client.get(), conn.disconnect_props);
            co_return refused;
        }
        // Step 2.
        const retained_set found = co_await collect_retained(in, idle, progress);
        // Step 3: exclusions, then the --max guard.
        auto excluded = [&](const std::string& topic) {
            for (const auto& x : o.excludes)
                if (mqtt::topic_matches(x, topic)) return true;
            return false;
        };
        for (const auto& [topic, len] : found) {
            if (!excluded(topic)) job.topics.push_back(topic);
        }
        if (max && job.topics.size() > *max) {
            progress.clear();
            print_error(fmt::format("{} retained topics match, more than --max {}; nothing cleared",
                                    job.topics.size(), *max));
            co_await disconnect_quietly(client.get(), conn.disconnect_props);
            co_return exit_status::check_failed;
        }
        // Step 4 (--dry-run) or 5: publish a zero-length retained QoS 1 message
        // to each, with at most the in-flight window outstanding.
        if (!o.dry_run && !job.topics.empty()) {
            job.results.assign(job.topics.size(), mqtt::reason::success);
            job.workers = std::min<std::size_t>(std::max<std::uint16_t>(conn.client.max_inflight, 1), job.topics.size());
            const std::size_t workers = job.workers;
            for (std::size_t w = 0; w < workers; ++w)
                asio::co_spawn(ex, clear_worker(client.get(), &job, &cleared), asio::detached);
            co_await cleared.wait();
            if (job.error) std::rethrow_exception(job.error);
        }
        progress.clear();
        std::string out;
        int failure = 0;
        std::size_t next_cleared = 0;
        for (const auto& [topic, len] : found) {
            if (excluded(topic)) {
                if (o.json) append_record(out, true, topic, len, "kept");
                continue;
            }
            if (o.dry_run) {
                append_record(out, o.json, topic, len, "would_clear");
                continue;
            }
            const mqtt::reason r = job.results[next_cleared++];
            if (mqtt::is_failure(r)) {
                print_error(fmt::format("clearing '{}' failed: {}", topic, describe_reason(r)));
                if (failure == 0) failure = exit_code_for_ack(static_cast<std::uint8_t>(r));
                continue;
            }
            append_record(out, o.json, topic, len, "cleared");
        }
        if (!out.empty()) {
            if (const int err = write_all(1, out); err != 0 && err != EPIPE)
                throw std::system_error(err, std::generic_category(), "writing stdout");
        }
        if (o.dry_run || job.topics.empty() || failure != 0) {
            co_await disconnect_quietly(client.get(), conn.disconnect_props);
            co_return failure;
        }
        // Step 6: SUBSCRIBE again (retained messages are re-sent for an
        // existing subscription with Retain Handling 0 [MQTT-3.3.1-9]).
        in.queue.clear();
        if (const int refused = suback_exit_code(co_await client->subscribe(subs, sub_props), subs, true); refused != 0) {
            co_await disconnect_quietly(client.get(), conn.disconnect_props);
            co_return refused;
        }
        const retained_set left = co_await collect_retained(in, idle, progress);
        progress.clear();
        std::size_t remaining = 0;
        for (const auto& [topic, len] : left) {
            if (excluded(topic)) continue;
            ++remaining;
            print_error(fmt::format("still retained after clearing: {}", topic));
        }
        co_await disconnect_quietly(client.get(), conn.disconnect_props);
        co_return remaining > 0 ? exit_status::check_failed : 0;
    };
    return runner.run(body, [&progress](stop_reason r) {
        progress.clear();
        return r == stop_reason::timeout ? exit_status::timeout : exit_status::interrupted;
    });
}

}  // namespace

void add_retain_clear_command(CLI::App& app) {
    auto o = std::make_shared<retain_clear_options>();
    auto* cmd = app.add_subcommand("retain-clear", "Delete the retained messages under some filters");
    o->conn.add_to(*cmd, false);
    cmd->add_option("-t,--topic", o->topics, "Filter whose retained messages to clear (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("-T,--exclude", o->excludes, "Keep topics matching FILTER (repeatable)")->allow_extra_args(false);
    cmd->add_option("--idle-timeout", o->idle_timeout, "Collection ends when no retained message came for DUR (1s)");
    cmd->add_flag("--dry-run", o->dry_run, "Only list what would be cleared");
    cmd->add_option("--max", o->max, "Clear nothing (exit 1) when more than N topics match");
    cmd->add_flag("--all", o->all, "Allow filters made only of wildcards (#, +/#)");
    cmd->add_flag("--json", o->json, "One NDJSON record per topic");
    cmd->callback([o] { globals().run = [o] { return run_retain_clear(*o); }; });
}

}  // namespace mq::tools
