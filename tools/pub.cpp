// SPDX-License-Identifier: MIT
// `mq pub` (cli-contract.md §4): one connection, one message source, every
// QoS 1/2 acknowledgement awaited.
#include <exception>
#include <functional>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <mqtt/codec/topic.hpp>

#include "commands.hpp"
#include "common/connection_options.hpp"
#include "common/duration.hpp"
#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/publish_checks.hpp"
#include "common/session.hpp"
#include "common/stdin_messages.hpp"
#include "common/stdio.hpp"
#include "common/summary_recorder.hpp"
#include "common/topic_aliases.hpp"

namespace mq::tools {
namespace {
namespace asio = boost::asio;
using mqtt::property_id;

struct pub_options {
    connection_options conn;
    std::string topic, message, file, qos = "0", repeat = "1", repeat_delay, max_line = "16MiB";
    bool stdin_all = false, stdin_lines = false, null_msg = false, ndjson = false, retain = false;
    bool strict = false, allow_empty = false, require_subscribers = false;
    summary_options summary;
    CLI::Option* message_opt = nullptr;
    CLI::Option* file_opt = nullptr;
    CLI::Option* topic_opt = nullptr;
};

class publisher {
public:
    publisher(asio::any_io_executor ex, mqtt::net::client& c, const pub_options& o, const resolved_connection& rc,
              summary_recorder& sum)
        : ex_(ex), client_(c), opts_(o), conn_(rc), sum_(sum), window_ev_(ex) {
        window_ = rc.client.max_inflight;
        const auto& ack = c.connack_info();
        max_packet_ = broker_max_packet(ack);
        v5_ = c.version() == mqtt::protocol_version::v5;
        alias_max_ = ack.props.get_int(property_id::topic_alias_maximum).value_or(0);
        // Omitting aliased topics needs every message to one topic (--ndjson
        // lines may rebind an alias while others are in flight) and one
        // connection (a reconnect forgets the bindings; resends need topics).
        omit_aliased_topics_ = v5_ && !o.ndjson && !rc.client.reconnect.enabled;
    }

    /// A Topic Alias above the broker's Topic Alias Maximum: the message, if
    /// sent, would make the broker close the connection.
    std::string alias_problem(const mqtt::properties& props) const {
        const auto alias = props.get_int(property_id::topic_alias);
        if (!alias || !v5_ || *alias <= alias_max_) return {};
        return fmt::format("topic alias {} exceeds the broker's Topic Alias Maximum ({})", *alias, alias_max_);
    }

    /// Sends one message (QoS 0 inline, QoS 1/2 within the window).
    asio::awaitable<void> send(mqtt::publish m) {
        // CLI properties apply unless the line set the same one.
        for (const auto& p : conn_.publish_props.items) {
            if (p.id == property_id::user_property || !m.props.has(p.id)) m.props.items.push_back(p);
        }
        if (!v5_) m.props.items.clear();
        auto why = publish_problem(m, v5_, max_packet_, conn_.payload_must_be_utf8);
        if (why.empty()) why = alias_problem(m.props);
        if (!why.empty()) {
            fail(exit_status::data, why);
            co_return;
        }
        const std::string topic = m.topic;
        if (m.level == mqtt::qos::at_most_once) {
            const auto binds = use_alias(m);
            co_await client_.publish(std::move(m));
            ++sum_.publishing().published;
            if (binds) aliases_.confirm(*binds, topic);  // written ahead of any later message
            co_return;
        }
        while (inflight_ >= window_) co_await window_ev_.wait();
        ++inflight_;
        const auto binds = use_alias(m);  // after the wait: an acknowledgement may have come meanwhile
        auto self_task = track(std::move(m), topic, binds);
        asio::co_spawn(ex_, std::move(self_task), asio::detached);
    }

