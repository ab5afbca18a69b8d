// SPDX-License-Identifier: MIT
// `mq pub` (cli-contract.md §4): one connection, one message source, every
// QoS 1/2 acknowledgement awaited.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
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
#include "common/ndjson.hpp"
#include "common/publish_checks.hpp"
#include "common/session.hpp"
#include "common/stdio.hpp"
#include "common/summary_recorder.hpp"

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

enum class line_mode : std::uint8_t { lines, ndjson };

// Parsed messages travel from the stdin thread to the io thread in batches so
// the hand-off cost is paid per batch, not per message.
struct batch {
    std::vector<mqtt::publish> msgs;
    std::size_t bytes = 0;
};

// Bounded queue between the stdin thread and the io thread. When it is full
// the reader blocks, so reading stdin pauses while the window is full.
class batch_queue {
public:
    explicit batch_queue(std::size_t capacity) : capacity_(capacity) {}

    void set_notify(std::function<void()> fn) {
        std::lock_guard lk(mu_);
        notify_ = std::move(fn);
    }
    bool push(batch b) {
        std::function<void()> fn;
        {
            std::unique_lock lk(mu_);
            space_.wait(lk, [this] { return closed_ || q_.size() < capacity_; });
            if (closed_) return false;
            q_.push_back(std::move(b));
            fn = notify_;
        }
        if (fn) fn();
        return true;
    }
    std::optional<batch> try_pop() {
        std::lock_guard lk(mu_);
        if (q_.empty()) return std::nullopt;
        batch b = std::move(q_.front());
        q_.pop_front();
        space_.notify_one();
        return b;
    }
    /// Producer is done: 0 at end of input, or the exit status that stopped it.
    void finish(int status, std::uint64_t bad_lines) {
        std::function<void()> fn;
        {
            std::lock_guard lk(mu_);
            done_ = true;
            status_ = status;
            bad_lines_ = bad_lines;
            fn = notify_;
        }
        if (fn) fn();
    }
    /// Consumer stops the producer (strict failure, signal, lost connection).
    void close() {
        std::lock_guard lk(mu_);
        closed_ = true;
        space_.notify_all();
    }
    bool drained() const {
        std::lock_guard lk(mu_);
        return done_ && q_.empty();
    }
    int status() const {
        std::lock_guard lk(mu_);
        return status_;
    }
    std::string error_text() const {
        std::lock_guard lk(mu_);
        return error_;
    }
    void set_error_text(std::string e) {
        std::lock_guard lk(mu_);
        error_ = std::move(e);
    }

private:
    mutable std::mutex mu_;
    std::condition_variable space_;
    std::deque<batch> q_;
    std::size_t capacity_;
    std::function<void()> notify_;
    bool closed_ = false, done_ = false;
    int status_ = 0;
    std::uint64_t bad_lines_ = 0;
    std::string error_;
};

struct reader_config {
    line_mode mode = line_mode::lines;
    std::string default_topic;
    mqtt::qos level = mqtt::qos::at_most_once;
    bool retain = false;
    std::size_t max_line = 16u << 20;
    bool allow_empty = false;
    bool strict = false;
};

void report_bad_line(std::uint64_t n, std::string_view why) { print_error(fmt::format("line {}: {}", n, why)); }

