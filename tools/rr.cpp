// SPDX-License-Identifier: MIT
// `mq rr` (cli-contract.md §6): publish one request and print the matching
// responses. The response subscription is acknowledged before the request goes
// out, so a fast responder cannot answer into the void.
#include <array>
#include <cstring>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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
#include "common/message_output.hpp"
#include "common/publish_checks.hpp"
#include "common/session.hpp"
#include "common/stdio.hpp"
#include "common/summary_recorder.hpp"

namespace mq::tools {
namespace {
namespace asio = boost::asio;
using mqtt::property_id;
using clock = std::chrono::steady_clock;

struct rr_options {
    connection_options conn;
    output_options output;
    summary_options summary;
    std::string topic, response_topic, message, file, qos = "0", responses = "1";
    std::vector<std::string> expects;
    bool stdin_all = false, null_msg = false, latency = false;
    CLI::Option* topic_opt = nullptr;
    CLI::Option* message_opt = nullptr;
    CLI::Option* file_opt = nullptr;
};

std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::random_device rd;
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(rd());
    return out;
}

std::string random_hex16() {
    std::string out;
    hex_encode(random_bytes(8), out);
    return out;
}

// The request's progress, shared by the body and the publishing coroutine.
struct request_state {
    clock::time_point sent_at{};
    int exit_code = 0;             // PUBACK/PUBREC failure
    std::exception_ptr error;      // transport failure
    bool done = false;
};

// Publishes the request while the body keeps reading responses, so a response
// that overtakes the PUBACK is timed when it arrives. A free function: the
// coroutine must not refer to a closure (GCC 12 coroutine rules).
asio::awaitable<void> send_request(mqtt::net::client* c, mqtt::publish req, request_state* st,
                                   summary_recorder* sum, std::function<void()> on_failure) {
    const std::string topic = req.topic;
    const bool acked = req.level != mqtt::qos::at_most_once;
    try {
        st->sent_at = clock::now();
        ++sum->publishing().published;
        const auto r = co_await c->publish(std::move(req));
        const auto v = static_cast<std::uint8_t>(r.reason_code);
        if (acked) sum->publish_acked(v, false);
        if (r.reason_code == mqtt::reason::no_matching_subscribers) {
            print_warning(fmt::format("no subscribers for request topic '{}' ({})", topic,
                                      describe_reason(r.reason_code)));
        } else if (v >= 0x80) {
            const std::string why = fmt::format("request to '{}' failed: {}", topic, describe_reason(r.reason_code));
            print_error(why);
            st->exit_code = exit_code_for_ack(v);
            sum->failure(st->exit_code, v, why);
            on_failure();
        }
    } catch (...) {
        st->error = std::current_exception();
    }
    st->done = true;
}

// `<info>/<random>` when the broker gave Response Information that makes a
// valid topic prefix, else `mq/rr/<16 hex>` [MQTT-3.2.2.3.16].
std::string pick_response_topic(const mqtt::connack& ack) {
    const std::string rand = random_hex16();
    if (const auto* info = ack.props.get_string(property_id::response_information); info && !info->empty()) {
        std::string t = *info;
        if (!t.ends_with('/')) t.push_back('/');
        t += rand;
        if (!mqtt::check_topic_name(t)) return t;
        print_warning(fmt::format("ignoring Response Information '{}': not a topic prefix", *info));
    }
    return "mq/rr/" + rand;
}

int run_rr(rr_options& o) {
    summary_recorder& sum = begin_summary(o.summary, "rr");
    sum.publishing();
    if (o.latency) sum.data().latency_ms.emplace();  // [] when no response came
    // --- validation (64 before connecting) ---
    const int sources = (o.message_opt->count() > 0) + (o.file_opt->count() > 0) + o.stdin_all + o.null_msg;
    if (sources != 1) throw std::system_error(tool_error::usage, "give exactly one of -m, -f, -s, -n");
    resolved_connection conn = o.conn.resolve();
    const std::string topic = o.topic_opt->count() > 0 ? o.topic : conn.url_topic;
    if (topic.empty()) throw std::system_error(tool_error::usage, "-t TOPIC is required");
    if (auto ec = mqtt::check_topic_name(topic))
        throw std::system_error(tool_error::usage, fmt::format("invalid topic '{}': {}", topic, ec.message()));
    // mq rr sets the Response Topic (from -e) and Correlation Data itself.
    if (conn.publish_props.has(property_id::response_topic))
        throw std::system_error(tool_error::usage, "give the response topic with -e, not -D publish response-topic");
    if (!o.response_topic.empty()) {
        if (auto ec = mqtt::check_topic_name(o.response_topic)) {
            throw std::system_error(tool_error::usage,
                                    fmt::format("invalid response topic '{}': {}", o.response_topic, ec.message()));
        }
    }
    if (conn.publish_props.has(property_id::correlation_data))
        throw std::system_error(tool_error::usage, "mq rr makes its own random Correlation Data (no -D correlation-data)");
    const mqtt::qos level = parse_qos(o.qos, "-q");
    const auto wanted = parse_count(o.responses);
    if (!wanted || *wanted == 0) throw std::system_error(tool_error::usage, "--responses needs a count >= 1");
    const message_printer printer(o.output);
    const std::vector<predicate> expects = parse_expect_options(o.expects);

    mqtt::publish request;
    if (o.message_opt->count() > 0) request.payload.assign(o.message.begin(), o.message.end());
    else if (o.file_opt->count() > 0) request.payload = read_payload_file(o.file);
    else if (o.stdin_all) read_all(0, request.payload);
    request.topic = topic;
    request.level = level;
    request.props = conn.publish_props;

    // Without -e, ask the broker for a Response Information prefix (v5).
    if (o.response_topic.empty() && conn.client.connect.version == mqtt::protocol_version::v5)
        conn.client.connect.props.set_int(property_id::request_response_information, 1);

    auto log = make_tool_logger();
    command_runner runner(conn.timeout);
    auto ex = runner.executor();
    stdout_writer writer(1);
    std::unique_ptr<mqtt::net::client> client;
    request_state req_state;
    bool closing = false;
    bool goal_met = false;
    async_event space(ex);
    writer.set_notify([&runner, &writer, wake = space.notifier()] {
        wake();
        const auto st = writer.status();
        if (st == stdout_writer::state::closed) runner.request_stop(stop_reason::stdout_closed);
        else if (st == stdout_writer::state::failed) runner.request_stop(stop_reason::output_error);
    });
    auto shutdown = [&] {
        if (closing) return;
        closing = true;
        if (client) asio::co_spawn(ex, disconnect_quietly(client.get(), conn.disconnect_props), asio::detached);
    };
    runner.on_stop([&] { shutdown(); });

    int exit_code = 0;
    auto body = [&]() -> asio::awaitable<int> {
        sum.connect_started();
        client = co_await connect_client(ex, conn, log);
        sum.connected(client->connack_info());
        if (closing) co_return 0;  // stopped while connecting
        const bool v5 = client->version() == mqtt::protocol_version::v5;
        const std::string response_topic =
            o.response_topic.empty() ? pick_response_topic(client->connack_info()) : o.response_topic;
        if (!v5) {
            print_warning("MQTT 3.1.1 has no Response Topic or Correlation Data: every message on '" +
                          response_topic + "' counts as a response");
            request.props = {};
        }
        std::vector<mqtt::subscription> subs(1);
        subs[0].filter = response_topic;
        subs[0].max_qos = level;
        const auto ack = co_await client->subscribe(subs);
        sum.subscribed(subs, ack);
        if (const int refused = suback_exit_code(ack, subs, true); refused != 0) {
            sum.subscribe_failed(refused);
            closing = true;
            co_await disconnect_quietly(client.get(), conn.disconnect_props);
            co_return refused;
        }

        // v5: the responder copies the Correlation Data, which tells our
        // response apart from others on a shared response topic [MQTT-4.10.0].
        const mqtt::binary correlation = random_bytes(16);
        if (v5) {
            request.props.set_string(property_id::response_topic, response_topic);
            request.props.set_binary(property_id::correlation_data, correlation);
        }
        if (auto why = publish_problem(request, v5, broker_max_packet(client->connack_info()),
                                       conn.payload_must_be_utf8);
            !why.empty()) {
            print_error(why);
            sum.failure(exit_status::data, std::nullopt, why);
            closing = true;
            co_await disconnect_quietly(client.get(), conn.disconnect_props);
            co_return exit_status::data;
        }
        asio::co_spawn(ex, send_request(client.get(), std::move(request), &req_state, &sum, [&] { shutdown(); }),
                       asio::detached);

        const std::vector<std::string> filters{response_topic};
        std::string record;
        std::uint64_t received = 0;
        for (;;) {
            auto msg = co_await client->receive();
            if (!msg) break;
            if (closing) continue;  // draining after our DISCONNECT
            auto& counts = sum.messages();
            ++counts.received;
            // A retained message on the response topic predates this request.
            if (msg->retain) {
                ++counts.retained;
                ++counts.excluded;
                MQ_LOG(log, mqtt::net::log_level::debug, "rr", msg->topic, "ignoring a retained (stale) response");
                continue;
            }
            if (v5) {
                const auto* cd = msg->props.get_binary(property_id::correlation_data);
                if (cd == nullptr || *cd != correlation) {
                    ++counts.excluded;
                    MQ_LOG(log, mqtt::net::log_level::debug, "rr", msg->topic,
                           "ignoring a response with other Correlation Data");
                    continue;
                }
            }
            bool matched = true;
            for (const auto& p : expects) matched = matched && evaluate(p, *msg);
            if (!matched) continue;
            ++counts.matched;
            const auto now = clock::now();
            printer.render(received_message{*msg, std::chrono::system_clock::now(), filters}, record);
            const auto written = co_await push_record(writer, space, record);
            if (written == stdout_writer::state::closed) {
                sum.end(summary_end::stdout_closed);
                shutdown();  // the reader left: DISCONNECT, exit 0 (§1)
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
            ++received;
            ++counts.printed;
            if (o.latency) {
                const double ms = std::chrono::duration<double, std::milli>(now - req_state.sent_at).count();
                (void)write_all(2, fmt::format("mq: response {} round trip {:.3f} ms\n", received, ms));
                sum.add_latency_ms(ms);
            }
            if (received >= *wanted) {
                goal_met = true;
                sum.end(summary_end::count);
                shutdown();
            }
        }
        closing = true;
        writer.flush();
        if (writer.status() == stdout_writer::state::failed && exit_code == 0) exit_code = exit_status::io;
        if (exit_code != 0) co_return exit_code;
        if (req_state.exit_code != 0) co_return req_state.exit_code;
        if (req_state.error) std::rethrow_exception(req_state.error);
        if (goal_met || writer.status() == stdout_writer::state::closed) co_return 0;
        throw std::system_error(mqtt::net::net_error::connection_lost, "connection lost");
    };
    const int code = runner.run(body, [&](stop_reason r) {
        writer.flush();
        sum.stopped(r);
        switch (r) {
        case stop_reason::timeout: return exit_status::timeout;
        case stop_reason::signal: return goal_met ? 0 : exit_status::interrupted;
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

void add_rr_command(CLI::App& app) {
    auto o = std::make_shared<rr_options>();
    auto* cmd = app.add_subcommand("rr", "Send a request and print the response (MQTT 5 request/response)");
    o->conn.add_to(*cmd, true, false);
    o->topic_opt = cmd->add_option("-t,--topic", o->topic, "Request topic");
    cmd->add_option("-e,--response-topic", o->response_topic,
                    "Response topic (default: Response Information + random, or mq/rr/<random>)");
    cmd->add_option("-q,--qos", o->qos, "QoS of the request and the response subscription (default 0)");
    o->message_opt = cmd->add_option("-m,--message", o->message, "Request payload");
    o->file_opt = cmd->add_option("-f,--file", o->file, "Send the contents of FILE as the request");
    cmd->add_flag("-s,--stdin-file", o->stdin_all, "Send all of stdin as the request");
    cmd->add_flag("-n,--null-message", o->null_msg, "Send an empty request");
    cmd->add_option("--responses", o->responses, "Exit 0 after N responses (default 1)");
    cmd->add_flag("--latency", o->latency, "Print each response's round-trip time on stderr");
    cmd->add_option("--expect", o->expects, "Predicate every counted response must satisfy (repeatable)")
        ->allow_extra_args(false);
    o->output.add_to(*cmd);
    o->summary.add_to(*cmd);
    cmd->callback([o] { globals().run = [o] { return run_rr(*o); }; });
}

}  // namespace mq::tools
