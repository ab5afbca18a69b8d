// SPDX-License-Identifier: MIT
// `mq broker`: options -> net::server_options, readiness line, run until
// SIGINT/SIGTERM (cli-contract.md §9).
#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <mqtt/codec/topic.hpp>
#include <mqtt/net/server.hpp>

#include "broker_passwd.hpp"
#include "commands.hpp"
#include "common/duration.hpp"
#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/stdio.hpp"

#ifndef MQ_VERSION
#define MQ_VERSION "0.1.0"
#endif

namespace mq::tools {
namespace {

struct broker_options {
    std::vector<std::string> listen;
    std::optional<std::uint16_t> port;
    std::string max_packet_size;
    std::string max_connect_packet;
    std::optional<std::uint32_t> max_connections;
    std::optional<std::uint32_t> max_connect_rate;
    std::string topic_alias_out = "on";
    std::optional<std::uint16_t> receive_maximum;
    std::optional<std::uint16_t> max_inflight;
    std::optional<std::uint32_t> max_queued;
    std::string max_queued_bytes;
    std::optional<std::uint32_t> max_topic_length;
    std::optional<std::uint32_t> max_topic_levels;
    std::optional<std::uint32_t> max_subscriptions;
    std::optional<std::uint16_t> topic_alias_maximum;
    std::string connect_timeout;
    std::string shutdown_timeout = "5s";
    std::string sys_interval = "10s";
    unsigned workers = 1;
    std::optional<std::string> response_information;  // unset: the engine's default
    std::string ready_file;
    // Security (cli-contract.md §9).
    std::string tls_cert, tls_key, tls_cafile, tls_version, ciphers, tls_ephemeral_ca;
    bool require_client_cert = false;
    bool allow_anonymous = false;
    std::string password_file, acl_file;
    // Persistence (hardening.md S02, S15).
    std::string persistence_dir;
    std::string fsync = "interval";
};

std::uint32_t size_option(const std::string& text, const char* name, std::uint64_t max) {
    auto v = parse_size(text);
    if (!v || *v == 0 || *v > max)
        throw std::system_error(make_error_code(tool_error::usage),
                                fmt::format("{}: bad size '{}'", name, text));
    return static_cast<std::uint32_t>(*v);
}

std::chrono::milliseconds duration_option(const std::string& text, const char* name) {
    auto d = parse_duration(text);
    if (!d)
        throw std::system_error(make_error_code(tool_error::usage),
                                fmt::format("{}: bad duration '{}'", name, text));
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

mqtt::net::server_options to_server_options(const broker_options& o) {
    mqtt::net::server_options s;
    s.listeners.clear();
    for (const auto& url : o.listen) s.listeners.push_back({url});
    if (o.port) s.listeners.push_back({fmt::format("mqtt://127.0.0.1:{}", *o.port)});
    if (s.listeners.empty()) s.listeners.push_back({});
    auto& l = s.limits;
    if (!o.max_packet_size.empty())
        l.max_packet_size = size_option(o.max_packet_size, "--max-packet-size", 268'435'460);
    if (!o.max_connect_packet.empty())
        l.max_connect_packet = size_option(o.max_connect_packet, "--max-connect-packet", 268'435'460);
    if (o.max_connections) l.max_connections = *o.max_connections;
    if (o.max_connect_rate) l.max_connect_rate = *o.max_connect_rate;
    if (o.receive_maximum) {
        if (*o.receive_maximum == 0)
            throw std::system_error(make_error_code(tool_error::usage), "--receive-maximum must be 1..65535");
        l.receive_maximum = *o.receive_maximum;
    }
    if (o.max_inflight) l.max_inflight = std::max<std::uint16_t>(1, *o.max_inflight);
    if (o.max_queued) l.max_queued = *o.max_queued;
    if (!o.max_queued_bytes.empty()) {
        // 64-bit: a session may be allowed more than 4 GiB; 0 would drop every queued message.
        auto v = parse_size(o.max_queued_bytes);
        if (!v || *v == 0)
            throw std::system_error(make_error_code(tool_error::usage),
                                    fmt::format("--max-queued-bytes: bad size '{}'", o.max_queued_bytes));
        l.max_queued_bytes = *v;
    }
    if (o.max_topic_length) {
        // A topic is a UTF-8 string: at most 65,535 bytes [MQTT-1.5.4-1].
        if (*o.max_topic_length == 0 || *o.max_topic_length > 65'535)
            throw std::system_error(make_error_code(tool_error::usage), "--max-topic-length must be 1..65535");
        l.max_topic_length = *o.max_topic_length;
    }
    if (o.max_topic_levels) {
        if (*o.max_topic_levels == 0 || *o.max_topic_levels > 65'535)
            throw std::system_error(make_error_code(tool_error::usage), "--max-topic-levels must be 1..65535");
        l.max_topic_levels = *o.max_topic_levels;
    }
    if (o.max_subscriptions) l.max_subscriptions = *o.max_subscriptions;
    if (o.topic_alias_maximum) l.topic_alias_maximum = *o.topic_alias_maximum;
    if (!o.connect_timeout.empty())
        l.connect_timeout = duration_option(o.connect_timeout, "--connect-timeout");
    if (o.topic_alias_out != "on" && o.topic_alias_out != "off")
        throw std::system_error(make_error_code(tool_error::usage),
                                fmt::format("--topic-alias-out: '{}' is not on or off", o.topic_alias_out));
    s.topic_alias_out = o.topic_alias_out == "on";
    s.shutdown_timeout = duration_option(o.shutdown_timeout, "--shutdown-timeout");
    s.sys_interval = duration_option(o.sys_interval, "--sys-interval");
    s.workers = o.workers;
    if (o.response_information) {
        // What the clients get must start a valid topic name: no wildcards, no NUL.
        std::string sample = *o.response_information;
        for (auto at = sample.find("%c"); at != std::string::npos; at = sample.find("%c", at + 1))
            sample.replace(at, 2, "id");
        if (!sample.empty() && mqtt::check_topic_name(sample))
            throw std::system_error(make_error_code(tool_error::usage),
                                    fmt::format("--response-information: '{}' is not a topic prefix",
                                                *o.response_information));
        s.response_information = *o.response_information;
    }
    s.tls.cert_file = o.tls_cert;
    s.tls.key_file = o.tls_key;
    s.tls.ca_file = o.tls_cafile;
    s.tls.require_client_cert = o.require_client_cert;
    if (!o.tls_version.empty()) s.tls.min_version = o.tls_version;
    s.tls.ciphers = o.ciphers;
    s.tls.ephemeral_ca_file = o.tls_ephemeral_ca;
    if (o.allow_anonymous) s.allow_anonymous = true;
    s.password_file = o.password_file;
    s.acl_file = o.acl_file;
    s.persistence_dir = o.persistence_dir;
    if (o.fsync != "interval" && o.fsync != "always")
        throw std::system_error(make_error_code(tool_error::usage),
                                fmt::format("--fsync: '{}' is not interval or always", o.fsync));
    s.fsync_always = o.fsync == "always";
    s.handle_signals = true;
    return s;
}

std::string ready_line(const std::vector<mqtt::net::listener_info>& listeners) {
    nlohmann::ordered_json j;
    j["type"] = "ready";
    j["pid"] = static_cast<long long>(::getpid());
    j["version"] = MQ_VERSION;
    auto arr = nlohmann::ordered_json::array();
    for (const auto& l : listeners) {
        arr.push_back({{"url", l.url}, {"transport", l.transport}, {"address", l.address}, {"port", l.port}});
    }
    j["listeners"] = std::move(arr);
    return j.dump() + "\n";
}

int run_broker(const broker_options& o) {
    mqtt::net::server_options opts;
    try {
        opts = to_server_options(o);
    } catch (const std::invalid_argument& e) {
        throw std::system_error(make_error_code(tool_error::usage), e.what());
    }
    // Once the server is shutting down, another SIGTERM/SIGINT (a supervisor
    // repeating itself) must not turn the clean exit into death by signal.
    // Asio restores SIG_DFL when the last signal_set holding a signal goes
    // away, and the server's goes with `srv`; this one, declared first, lives
    // until the function returns and swallows repeats meanwhile.
    boost::asio::io_context signal_holder_ctx;
    boost::asio::signal_set signal_holder(signal_holder_ctx, SIGINT, SIGTERM);
    mqtt::net::server srv(std::move(opts), make_tool_logger());
    try {
        srv.start();
    } catch (const mqtt::net::config_error& e) {
        print_error(fmt::format("error: {}", e.what()));
        return exit_status::config;  // bad auth/TLS material or anonymous policy: 78
    } catch (const mqtt::net::persistence_error& e) {
        print_error(fmt::format("error: {}", e.what()));
        return exit_status::data;  // damaged journal or directory in use: 65
    } catch (const std::invalid_argument& e) {
        throw std::system_error(make_error_code(tool_error::usage), e.what());  // bad --listen URL
    } catch (const std::system_error& e) {
        print_error(fmt::format("error: {}", e.what()));
        return exit_status::unavailable;  // cannot bind: 69
    }
    const std::string line = ready_line(srv.listeners());
    if (!o.ready_file.empty()) {
        // Written whole under a temporary name, then renamed, so a watcher never reads half a line.
        const std::string tmp = o.ready_file + ".tmp";
        {
            std::ofstream f(tmp, std::ios::trunc);
            f << line;
            if (!f) throw std::system_error(make_error_code(tool_error::io), "cannot write " + tmp);
        }
        if (std::rename(tmp.c_str(), o.ready_file.c_str()) != 0)
            throw std::system_error(errno, std::generic_category(), "cannot write " + o.ready_file);
    }
    (void)write_all(1, line);
    srv.run();  // until SIGINT/SIGTERM: DISCONNECT 0x8B to v5 clients, bounded drain
    // The holder's destruction restores SIG_DFL, and the process still has its
    // exit to do after that: a repeat arriving then killed it (exit -15 seen in
    // CI). The workers are joined, so blocking the signals in this, the last
    // thread, leaves a repeat pending until the exit, which stays 0.
    sigset_t repeats;
    sigemptyset(&repeats);
    sigaddset(&repeats, SIGINT);
    sigaddset(&repeats, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &repeats, nullptr);
    return exit_status::ok;
}

}  // namespace

void add_broker_command(CLI::App& app) {
    auto o = std::make_shared<broker_options>();
    auto* cmd = app.add_subcommand("broker", "Run an MQTT broker");
    cmd->add_option("--listen", o->listen,
                    "Listener URL mqtt://, mqtts://, ws:// or wss://host:port[/path] (repeatable; port 0 = any)")
        ->allow_extra_args(false);
    cmd->add_option("-p,--port", o->port, "Shorthand for --listen mqtt://127.0.0.1:PORT");
    cmd->add_option("--max-packet-size", o->max_packet_size, "Largest packet accepted (default 1MiB)");
    cmd->add_option("--max-connect-packet", o->max_connect_packet, "Largest first packet (default 64KiB)");
    cmd->add_option("--max-connections", o->max_connections, "Concurrent clients (default 1000)");
    cmd->add_option("--max-connect-rate", o->max_connect_rate,
                    "New connections accepted per second (default 0 = unlimited); above it accept waits");
    cmd->add_option("--receive-maximum", o->receive_maximum,
                    "Inbound QoS 1/2 window per client (default 100)");
    cmd->add_option("--max-inflight", o->max_inflight, "Outbound QoS 1/2 window per session (default 32)");
    cmd->add_option("--max-queued", o->max_queued, "Queued messages per session (default 1000, drop-oldest)");
    cmd->add_option("--max-queued-bytes", o->max_queued_bytes,
                    "Queued topic+payload bytes per session (default 16MiB, drop-oldest)");
    cmd->add_option("--max-topic-length", o->max_topic_length,
                    "Bytes of a PUBLISH topic or SUBSCRIBE filter (default 4096); over: 0x90 / SUBACK 0x8F");
    cmd->add_option("--max-topic-levels", o->max_topic_levels,
                    "Levels of a topic or filter (default 128); over: 0x90 / SUBACK 0x8F");
    cmd->add_option("--max-subscriptions", o->max_subscriptions,
                    "Filters per session (default 10000); more get SUBACK 0x97 (3.1.1: 0x80)");
    cmd->add_option("--topic-alias-maximum", o->topic_alias_maximum, "Inbound topic aliases (default 10)");
    cmd->add_option("--topic-alias-out", o->topic_alias_out,
                    "on (default): send repeated topics as aliases to v5 clients that allow them; off")
        ->check(CLI::IsMember({"on", "off"}));
    cmd->add_option("--connect-timeout", o->connect_timeout, "Time to send CONNECT (default 10s)");
    cmd->add_option("--shutdown-timeout", o->shutdown_timeout, "Drain time after a signal (default 5s)");
    cmd->add_option("--sys-interval", o->sys_interval, "Publish $SYS/broker/... every DUR (default 10s, 0 disables)");
    cmd->add_option("--response-information", o->response_information,
                    "Response Information prefix for v5 clients that ask, %c = client id (default $response/%c/; '' = none)");
    cmd->add_option("--workers", o->workers,
                    "Threads, one event loop each; connections are spread round-robin (default 1)")
        ->check(CLI::Range(1u, 64u));
    cmd->add_option("--ready-file", o->ready_file, "Also write the readiness line to FILE");
    cmd->add_option("--tls-cert", o->tls_cert, "Server certificate chain (PEM) for mqtts:// and wss://");
    cmd->add_option("--tls-key", o->tls_key, "Server private key (PEM; default: in --tls-cert)");
    cmd->add_option("--tls-cafile", o->tls_cafile, "CA that verifies client certificates");
    cmd->add_flag("--require-client-cert", o->require_client_cert,
                  "Refuse TLS clients without a verified certificate (its CN is the username)");
    cmd->add_option("--tls-version", o->tls_version, "Lowest TLS version: tlsv1.2 (default) or tlsv1.3");
    cmd->add_option("--ciphers", o->ciphers, "OpenSSL cipher list for TLS 1.2");
    cmd->add_option("--tls-ephemeral-ca", o->tls_ephemeral_ca,
                    "Make a throwaway CA and localhost certificate; write the CA to FILE");
    cmd->add_flag("--allow-anonymous", o->allow_anonymous,
                  "Accept clients without credentials (default: only without --password-file, on loopback)");
    cmd->add_option("--password-file", o->password_file, "Users and PBKDF2 hashes (see mq broker passwd)");
    cmd->add_option("--acl-file", o->acl_file, "Access rules: allow|deny WHO ACCESS FILTER");
    cmd->add_option("--persistence-dir", o->persistence_dir,
                    "Keep retained messages, sessions and QoS 1/2 messages in DIR across restarts");
    cmd->add_option("--fsync", o->fsync,
                    "interval (default): fdatasync each second, acks after the write; always: before every ack")
        ->check(CLI::IsMember({"interval", "always"}));
    auto* passwd = add_broker_passwd_command(*cmd);
    cmd->callback([o, passwd] {
        if (passwd->parsed()) return;  // `mq broker passwd` ran instead
        globals().run = [o] { return run_broker(*o); };
    });
}

}  // namespace mq::tools