// Body of the stdin thread: lines -> PUBLISH batches.
void read_stdin(std::shared_ptr<batch_queue> q, reader_config cfg) {
    constexpr std::size_t max_batch_msgs = 1024;
    constexpr std::size_t max_batch_bytes = std::size_t{1} << 20;
    std::uint64_t bad = 0;
    int status = 0;
    try {
        line_reader reader(0, cfg.max_line);
        ndjson_parser parser;
        const publish_defaults defaults{cfg.default_topic, cfg.level, cfg.retain};
        batch current;
        bool stopped = false;
        // Hand over what we have before a read that may block (interactive input).
        auto flush = [&] {
            if (current.msgs.empty() || stopped) return;
            if (!q->push(std::move(current))) stopped = true;
            current = batch{};
        };
        reader.set_before_read(flush);
        std::string error;
        mqtt::publish msg;
        while (!stopped) {
            auto line = reader.next();
            if (!line) break;
            if (line->too_long) {
                ++bad;
                report_bad_line(line->number, fmt::format("longer than --max-line ({} bytes)", cfg.max_line));
                if (cfg.strict) {
                    status = exit_status::data;
                    break;
                }
                continue;
            }
            std::string_view text = line->text;
            if (line->number == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // BOM
            if (cfg.mode == line_mode::lines) {
                if (text.empty() && !cfg.allow_empty) continue;
                msg.topic = cfg.default_topic;
                msg.payload.assign(text.begin(), text.end());
                msg.level = cfg.level;
                msg.retain = cfg.retain;
            } else {
                // `text` ends where the line ends, so the padding after it is the same.
                const auto st = parser.parse(text, line->readable_after, defaults, msg, error);
                if (st == ndjson_status::skip) continue;
                if (st == ndjson_status::bad) {
                    ++bad;
                    report_bad_line(line->number, error);
                    if (cfg.strict) {
                        status = exit_status::data;
                        break;
                    }
                    continue;
                }
            }
            current.bytes += msg.payload.size() + msg.topic.size();
            current.msgs.push_back(std::move(msg));
            msg = mqtt::publish{};
            if (current.msgs.size() >= max_batch_msgs || current.bytes >= max_batch_bytes) flush();
        }
        flush();
    } catch (const std::system_error& e) {
        q->set_error_text(e.what());
        status = exit_status::io;
    }
    q->finish(status, bad);
}

class publisher {
public:
    publisher(asio::any_io_executor ex, mqtt::net::client& c, const pub_options& o, const resolved_connection& rc,
              summary_recorder& sum)
        : ex_(ex), client_(c), opts_(o), conn_(rc), sum_(sum), window_ev_(ex) {
        window_ = rc.client.max_inflight;
        const auto& ack = c.connack_info();
        max_packet_ = broker_max_packet(ack);
        v5_ = c.version() == mqtt::protocol_version::v5;
    }

    /// Sends one message (QoS 0 inline, QoS 1/2 within the window).
    asio::awaitable<void> send(mqtt::publish m) {
        // CLI properties apply unless the line set the same one.
        for (const auto& p : conn_.publish_props.items) {
            if (p.id == property_id::user_property || !m.props.has(p.id)) m.props.items.push_back(p);
        }
        if (!v5_) m.props.items.clear();
        if (auto why = publish_problem(m, v5_, max_packet_, conn_.payload_must_be_utf8); !why.empty()) {
            fail(exit_status::data, why);
            co_return;
        }
        if (m.level == mqtt::qos::at_most_once) {
            co_await client_.publish(std::move(m));
            ++sum_.publishing().published;
            co_return;
        }
        while (inflight_ >= window_) co_await window_ev_.wait();
        ++inflight_;
        auto self_task = track(std::move(m));
        asio::co_spawn(ex_, std::move(self_task), asio::detached);
    }

    /// Waits until every QoS 1/2 message completed; rethrows a transport error.
    asio::awaitable<void> drain() {
        while (inflight_ > 0) co_await window_ev_.wait();
        if (error_) std::rethrow_exception(error_);
    }

    bool should_stop() const { return error_ != nullptr || (opts_.strict && first_failure_ != 0); }
    int exit_code() const { return first_failure_; }
    std::exception_ptr error() const { return error_; }

private:
    asio::awaitable<void> track(mqtt::publish m) {
        const std::string topic = m.topic;
        try {
            ++sum_.publishing().published;
            auto r = co_await client_.publish(std::move(m));
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
    bool v5_ = true;
    int first_failure_ = 0;
    std::exception_ptr error_;
};

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
    runner.on_stop([&] {
        if (queue) queue->close();
        if (client) client->close();
    });

    auto body = [&]() -> asio::awaitable<int> {
        sum.connect_started();
        client = co_await connect_client(ex, conn, log);
        sum.connected(client->connack_info());
        auto& pub = pub_holder.emplace(ex, *client, o, conn, sum);
        if (o.stdin_lines || o.ndjson) {
            queue = std::make_shared<batch_queue>(8);
            async_event ev(ex);
            queue->set_notify(ev.notifier());
            reader_config cfg{o.ndjson ? line_mode::ndjson : line_mode::lines, topic, level, o.retain,
                              static_cast<std::size_t>(*max_line), o.allow_empty, o.strict};
            // Detached: a reader blocked on a terminal must not hold up exit.
            std::thread(read_stdin, queue, std::move(cfg)).detach();
            while (!pub.should_stop()) {
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
                print_error("reading stdin: " + queue->error_text());
                sum.failure(exit_status::io, std::nullopt, "reading stdin: " + queue->error_text());
            } else {
                sum.failure(queue->status(), std::nullopt, "invalid input line (--strict)");
            }
            if (code == 0) code = queue->status();
        }
        co_await client->disconnect(mqtt::disconnect{mqtt::reason::normal_disconnection, conn.disconnect_props});
        co_return code;
    };
    return runner.run(body, [&sum](stop_reason r) {
        sum.stopped(r);
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