    /// Waits until every QoS 1/2 message completed; rethrows a transport error.
    asio::awaitable<void> drain() {
        while (inflight_ > 0) co_await window_ev_.wait();
        if (error_) std::rethrow_exception(error_);
    }

    bool should_stop() const { return error_ != nullptr || (opts_.strict && first_failure_ != 0); }
    /// QoS 1/2 messages sent and not yet acknowledged.
    std::size_t unacknowledged() const noexcept { return inflight_; }
    int exit_code() const { return first_failure_; }
    std::exception_ptr error() const { return error_; }

private:
    // --topic-alias: omits the topic when its alias is bound; otherwise the
    // message goes out with its topic and binds its alias (returned).
    std::optional<std::uint32_t> use_alias(mqtt::publish& m) const {
        if (!omit_aliased_topics_ || aliases_.apply(m)) return std::nullopt;
        return m.props.get_int(property_id::topic_alias);
    }

    // `topic` is the message's topic even when the alias stands for it.
    asio::awaitable<void> track(mqtt::publish m, std::string topic, std::optional<std::uint32_t> binds) {
        try {
            ++sum_.publishing().published;
            auto r = co_await client_.publish(std::move(m));
            // Acknowledged: the broker has the binding (QoS 1/2 may overtake
            // each other in flight, so only now may later messages omit the topic).
            if (binds && !mqtt::is_failure(r.reason_code)) aliases_.confirm(*binds, topic);
            note(r.reason_code, topic);
        } catch (...) {
            if (!error_) error_ = std::current_exception();
        }
        --inflight_;
        window_ev_.notify();
    }

    void note(mqtt::reason r, const std::string& topic) {
        const auto v = static_cast<std::uint8_t>(r);
        sum_.publish_acked(v, opts_.require_subscribers);
        if (r == mqtt::reason::no_matching_subscribers && opts_.require_subscribers) {
            fail(exit_status::check_failed, fmt::format("no subscribers for '{}' ({})", topic, describe_reason(r)), v);
        } else if (v >= 0x80) {
            fail(exit_code_for_ack(v), fmt::format("publish to '{}' failed: {}", topic, describe_reason(r)), v);
        }
    }

    void fail(int code, const std::string& msg, std::optional<std::uint8_t> reason = std::nullopt) {
        print_error(msg);
        sum_.failure(code, reason, msg);
        if (first_failure_ == 0) first_failure_ = code;
    }

