// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/packets.hpp>
#include <mqtt/net/client.hpp>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace mq::tools {

/// Everything the connection options resolve to.
struct resolved_connection {
    mqtt::net::client_options client;
    /// -V given (CLI, env or URL): no fallback to 3.1.1 on a v5 refusal.
    bool version_explicit = false;
    /// Topic from an mqtt/mqtts URL path; used only when -t is absent.
    std::string url_topic;
    /// -W: hard deadline from process start.
    std::optional<std::chrono::nanoseconds> timeout;
    /// -D publish ... plus --content-type, --user-property, ... (§2.4).
    mqtt::properties publish_props;
    mqtt::properties subscribe_props;
    mqtt::properties unsubscribe_props;
    mqtt::properties disconnect_props;
    /// --payload-format 1: payloads must be valid UTF-8 (else 65).
    bool payload_must_be_utf8 = false;
};

/// The §2.2 connection options and §2.4 property options, registered once per
/// subcommand. Values are kept as text and parsed in resolve() so command-line
/// and MQ_* environment values share one parser (CLI > env > default).
class connection_options {
public:
    /// Registers the options on `app`; `publish_flags` adds the per-property
    /// publish flags (--content-type, --response-topic, --correlation-data,
    /// --message-expiry, --payload-format, --user-property, --topic-alias);
    /// `correlation_flags` false leaves out --response-topic and
    /// --correlation-data (mq rr sets both itself).
    void add_to(CLI::App& app, bool publish_flags, bool correlation_flags = true);

    /// Resolves to client options. Throws std::system_error with
    /// tool_error::usage (bad or conflicting command-line value), tool_error::config
    /// (bad MQ_* environment value) or tool_error::no_input (unreadable password file).
    resolved_connection resolve() const;
    /// True when -L, -h, -p or --unix is set (command line, config file or MQ_*
    /// environment): `mq bench` starts its embedded broker only when none is.
    bool target_given() const;

    struct text_option {
        std::string env;  // MQ_... name
        CLI::Option* opt = nullptr;
        std::string value;
    };
    struct flag_option {
        std::string env;
        CLI::Option* opt = nullptr;
        bool value = false;
    };

private:
    text_option url_, host_, port_, version_, client_id_, client_id_prefix_, keepalive_, session_expiry_,
        username_, password_, password_file_, password_env_, will_topic_, will_payload_, will_qos_,
        connect_timeout_, max_inflight_, max_packet_size_, receive_maximum_, timeout_, bind_address_, unix_, ws_path_,
        cafile_, capath_, cert_, key_, tls_version_, ciphers_, tls_alpn_, tls_server_name_, tls_keylog_,
        topic_alias_maximum_;
    flag_option no_clean_start_, will_retain_, ws_, tls_, no_tls_, insecure_, nodelay_, no_nodelay_, reconnect_,
        tls_use_os_certs_, request_response_info_, no_request_problem_info_, password_prompt_;
    // -D PACKET NAME VALUE (or PACKET user-property KEY VALUE), one entry per use.
    std::vector<std::vector<std::string>> properties_;
    CLI::Option* property_opt_ = nullptr;
    // Per-property publish flags.
    std::string content_type_, response_topic_, correlation_data_, message_expiry_, payload_format_,
        topic_alias_;
    std::vector<std::string> user_properties_;
    std::vector<CLI::Option*> publish_flag_opts_;
};

/// Parses a QoS: exactly "0", "1" or "2" (hardening H06); throws
/// std::system_error(tool_error::usage) naming `what` otherwise.
mqtt::qos parse_qos(std::string_view text, std::string_view what = "QoS");

/// Parses a `-D`/flag binary value with its `text:`, `hex:` or `base64:` prefix
/// (default text); nullopt on a bad encoding.
std::optional<std::vector<std::uint8_t>> parse_binary_value(std::string_view text);

/// Adds property NAME (kebab case) with `values` (one, or KEY VALUE for
/// user-property) to `props` for `ctx`. Returns an error message, empty on success.
std::string add_named_property(mqtt::properties& props, mqtt::property_context ctx, std::string_view name,
                               const std::vector<std::string>& values);

/// "mq" + 16 hex digits, or `prefix` + 8 hex digits.
std::string random_client_id(std::string_view prefix = {});

}  // namespace mq::tools
