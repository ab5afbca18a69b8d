// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cerrno>
#include <future>

#include <mqtt/codec/reason.hpp>
#include <mqtt/net/errors.hpp>

#include "common/exit_codes.hpp"

using namespace mq::tools;
using mqtt::reason;
using mqtt::net::net_error;

TEST_CASE("exit codes for CONNACK and ack reasons follow section 10") {
    struct row {
        reason r;
        int code;
    };
    const row rows[] = {
        {reason::bad_user_name_or_password, 77}, {reason::not_authorized, 77}, {reason::banned, 77},
        {reason::bad_authentication_method, 77}, {reason::server_unavailable, 69}, {reason::server_busy, 69},
        {reason::quota_exceeded, 69}, {reason::use_another_server, 69}, {reason::server_moved, 69},
        {reason::connection_rate_exceeded, 69}, {reason::unspecified_error, 76}, {reason::malformed_packet, 76},
        {reason::protocol_error, 76}, {reason::unsupported_protocol_version, 76},
        {reason::client_identifier_not_valid, 76}, {reason::packet_too_large, 76},
        {reason::topic_name_invalid, 76},
    };
    for (const auto& r : rows) {
        CAPTURE(static_cast<int>(r.r));
        CHECK(exit_code_for(mqtt::make_error_code(r.r)) == r.code);
    }
}

TEST_CASE("exit codes for net codec tool and system errors") {
    CHECK(exit_code_for({}) == 0);
    CHECK(exit_code_for(net_error::resolve_failed) == 68);
    CHECK(exit_code_for(net_error::connect_failed) == 69);
    CHECK(exit_code_for(net_error::connect_timeout) == 69);
    CHECK(exit_code_for(net_error::tls_verify) == 69);
    CHECK(exit_code_for(net_error::connection_lost) == 69);
    CHECK(exit_code_for(net_error::keepalive_timeout) == 69);
    CHECK(exit_code_for(net_error::protocol_violation) == 76);
    CHECK(exit_code_for(mqtt::codec_error::invalid_qos) == 76);
    CHECK(exit_code_for(tool_error::usage) == 64);
    CHECK(exit_code_for(tool_error::data) == 65);
    CHECK(exit_code_for(tool_error::no_input) == 66);
    CHECK(exit_code_for(tool_error::config) == 78);
    CHECK(exit_code_for(tool_error::timeout) == 124);
    CHECK(exit_code_for(std::error_code(EPIPE, std::generic_category())) == 0);
    CHECK(exit_code_for(std::error_code(ENOENT, std::generic_category())) == 66);
    CHECK(exit_code_for(std::error_code(EIO, std::generic_category())) == 74);
    CHECK(exit_code_for(std::make_error_code(std::future_errc::broken_promise)) == 1);
}

TEST_CASE("exit codes for publish and subscribe acknowledgements") {
    CHECK(exit_code_for_ack(0x00) == 0);
    CHECK(exit_code_for_ack(0x10) == 0);
    CHECK(exit_code_for_ack(0x87) == 77);
    CHECK(exit_code_for_ack(0x80) == 76);
    CHECK(exit_code_for_ack(0x97) == 76);
}