    asio::any_io_executor ex_;
    mqtt::net::client& client_;
    const pub_options& opts_;
    const resolved_connection& conn_;
    summary_recorder& sum_;
    async_event window_ev_;
    std::size_t inflight_ = 0, window_ = 20;
    std::uint32_t max_packet_ = 268'435'460;
    std::uint32_t alias_max_ = 0;
    bool v5_ = true;
    bool omit_aliased_topics_ = false;
    outgoing_topic_aliases aliases_;
    int first_failure_ = 0;
    std::exception_ptr error_;
};

// How the connection ended while `mq pub` waits for stdin lines (hardening.md T05).
struct connection_watch {
    std::exception_ptr error;
};

// receive() returns nullopt after our own DISCONNECT and throws when the connection
// is lost; either way the stdin loop is woken, so an idle `pub -l` notices a dead
// connection instead of waiting for input. A free function taking owned arguments:
// the detached coroutine may outlive the caller's frame (GCC 12 coroutine rules).
asio::awaitable<void> watch_connection(mqtt::net::client* c, std::shared_ptr<connection_watch> w,
                                       std::function<void()> wake) {
    try {
        for (;;) {
            auto m = co_await c->receive();
            if (!m) break;
        }
    } catch (...) {
        w->error = std::current_exception();
    }
    wake();
}

int run_pub(pub_options& o) {
    summary_recorder& sum = begin_summary(o.summary, "pub");
    sum.publishing();
    // --- validation, before anything is sent ---
    const int sources = (o.message_opt->count() > 0) + (o.file_opt->count() > 0) + o.stdin_all + o.stdin_lines +
                        o.null_msg + o.ndjson;
    if (sources != 1) {
        throw std::system_error(tool_error::usage, "give exactly one of -m, -f, -s, -l, -n, --ndjson");
    }
    resolved_connection conn = o.conn.resolve();
    const mqtt::qos level = parse_qos(o.qos, "-q");
    std::string topic = o.topic_opt->count() > 0 ? o.topic : conn.url_topic;
    if (!topic.empty() || o.topic_opt->count() > 0) {
        if (auto ec = mqtt::check_topic_name(topic)) {
            throw std::system_error(tool_error::usage, fmt::format("invalid topic '{}': {}", topic, ec.message()));
        }
    } else if (!o.ndjson) {
        throw std::system_error(tool_error::usage, "-t TOPIC is required");
    }
    auto repeat = parse_count(o.repeat);
    if (!repeat || *repeat == 0) throw std::system_error(tool_error::usage, "--repeat needs a count >= 1");
    std::chrono::nanoseconds repeat_delay{0};
    if (!o.repeat_delay.empty()) {
        auto d = parse_duration(o.repeat_delay);
        if (!d) throw std::system_error(tool_error::usage, "--repeat-delay: invalid duration '" + o.repeat_delay + "'");
        repeat_delay = *d;
    }
    auto max_line = parse_size(o.max_line);
    if (!max_line || *max_line == 0) throw std::system_error(tool_error::usage, "--max-line: invalid size");

    // Single-message payloads are read before connecting (66/74 without traffic).
    std::vector<std::uint8_t> payload;
    if (o.message_opt->count() > 0) payload.assign(o.message.begin(), o.message.end());
    else if (o.file_opt->count() > 0) payload = read_payload_file(o.file);
    else if (o.stdin_all) read_all(0, payload);

    auto log = make_tool_logger();
    command_runner runner(conn.timeout);
    auto ex = runner.executor();
    std::shared_ptr<batch_queue> queue;
    std::unique_ptr<mqtt::net::client> client;
    // Outside the body: QoS 1/2 completions may still run if the body throws.
    std::optional<publisher> pub_holder;
    std::size_t unacked_at_stop = 0;  // closing the client fails the pending ones
    runner.on_stop([&] {
        if (pub_holder) unacked_at_stop = pub_holder->unacknowledged();
        if (queue) queue->close();
        if (client) client->close();
    });

    auto body = [&]() -> asio::awaitable<int> {
        sum.connect_started();
        client = co_await connect_client(ex, conn, log);
        sum.connected(client->connack_info());
        auto& pub = pub_holder.emplace(ex, *client, o, conn, sum);
        // One check for the command line's alias instead of one error per message.
        if (auto why = pub.alias_problem(conn.publish_props); !why.empty()) {
            print_error(why);
            sum.failure(exit_status::data, std::nullopt, why);
            co_await client->disconnect(mqtt::disconnect{mqtt::reason::normal_disconnection, conn.disconnect_props});
            co_return exit_status::data;
        }
        if (o.stdin_lines || o.ndjson) {
            queue = std::make_shared<batch_queue>(8);
            async_event ev(ex);
            queue->set_notify(ev.notifier());
            reader_config cfg{o.ndjson ? line_mode::ndjson : line_mode::lines, topic, level, o.retain,
                              static_cast<std::size_t>(*max_line), o.allow_empty, o.strict};
            // Detached: a reader blocked on a terminal must not hold up exit.
            std::thread(read_stdin, queue, std::move(cfg)).detach();
            auto watch = std::make_shared<connection_watch>();
            asio::co_spawn(ex, watch_connection(client.get(), watch, ev.notifier()), asio::detached);
            while (!pub.should_stop()) {
                if (watch->error) std::rethrow_exception(watch->error);  // lost while waiting: 69
                auto b = queue->try_pop();
                if (!b) {
                    if (queue->drained()) break;
                    co_await ev.wait();
                    continue;
                }
                for (auto& m : b->msgs) {
                    co_await pub.send(std::move(m));
                    if (pub.should_stop()) break;
                }
            }
            queue->close();
        } else {
            asio::steady_timer delay(ex);
            for (std::uint64_t i = 0; i < *repeat && !pub.should_stop(); ++i) {
                if (i > 0 && repeat_delay.count() > 0) {
                    delay.expires_after(repeat_delay);
                    co_await delay.async_wait(asio::use_awaitable);
                }
                mqtt::publish m;
                m.topic = topic;
                m.payload = payload;
                m.level = level;
                m.retain = o.retain;
                co_await pub.send(std::move(m));
            }
        }
        co_await pub.drain();
        int code = pub.exit_code();
        if (queue && queue->drained() && queue->status() != 0) {
            if (queue->status() == exit_status::io) {
                print_error(queue->error_text());  // "reading stdin: <why>"
                sum.failure(exit_status::io, std::nullopt, queue->error_text());
            } else {
                sum.failure(queue->status(), std::nullopt, "invalid input line (--strict)");
            }
            if (code == 0) code = queue->status();
        }
        co_await client->disconnect(mqtt::disconnect{mqtt::reason::normal_disconnection, conn.disconnect_props});
        co_return code;
    };
    return runner.run(body, [&](stop_reason r) {
        sum.stopped(r);
        // -W ran out: say what was left undone, so a script's log explains 124.
        if (r == stop_reason::timeout) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*conn.timeout).count();
            if (!client)
                print_error(fmt::format("timed out after {} ms before the broker accepted the connection", ms));
            else if (unacked_at_stop > 0)
                print_error(fmt::format("timed out after {} ms with {} message(s) not acknowledged", ms,
                                        unacked_at_stop));
            else
                print_error(fmt::format("timed out after {} ms", ms));
        }
        return r == stop_reason::timeout ? exit_status::timeout : exit_status::interrupted;
    });
}

}  // namespace

