// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <system_error>
#include <type_traits>

namespace mqtt::net {

/// Transport-level failures (category "mqtt.net"). Protocol failures reported
/// by the peer use mqtt::reason; malformed peer data uses mqtt::codec_error.
enum class net_error : std::uint8_t {
    ok = 0,
    resolve_failed,      // host name did not resolve           -> exit 68
    connect_failed,      // refused / unreachable               -> exit 69
    connect_timeout,     // no CONNACK within the timeout       -> exit 69
    tls_handshake,       // TLS handshake failed                -> exit 69
    tls_verify,          // certificate verification failed     -> exit 69
    ws_upgrade,          // WebSocket upgrade refused           -> exit 69
    connection_lost,     // EOF/reset without DISCONNECT        -> exit 69
    keepalive_timeout,   // no packet from the peer for 1.5x    -> exit 69
    protocol_violation,  // the peer broke the protocol         -> exit 76
    closed,              // used after disconnect()
};

const std::error_category& net_category() noexcept;
std::error_code make_error_code(net_error e) noexcept;

}  // namespace mqtt::net

template <> struct std::is_error_code_enum<mqtt::net::net_error> : std::true_type {};
