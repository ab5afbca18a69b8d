// SPDX-License-Identifier: MIT
#include "common/exit_codes.hpp"

#include <cerrno>
#include <cstdint>
#include <string>

#include <mqtt/codec/reason.hpp>
#include <mqtt/net/errors.hpp>

namespace mq::tools {
namespace {

class tool_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mq.tools"; }
    std::string message(int ev) const override {
        switch (static_cast<tool_error>(ev)) {
        case tool_error::check_failed: return "check failed";
        case tool_error::usage: return "usage error";
        case tool_error::data: return "invalid input data";
        case tool_error::no_input: return "cannot open input file";
        case tool_error::io: return "I/O error";
        case tool_error::config: return "configuration error";
        case tool_error::timeout: return "timed out";
        case tool_error::interrupted: return "interrupted";
        }
        return "unknown tool error";
    }
};

int for_reason(std::uint8_t v) noexcept {
    switch (v) {
    // 3.1.1 CONNACK 4 and 5 are decoded as 0x86 and 0x87, 3 as 0x88.
    case 0x86: case 0x87: case 0x8A: case 0x8C: return exit_status::not_authorized;
    case 0x88: case 0x89: case 0x97: case 0x9C: case 0x9D: case 0x9F: return exit_status::unavailable;
    default: break;
    }
    return v >= 0x80 ? exit_status::protocol : exit_status::ok;
}

int for_net(mqtt::net::net_error e) noexcept {
    using mqtt::net::net_error;
    switch (e) {
    case net_error::ok: return exit_status::ok;
    case net_error::resolve_failed: return exit_status::no_host;
    case net_error::protocol_violation: return exit_status::protocol;
    case net_error::connect_failed:
    case net_error::connect_timeout:
    case net_error::tls_handshake:
    case net_error::tls_verify:
    case net_error::ws_upgrade:
    case net_error::connection_lost:
    case net_error::keepalive_timeout:
    case net_error::closed: return exit_status::unavailable;
    }
    return exit_status::unavailable;
}

}  // namespace

const std::error_category& tool_category() noexcept {
    static const tool_category_impl cat;
    return cat;
}

std::error_code make_error_code(tool_error e) noexcept {
    return {static_cast<int>(e), tool_category()};
}

int exit_code_for_ack(unsigned reason_value) noexcept {
    if (reason_value == 0x87) return exit_status::not_authorized;
    return reason_value >= 0x80 ? exit_status::protocol : exit_status::ok;
}

int exit_code_for(std::error_code ec) noexcept {
    if (!ec) return exit_status::ok;
    const auto& cat = ec.category();
    if (cat == mqtt::reason_category()) {
        const int r = for_reason(static_cast<std::uint8_t>(ec.value()));
        // A "failure" below 0x80 thrown at us is still a failure.
        return r == exit_status::ok ? exit_status::protocol : r;
    }
    if (cat == mqtt::codec_category()) return exit_status::protocol;
    if (cat == mqtt::net::net_category()) {
        return for_net(static_cast<mqtt::net::net_error>(ec.value()));
    }
    if (cat == tool_category()) return ec.value();
    if (cat == std::generic_category() || cat == std::system_category()) {
        switch (ec.value()) {
        case EPIPE: return exit_status::ok;  // the reader left: not an error (§1)
        case ENOENT: case EACCES: case EISDIR: return exit_status::no_input;
        case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case ETIMEDOUT:
        case ECONNRESET: return exit_status::unavailable;
        default: return exit_status::io;
        }
    }
    return exit_status::check_failed;
}

}  // namespace mq::tools