void add_pub_command(CLI::App& app) {
    auto o = std::make_shared<pub_options>();
    auto* cmd = app.add_subcommand("pub", "Publish messages");
    o->conn.add_to(*cmd, true);
    o->summary.add_to(*cmd);
    o->topic_opt = cmd->add_option("-t,--topic", o->topic, "Topic to publish to");
    cmd->add_option("-q,--qos", o->qos, "QoS 0, 1 or 2 (default 0)");
    cmd->add_flag("-r,--retain", o->retain, "Retain the message");
    o->message_opt = cmd->add_option("-m,--message", o->message, "Message payload");
    o->file_opt = cmd->add_option("-f,--file", o->file, "Send the contents of FILE as one message");
    cmd->add_flag("-s,--stdin-file", o->stdin_all, "Send all of stdin as one message");
    cmd->add_flag("-l,--stdin-line", o->stdin_lines, "Send each line of stdin as a message");
    cmd->add_flag("-n,--null-message", o->null_msg, "Send an empty message");
    cmd->add_flag("--ndjson", o->ndjson, "Each stdin line is a JSON message record (mq sub --json)");
    cmd->add_option("--repeat", o->repeat, "Publish the message N times");
    cmd->add_option("--repeat-delay", o->repeat_delay, "Delay between repeats");
    cmd->add_flag("--strict", o->strict, "Stop at the first bad line (65) or failed message");
    cmd->add_flag("--allow-empty", o->allow_empty, "-l: send empty lines as empty messages");
    cmd->add_option("--max-line", o->max_line, "Longest stdin line (default 16MiB)");
    cmd->add_flag("--require-subscribers", o->require_subscribers, "Exit 1 when the broker reports no subscribers");
    cmd->callback([o] { globals().run = [o] { return run_pub(*o); }; });
}

}  // namespace mq::tools
