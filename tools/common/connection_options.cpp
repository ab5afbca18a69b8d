// SPDX-License-Identifier: MIT
#include "common/connection_options.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <system_error>

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/topic.hpp>
#include <mqtt/codec/utf8.hpp>

#include "common/duration.hpp"
#include "common/encoding.hpp"
#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/tty_prompt.hpp"
#include "common/url.hpp"

namespace mq::tools {
namespace {

using mqtt::property_id;
using text_option = connection_options::text_option;
using flag_option = connection_options::flag_option;

enum class source : std::uint8_t { none, cli, env, file };

struct value {
    std::string text;
    source from = source::none;
    std::string name;  // for messages: "--port", "MQ_PORT" or "path:line: --port"
    explicit operator bool() const noexcept { return from != source::none; }
};

[[noreturn]] void fail(source from, const std::string& msg) {
    throw std::system_error(from == source::cli ? tool_error::usage : tool_error::config, msg);
}

std::string env_name(std::string_view long_name) {
    std::string out = "MQ_";
    for (char c : long_name) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

value get(const text_option& o) {
    if (o.opt != nullptr && o.opt->count() > 0) {
        const std::string name = o.opt->get_name();
        if (auto where = config_origin(name)) return {o.value, source::file, fmt::format("{}: {}", *where, name)};
        return {o.value, source::cli, name};
    }
    if (!o.env.empty()) {
        if (const char* e = std::getenv(o.env.c_str()); e != nullptr && *e != '\0') return {e, source::env, o.env};
    }
    return {};
}

bool get_flag(const flag_option& o, bool& given) {
    given = false;
    if (o.opt != nullptr && o.opt->count() > 0) {
        given = true;
        return o.value;
    }
    if (!o.env.empty()) {
        if (const char* e = std::getenv(o.env.c_str()); e != nullptr && *e != '\0') {
            const std::string_view v(e);
            given = true;
            if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
            if (v == "0" || v == "false" || v == "no" || v == "off") return false;
            fail(source::env, fmt::format("{}: expected true or false, not '{}'", o.env, v));
        }
    }
    return false;
}

bool get_flag(const flag_option& o) {
    bool given = false;
    return get_flag(o, given);
}

std::uint64_t parse_uint(const value& v, std::uint64_t max) {
    if (v.text.empty() || v.text.size() > 20 || v.text.find_first_not_of("0123456789") != std::string::npos) {
        fail(v.from, fmt::format("{}: expected an integer, not '{}'", v.name, v.text));
    }
    std::uint64_t n = 0;
    for (char c : v.text) {
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        if (n > max) fail(v.from, fmt::format("{}: {} is out of range (max {})", v.name, v.text, max));
    }
    return n;
}

std::string read_password_file(const value& v) {
    std::ifstream in(v.text, std::ios::binary);
    if (!in) throw std::system_error(tool_error::no_input, "cannot open password file '" + v.text + "'");
    struct stat st {};
    if (::stat(v.text.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        print_warning("password file '" + v.text + "' is readable by group or others");
    }
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
}

std::optional<mqtt::property_context> context_from_name(std::string_view s) {
    using mqtt::property_context;
    if (s == "connect") return property_context::connect;
    if (s == "will") return property_context::will;
    if (s == "publish") return property_context::publish;
    if (s == "subscribe") return property_context::subscribe;
    if (s == "unsubscribe") return property_context::unsubscribe;
    if (s == "disconnect") return property_context::disconnect;
    return std::nullopt;
}

void add_text(CLI::App& app, text_option& o, const std::string& names, const std::string& help,
              bool with_env = true) {
    o.opt = app.add_option(names, o.value, help);
    if (with_env) o.env = env_name(o.opt->get_lnames().front());
}

void add_flag(CLI::App& app, flag_option& o, const std::string& names, const std::string& help,
              bool with_env = true) {
    o.opt = app.add_flag(names, o.value, help);
    if (with_env) o.env = env_name(o.opt->get_lnames().front());
}

// --unix PATH (§2.2): a Unix domain socket instead of TCP. It conflicts with
// the options that name a TCP endpoint or transport (`endpoint`, `transport`)
// given on the command line or in the config file; an MQ_UNIX from the
// environment yields to them instead (command line over environment).
value unix_socket_option(const text_option& unix_opt, const value& url,
                         std::initializer_list<const text_option*> endpoint,
                         std::initializer_list<const flag_option*> transport) {
    value unix_path = get(unix_opt);
    if (!unix_path) return {};
    if (unix_path.from == source::env) {
        if (url && url.from != source::env) return {};
        for (const text_option* o : endpoint) {
            if (o->opt->count() > 0) return {};
        }
    }
    for (const text_option* o : endpoint) {
        if (o->opt->count() > 0)
            fail(unix_path.from, fmt::format("{} cannot be combined with {}", unix_path.name, o->opt->get_name()));
    }
    for (const flag_option* o : transport) {
        if (o->opt->count() > 0)
            fail(unix_path.from, fmt::format("{} cannot be combined with {}", unix_path.name, o->opt->get_name()));
    }
    if (unix_path.text.empty()) fail(unix_path.from, fmt::format("{}: empty path", unix_path.name));
    return unix_path;
}

}  // namespace

// The options go into three option groups: `--help` shows them as sections,
// and CLI11 checks a new option's names against every option of its group
// (pairwise, copying name lists), so groups keep a command's start-up cost
// down: one flat list of ~70 options cost about a millisecond at every start.
void connection_options::add_to(CLI::App& cmd, bool publish_flags, bool correlation_flags) {
    auto group = [&cmd](const char* name) -> CLI::App& {
        CLI::App& g = *cmd.add_option_group(name, "");
        g.set_help_flag();  // groups inherit --help; the command's own is enough
        return g;
    };
    CLI::App& app = group("Connection");
    CLI::App& tls = group("TLS");
    CLI::App& v5 = group("MQTT 5 properties");
    add_text(app, url_, "-L,--url", "Broker URL: mqtt[s]://[user[:pass]@]host[:port][/topic][?client_id=..]");
    add_text(app, host_, "-h,--host", "Broker host (default localhost)");
    add_text(app, port_, "-p,--port", "Broker port (1883, 8883 TLS, 80 ws, 443 wss)");
    add_text(app, version_, "-V,--protocol-version", "MQTT version: 5 or 311 (default 5)");
    add_text(app, client_id_, "-i,--client-id", "Client identifier (default mq + 16 hex digits)");
    add_text(app, client_id_prefix_, "-I,--client-id-prefix", "Client identifier prefix (+ 8 hex digits)");
    add_text(app, keepalive_, "-k,--keepalive", "Keepalive in seconds (default 60, 0 disables)");
    add_flag(app, no_clean_start_, "-c,--no-clean-start", "Resume the session (requires -i)");
    add_text(app, session_expiry_, "-x,--session-expiry", "Session expiry in seconds or 'never' (v5)");
    add_text(app, username_, "-u,--username", "User name");
    add_text(app, password_, "-P,--password", "Password (visible in ps; prefer --password-file)");
    add_text(app, password_file_, "--password-file", "Read the password from the first line of FILE");
    add_text(app, password_env_, "--password-env", "Read the password from environment variable VAR");
    add_flag(app, password_prompt_, "--password-prompt", "Read the password from the terminal, echo off");
    add_text(app, will_topic_, "--will-topic", "Will topic");
    add_text(app, will_payload_, "--will-payload", "Will payload");
    add_text(app, will_qos_, "--will-qos", "Will QoS");
    add_flag(app, will_retain_, "--will-retain", "Retain the Will");
    add_text(app, bind_address_, "-A,--bind-address", "Local address to bind");
    add_text(app, unix_, "--unix", "Connect to the Unix domain socket PATH instead of TCP");
    add_flag(app, ws_, "--ws", "Connect over WebSocket");
    add_text(app, ws_path_, "--ws-path", "WebSocket path (default /mqtt)");
    add_flag(app, nodelay_, "--nodelay", "Set TCP_NODELAY (default)");
    add_flag(app, no_nodelay_, "--no-nodelay", "Do not set TCP_NODELAY");
    add_flag(app, reconnect_, "--reconnect",
             "Reconnect when the connection is lost (backoff 1s to 30s with jitter); resubscribes and resends "
             "unacknowledged QoS 1/2 messages");
    add_text(app, connect_timeout_, "--connect-timeout", "TCP + TLS + WebSocket + CONNACK deadline (10s)");
    add_text(app, max_inflight_, "-M,--max-inflight", "Outgoing QoS 1/2 window (default 20)");
    add_text(app, max_packet_size_, "--max-packet-size", "Largest inbound packet (default 256MiB)");
    add_text(app, receive_maximum_, "--receive-maximum", "Inbound QoS 1/2 window (default 65535)");
    add_text(app, topic_alias_maximum_, "--topic-alias-maximum", "Topic aliases accepted from the broker (v5)");
    add_flag(app, request_response_info_, "--request-response-info", "Ask for Response Information (v5)");
    add_flag(app, no_request_problem_info_, "--no-request-problem-info", "Ask the broker for no reason strings (v5)");
    add_text(app, timeout_, "-W,--timeout", "Hard deadline from start (exit 124)");
    add_flag(tls, tls_, "--tls", "Use TLS");
    add_flag(tls, no_tls_, "--no-tls", "Do not use TLS");
    add_text(tls, cafile_, "--cafile", "CA certificates file (enables TLS)");
    add_text(tls, capath_, "--capath", "CA certificates directory (enables TLS)");
    add_text(tls, cert_, "--cert", "Client certificate (enables TLS)");
    add_text(tls, key_, "--key", "Client private key");
    add_flag(tls, insecure_, "--insecure", "Skip certificate chain and host name checks");
    add_flag(tls, tls_use_os_certs_, "--tls-use-os-certs", "Use the OS trust store (enables TLS)");
    add_text(tls, tls_version_, "--tls-version", "Minimum TLS version (default tlsv1.2)");
    add_text(tls, ciphers_, "--ciphers", "OpenSSL cipher list");
    add_text(tls, tls_alpn_, "--tls-alpn", "ALPN protocol");
    add_text(tls, tls_server_name_, "--tls-server-name", "SNI and verified name (default: host)");
    add_text(tls, tls_keylog_, "--tls-keylog", "Write NSS key-log lines to FILE");
    property_opt_ = v5.add_option_function<std::vector<std::string>>(
                           "-D,--property",
                           [this](const std::vector<std::string>& v) { properties_.push_back(v); },
                           "MQTT 5 property: PACKET NAME VALUE (user-property: PACKET user-property KEY VALUE)")
                        ->expected(3, 4)
                        ->trigger_on_parse();
    if (publish_flags) {
        publish_flag_opts_ = {v5.add_option("--content-type", content_type_, "Content Type of the message")};
        if (correlation_flags) {
            publish_flag_opts_.push_back(
                v5.add_option("--response-topic", response_topic_, "Response Topic of the message"));
            publish_flag_opts_.push_back(
                v5.add_option("--correlation-data", correlation_data_, "Correlation Data (text:, hex:, base64:)"));
        }
        publish_flag_opts_.insert(publish_flag_opts_.end(), {
            v5.add_option("--message-expiry", message_expiry_, "Message Expiry Interval in seconds"),
            v5.add_option("--payload-format", payload_format_, "Payload Format Indicator 0|1 (1 checks UTF-8)"),
            v5.add_option("--user-property", user_properties_, "User Property KEY=VALUE (repeatable)")
                ->allow_extra_args(false),
            v5.add_option("--topic-alias", topic_alias_, "Topic Alias"),
        });
    }
}

bool connection_options::target_given() const {
    return get(url_) || get(host_) || get(port_) || get(unix_);
}

resolved_connection connection_options::resolve() const {
    resolved_connection r;
    auto& c = r.client;

    // --- URL, host, port, transport ---
    const value url = get(url_);
    broker_url parsed;
    if (url) {
        for (const text_option* o : {&host_, &port_}) {
            if (o->opt->count() > 0 && url.from == source::cli) {
                fail(source::cli, fmt::format("--url cannot be combined with {}", o->opt->get_name()));
            }
        }
        for (const flag_option* o : {&ws_, &tls_, &no_tls_}) {
            if (o->opt->count() > 0 && url.from == source::cli) {
                fail(source::cli, fmt::format("--url cannot be combined with {}", o->opt->get_name()));
            }
        }
    }
    const value unix_path = unix_socket_option(unix_, url, {&url_, &host_, &port_, &bind_address_}, {&ws_, &tls_});
    // A URL from the environment yields to -h/-p/--unix given on the command line.
    const bool use_url = url && !unix_path &&
                         !(url.from == source::env && (host_.opt->count() > 0 || port_.opt->count() > 0));
    bool tls = false, ws = false;
    if (use_url) {
        std::string err;
        auto u = parse_url(url.text, err);
        if (!u) fail(url.from, fmt::format("{}: invalid URL '{}': {}", url.name, url.text, err));
        parsed = std::move(*u);
        c.host = parsed.host;
        c.port = parsed.effective_port();
        tls = parsed.tls();
        ws = parsed.scheme == url_scheme::ws || parsed.scheme == url_scheme::wss;
        if (ws) c.ws_path = parsed.path;
        else r.url_topic = parsed.path;
    } else {
        if (auto h = get(host_)) {
            if (h.text.empty()) fail(h.from, "--host: empty host");
            c.host = h.text;
        }
        ws = get_flag(ws_);
    }
    const bool tls_material = get(cafile_) || get(capath_) || get(cert_) || get_flag(tls_use_os_certs_);
    if (!use_url) tls = get_flag(tls_) || tls_material;
    if (get_flag(no_tls_)) tls = false;
    else if (tls_material) tls = true;
    c.transport = ws ? (tls ? mqtt::net::transport_kind::wss : mqtt::net::transport_kind::ws)
                     : (tls ? mqtt::net::transport_kind::tls : mqtt::net::transport_kind::tcp);
    if (!use_url) {
        c.port = ws ? (tls ? 443 : 80) : (tls ? 8883 : 1883);
        if (auto p = get(port_)) {
            const auto n = parse_uint(p, 65535);
            if (n == 0) fail(p.from, fmt::format("{}: port must be 1-65535", p.name));
            c.port = static_cast<std::uint16_t>(n);
        }
    }
    if (auto v = get(ws_path_)) c.ws_path = v.text;
    if (auto v = get(bind_address_)) c.bind_address = v.text;
    if (unix_path) {
        if (c.transport != mqtt::net::transport_kind::tcp)
            fail(unix_path.from, fmt::format("{} carries plain MQTT: no TLS or WebSocket options", unix_path.name));
        c.unix_path = unix_path.text;
    }
    if (get_flag(no_nodelay_)) c.tcp_nodelay = false;
    c.reconnect.enabled = get_flag(reconnect_);

    // --- TLS ---
    if (auto v = get(cafile_)) c.tls.ca_file = v.text;
    if (auto v = get(capath_)) c.tls.ca_path = v.text;
    if (auto v = get(cert_)) c.tls.cert_file = v.text;
    if (auto v = get(key_)) c.tls.key_file = v.text;
    if (auto v = get(tls_version_)) {  // net's names; a typo is 64 (78 from a file), not a failed run
        static constexpr std::string_view known[] = {"tlsv1.3", "tls1.3", "1.3", "tlsv1.2", "tls1.2", "1.2", "tlsv1.1",
                                                     "tls1.1",  "1.1",    "tlsv1", "tls1",   "tlsv1.0", "1.0"};
        if (std::find(std::begin(known), std::end(known), v.text) == std::end(known))
            fail(v.from, fmt::format("{}: unknown TLS version '{}' (tlsv1.2 or tlsv1.3)", v.name, v.text));
        c.tls.min_version = v.text;
    }
    if (auto v = get(ciphers_)) {
        c.tls.ciphers = v.text;
        if (v.text.find("@SECLEVEL=1") != std::string::npos || v.text.find("@SECLEVEL=0") != std::string::npos) {
            print_warning("--ciphers lowers the OpenSSL security level");
        }
    }
    if (auto v = get(tls_alpn_)) c.tls.alpn.push_back(v.text);
    if (auto v = get(tls_server_name_)) c.tls.server_name = v.text;
    if (auto v = get(tls_keylog_)) {
        c.tls.keylog_file = v.text;
        print_warning("--tls-keylog writes TLS secrets to " + v.text);
    }
    c.tls.insecure = get_flag(insecure_);

    // --- CONNECT ---
    auto& cn = c.connect;
    cn.version = mqtt::protocol_version::v5;
    if (auto v = get(version_)) {
        r.version_explicit = true;
        if (v.text == "5") cn.version = mqtt::protocol_version::v5;
        else if (v.text == "311") cn.version = mqtt::protocol_version::v311;
        else fail(v.from, fmt::format("{}: expected 5 or 311, not '{}'", v.name, v.text));
    } else if (parsed.version) {
        r.version_explicit = true;
        cn.version = *parsed.version == "311" ? mqtt::protocol_version::v311 : mqtt::protocol_version::v5;
    }
    const bool v5 = cn.version == mqtt::protocol_version::v5;

    const value id = get(client_id_);
    if (id) cn.client_id = id.text;
    else if (parsed.client_id) cn.client_id = *parsed.client_id;
    else if (auto p = get(client_id_prefix_)) cn.client_id = random_client_id(p.text);
    else cn.client_id = random_client_id();
    if (cn.client_id.size() > 65535 || mqtt::check_utf8(cn.client_id) != mqtt::utf8_status::ok) {
        fail(source::cli, "--client-id must be valid UTF-8 of at most 65535 bytes");
    }

    if (auto v = get(keepalive_)) cn.keep_alive = static_cast<std::uint16_t>(parse_uint(v, 65535));
    else if (parsed.keepalive) cn.keep_alive = *parsed.keepalive;

    if (get_flag(no_clean_start_)) {
        if (!id && !parsed.client_id) fail(source::cli, "--no-clean-start requires --client-id");
        cn.clean_start = false;
    }
    if (auto v = get(session_expiry_)) {
        if (!v5) fail(v.from, "--session-expiry needs MQTT 5");
        const std::uint32_t secs = v.text == "never" ? 0xFFFFFFFFu : static_cast<std::uint32_t>(parse_uint(v, 0xFFFFFFFFu));
        if (secs != 0) cn.props.set_int(property_id::session_expiry_interval, secs);
    }

    // Credentials: URL, -u, password sources.
    const value user = get(username_);
    if (parsed.username) {
        if (user) fail(user.from, "credentials in the URL cannot be combined with --username");
        cn.username = *parsed.username;
        if (parsed.password) cn.password = std::vector<std::uint8_t>(parsed.password->begin(), parsed.password->end());
    } else if (user) {
        cn.username = user.text;
    }
    std::optional<std::string> password;
    bool password_on_cli = false;  // an environment password yields to --password-prompt
    for (const text_option* o : {&password_, &password_file_, &password_env_})
        password_on_cli = password_on_cli || (o->opt->count() > 0);
    if (auto v = get(password_)) password = v.text;
    if (auto v = get(password_file_)) password = read_password_file(v);
    if (auto v = get(password_env_)) {
        const char* p = std::getenv(v.text.c_str());
        if (p == nullptr) fail(v.from, fmt::format("{}: environment variable {} is not set", v.name, v.text));
        password = std::string(p);
    }
    if (password) {
        if (parsed.password) fail(source::cli, "a password in the URL cannot be combined with another password option");
        cn.password = std::vector<std::uint8_t>(password->begin(), password->end());
    }
    // The prompt comes last (below), once everything else is known to be valid.
    const bool prompt = get_flag(password_prompt_);
    if (prompt && (password_on_cli || parsed.password)) {
        fail(source::cli, "--password-prompt cannot be combined with another password (-P, --password-file, "
                          "--password-env or the URL)");
    }
    if ((cn.password || prompt) && !cn.username && !v5) fail(source::cli, "MQTT 3.1.1 needs --username with a password");

    // Will.
    if (auto t = get(will_topic_)) {
        if (auto ec = mqtt::check_topic_name(t.text)) fail(t.from, fmt::format("--will-topic: {}", ec.message()));
        mqtt::will w;
        w.topic = t.text;
        if (auto p = get(will_payload_)) w.payload.assign(p.text.begin(), p.text.end());
        if (auto q = get(will_qos_)) {
            try {
                w.level = parse_qos(q.text, "--will-qos");
            } catch (const std::system_error& e) {
                fail(q.from, e.what());
            }
        }
        w.retain = get_flag(will_retain_);
        cn.will_msg = std::move(w);
    } else if (get(will_payload_) || get(will_qos_) || get_flag(will_retain_)) {
        fail(source::cli, "--will-payload, --will-qos and --will-retain need --will-topic");
    }

    // Limits.
    if (auto v = get(connect_timeout_)) {
        auto d = parse_duration(v.text);
        if (!d || d->count() == 0) fail(v.from, fmt::format("{}: invalid duration '{}'", v.name, v.text));
        c.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
    if (auto v = get(max_inflight_)) {
        auto n = parse_count(v.text);
        if (!n || *n == 0 || *n > 65535) fail(v.from, fmt::format("{}: expected 1-65535, not '{}'", v.name, v.text));
        c.max_inflight = static_cast<std::uint16_t>(*n);
    }
    if (auto v = get(max_packet_size_)) {
        auto n = parse_size(v.text);
        if (!n || *n < 16 || *n > 268'435'460ULL) fail(v.from, fmt::format("{}: invalid size '{}'", v.name, v.text));
        c.max_packet_size = static_cast<std::uint32_t>(*n);
        if (v5 && *n < 256ULL * 1024 * 1024) cn.props.set_int(property_id::maximum_packet_size, c.max_packet_size);
    }
    if (auto v = get(receive_maximum_)) {
        auto n = parse_count(v.text);
        if (!n || *n == 0 || *n > 65535) fail(v.from, fmt::format("{}: expected 1-65535, not '{}'", v.name, v.text));
        if (v5 && *n != 65535) cn.props.set_int(property_id::receive_maximum, static_cast<std::uint32_t>(*n));
    }
    if (auto v = get(topic_alias_maximum_)) {
        const auto n = parse_uint(v, 65535);
        if (v5 && n != 0) cn.props.set_int(property_id::topic_alias_maximum, static_cast<std::uint32_t>(n));
    }
    if (get_flag(request_response_info_) && v5) cn.props.set_int(property_id::request_response_information, 1);
    if (get_flag(no_request_problem_info_) && v5) cn.props.set_int(property_id::request_problem_information, 0);
    if (auto v = get(timeout_)) {
        auto d = parse_duration(v.text);
        if (!d) fail(v.from, fmt::format("{}: invalid duration '{}'", v.name, v.text));
        r.timeout = *d;
    }

    // --- Properties (§2.4) ---
    if (!properties_.empty() && !v5) fail(source::cli, "-D/--property needs MQTT 5 (not -V 311)");
    for (const auto& d : properties_) {
        const auto ctx = context_from_name(d[0]);
        if (!ctx) {
            fail(source::cli, fmt::format("-D: unknown packet '{}' (connect, will, publish, subscribe, "
                                          "unsubscribe, disconnect)", d[0]));
        }
        mqtt::properties* target = nullptr;
        switch (*ctx) {
        case mqtt::property_context::connect: target = &cn.props; break;
        case mqtt::property_context::will:
            if (!cn.will_msg) fail(source::cli, "-D will ... needs --will-topic");
            target = &cn.will_msg->props;
            break;
        case mqtt::property_context::publish: target = &r.publish_props; break;
        case mqtt::property_context::subscribe: target = &r.subscribe_props; break;
        case mqtt::property_context::unsubscribe: target = &r.unsubscribe_props; break;
        default: target = &r.disconnect_props; break;
        }
        const std::vector<std::string> values(d.begin() + 2, d.end());
        if (auto err = add_named_property(*target, *ctx, d[1], values); !err.empty()) fail(source::cli, "-D: " + err);
    }
    bool any_publish_flag = false;
    for (auto* o : publish_flag_opts_) any_publish_flag = any_publish_flag || o->count() > 0;
    if (any_publish_flag) {
        if (!v5) fail(source::cli, "message property options need MQTT 5 (not -V 311)");
        auto add = [&](const char* flag, std::string_view name, const std::vector<std::string>& v) {
            if (auto err = add_named_property(r.publish_props, mqtt::property_context::publish, name, v); !err.empty()) {
                fail(source::cli, fmt::format("{}: {}", flag, err));
            }
        };
        for (auto* o : publish_flag_opts_) {
            if (o->count() == 0) continue;
            const std::string n = "--" + o->get_lnames().front();
            if (n == "--content-type") add("--content-type", "content-type", {content_type_});
            else if (n == "--response-topic") {
                if (mqtt::check_topic_name(response_topic_)) fail(source::cli, "--response-topic: invalid topic");
                add("--response-topic", "response-topic", {response_topic_});
            } else if (n == "--correlation-data") add("--correlation-data", "correlation-data", {correlation_data_});
            else if (n == "--message-expiry") add("--message-expiry", "message-expiry-interval", {message_expiry_});
            else if (n == "--topic-alias") {
                // Alias 0 is not permitted [MQTT-3.3.2-8].
                if (topic_alias_ == "0") fail(source::cli, "--topic-alias must be 1-65535");
                add("--topic-alias", "topic-alias", {topic_alias_});
            }
            else if (n == "--payload-format") {
                if (payload_format_ != "0" && payload_format_ != "1") fail(source::cli, "--payload-format must be 0 or 1");
                add("--payload-format", "payload-format-indicator", {payload_format_});
                r.payload_must_be_utf8 = payload_format_ == "1";
            } else if (n == "--user-property") {
                for (const auto& kv : user_properties_) {
                    const auto eq = kv.find('=');
                    if (eq == std::string::npos) fail(source::cli, "--user-property takes KEY=VALUE");
                    add("--user-property", "user-property", {kv.substr(0, eq), kv.substr(eq + 1)});
                }
            }
        }
    }
    if (!v5 && (!r.subscribe_props.empty() || !cn.props.empty())) {
        fail(source::cli, "MQTT 5 options cannot be used with -V 311");
    }
    if (prompt) {
        const std::string secret = read_secret_from_tty(
            cn.username ? fmt::format("Password for {}: ", *cn.username) : std::string("Password: "),
            "--password-prompt");
        cn.password = std::vector<std::uint8_t>(secret.begin(), secret.end());
    }
    return r;
}

}  // namespace mq::tools
