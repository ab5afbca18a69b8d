// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mq::tools {

enum class url_scheme : std::uint8_t { mqtt, mqtts, ws, wss };

/// A broker URL of cli-contract.md §2.3:
/// `scheme://[user[:password]@]host[:port][/path][?key=value&...]`.
struct broker_url {
    url_scheme scheme = url_scheme::mqtt;
    std::optional<std::string> username;  // percent-decoded
    std::optional<std::string> password;  // percent-decoded
    std::string host;                     // IPv6 without brackets
    std::optional<std::uint16_t> port;    // absent: the scheme's default
    /// ws/wss: the HTTP path (default "/mqtt"). mqtt/mqtts: a percent-decoded
    /// topic without the leading '/', empty when absent.
    std::string path;
    std::optional<std::string> client_id;
    std::optional<std::string> version;  // "5" or "311"
    std::optional<std::uint16_t> keepalive;

    /// 1883, 8883, 80 or 443.
    std::uint16_t default_port() const noexcept;
    std::uint16_t effective_port() const noexcept { return port ? *port : default_port(); }
    bool tls() const noexcept { return scheme == url_scheme::mqtts || scheme == url_scheme::wss; }
};

/// Parses a broker URL. On failure returns nullopt and sets `error` to a
/// one-line reason (the caller exits 64). Rejects unknown schemes, raw '@' in
/// credentials (`mqtt://u:p@ss@h`), unbracketed IPv6, ports outside 1..65535,
/// bad percent escapes, raw '#'/'+' in an mqtt topic path and unknown query keys.
std::optional<broker_url> parse_url(std::string_view text, std::string& error);

/// RFC 3986 percent-decoding; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace mq::tools
