// SPDX-License-Identifier: MIT
#include <mqtt/net/errors.hpp>

#include <string>

namespace mqtt::net {

namespace {

class net_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mqtt.net"; }
    std::string message(int v) const override {
        switch (static_cast<net_error>(v)) {
            case net_error::ok: return "success";
            case net_error::resolve_failed: return "host name did not resolve";
            case net_error::connect_failed: return "connection failed";
            case net_error::connect_timeout: return "connect timed out";
            case net_error::tls_handshake: return "TLS handshake failed";
            case net_error::tls_verify: return "TLS certificate verification failed";
            case net_error::ws_upgrade: return "WebSocket upgrade failed";
            case net_error::connection_lost: return "connection lost";
            case net_error::keepalive_timeout: return "keepalive timeout";
            case net_error::protocol_violation: return "protocol violation by the peer";
            case net_error::closed: return "connection closed";
        }
        return "unknown mqtt.net error";
    }
};

}  // namespace

const std::error_category& net_category() noexcept {
    static const net_category_impl cat;
    return cat;
}

std::error_code make_error_code(net_error e) noexcept {
    return {static_cast<int>(e), net_category()};
}

}  // namespace mqtt::net
