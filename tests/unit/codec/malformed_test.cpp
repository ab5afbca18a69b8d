// SPDX-License-Identifier: MIT
// Table-driven rejection tests: every row of tests/data/bad_input/codec.txt must
// fail with exactly its codec_error and that error's documented reason code, and
// no prefix or truncated body of any row may crash or over-read (ASan in CI).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/reason.hpp>

#include "bad_input_loader.hpp"

namespace {

namespace bi = mq_test::bad_input;
using mqtt::protocol_version;

const std::vector<bi::row>& table() {
    static const std::vector<bi::row> rows = bi::load_codec_table();
    return rows;
}

mqtt::limits limits_for(const bi::row& r, bool from_client) {
    mqtt::limits lim = r.lim;
    lim.from_client = from_client;
    return lim;
}

void check_row(const bi::row& r, protocol_version v, bool from_client) {
    INFO("codec.txt line ", r.line, ": ", r.description);
    INFO("bytes: ", bi::to_hex(r.bytes));
    const mqtt::limits lim = limits_for(r, from_client);
    // An exact-size heap copy, so that reading one byte past the frame is an ASan error.
    const std::vector<std::uint8_t> in(r.bytes);
    std::error_code ec;
    const auto frame = mqtt::next_frame(in, lim, ec);
    if (frame) {
        REQUIRE_MESSAGE(frame->total == in.size(), "the row must hold exactly one frame");
        (void)mqtt::decode_frame(*frame, v, lim, ec);
    } else {
        REQUIRE_MESSAGE(ec, "next_frame wants more bytes: the row is not a complete frame");
    }
    CHECK(bi::error_name(ec) == r.error_name);
    CHECK(bi::reason_hex(mqtt::reason_of(ec)) == bi::reason_hex(bi::documented_reason(r.error)));
}

}  // namespace

TEST_CASE("bad input codec.txt loads with at least 70 well-formed rows") {
    std::vector<bi::row> rows;
    REQUIRE_NOTHROW(rows = bi::load_codec_table());
    CHECK(rows.size() >= 70);
    // The table must exercise every codec_error that decoding can produce.
    std::set<std::string> used;
    for (const auto& r : rows) used.insert(r.error_name);
    for (const char* name :
         {"remaining_length_too_long", "varint_not_minimal", "packet_too_large", "reserved_packet_type",
          "bad_fixed_header_flags", "invalid_qos", "dup_on_qos0", "zero_packet_id", "truncated",
          "trailing_bytes", "invalid_utf8", "null_character", "string_too_long", "bad_protocol_name",
          "unsupported_protocol_version", "connect_reserved_flag", "bad_will_flags",
          "password_without_username", "topic_name_empty", "topic_name_has_wildcard",
          "empty_subscription_list", "bad_subscription_options", "no_local_on_shared",
          "invalid_reason_code", "unknown_property", "property_not_allowed", "duplicate_property",
          "property_value_invalid", "too_many_user_properties", "auth_on_v311",
          "subscription_id_from_client", "auth_data_without_method", "response_topic_invalid",
          "topic_alias_zero", "topic_name_invalid", "connack_reserved_flags"}) {
        CHECK_MESSAGE(used.count(name) == 1, "no row expects ", name);
    }
}

TEST_CASE("bad input loader rejects malformed table rows") {
    CHECK_THROWS(bi::parse_table("X1 | 311 | c2s | 30 0 | truncated | MQTT-1 | bad hex\n"));
    CHECK_THROWS(bi::parse_table("X1 | 4 | c2s | 30 00 | truncated | MQTT-1 | bad version\n"));
    CHECK_THROWS(bi::parse_table("X1 | 5 | up | 30 00 | truncated | MQTT-1 | bad direction\n"));
    CHECK_THROWS(bi::parse_table("X1 | 5 | c2s | 30 00 | no_such_error | MQTT-1 | unknown error\n"));
    CHECK_THROWS(bi::parse_table("X1 | 5 | c2s | 30 00 | truncated | MQTT-1\n"));
    CHECK_THROWS(bi::parse_table("X1 | 5 | c2s | 30 00 | truncated | MQTT-1 | d | max_cats=1\n"));
    CHECK_THROWS(bi::parse_table("X1 | 5 | c2s | 30 00 | truncated | MQTT-[1] | bad spec id\n"));
    CHECK_THROWS(bi::parse_table("X1 | 5 | c2s | 30 00 | truncated | MQTT-1 | a\n"
                                 "X1 | 5 | c2s | 30 00 | truncated | MQTT-1 | duplicate id\n"));
    const auto rows = bi::parse_table(
        "# comment\n\nX2 | any | any | 30 03 00 01 61 | truncated | MQTT-1.5.4 | d | max_string_length=4,"
        "max_packet_size=9\n");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].versions.size() == 2);
    CHECK(rows[0].from_client.size() == 2);
    CHECK(rows[0].bytes == std::vector<std::uint8_t>{0x30, 0x03, 0x00, 0x01, 0x61});
    CHECK(rows[0].lim.max_string_length == 4);
    CHECK(rows[0].lim.max_packet_size == 9);
    CHECK(rows[0].lim.max_user_properties == mqtt::limits{}.max_user_properties);
    CHECK(rows[0].line == 3);
}

TEST_CASE("reason_of maps every codec_error to the reason documented in reason.hpp") {
    for (int v = 1; v <= static_cast<int>(mqtt::codec_error::connack_reserved_flags); ++v) {
        const auto e = static_cast<mqtt::codec_error>(v);
        const std::error_code ec = mqtt::make_error_code(e);
        INFO(bi::error_name(ec));
        CHECK(bi::error_name(ec).find(':') == std::string::npos);  // the loader knows its name
        CHECK(bi::reason_hex(mqtt::reason_of(ec)) == bi::reason_hex(bi::documented_reason(e)));
    }
}

TEST_CASE("bad input codec.txt every row fails with its codec_error and reason") {
    REQUIRE_NOTHROW(table());
    for (const auto& r : table()) {
        for (const auto v : r.versions) {
            for (const bool from_client : r.from_client) {
                SUBCASE(bi::label(r, v, from_client).c_str()) { check_row(r, v, from_client); }
            }
        }
    }
}

// A prefix of a frame can never be a frame: next_frame must ask for more, or
// report the same framing error the whole input gets (a header-level check).
// Decoding a body cut short must never crash, throw or read past the cut, and
// any error must be a codec_error. Failures are collected per row so that one
// CHECK reports them all.
TEST_CASE("bad input codec.txt no prefix or truncated body crashes next_frame or decode_frame") {
    REQUIRE_NOTHROW(table());
    std::size_t decodes = 0;
    for (const auto& r : table()) {
        std::string problems;
        for (const bool from_client : r.from_client) {
            const mqtt::limits lim = limits_for(r, from_client);
            std::error_code full_ec;
            const auto full = mqtt::next_frame(r.bytes, lim, full_ec);
            for (std::size_t k = 0; k < r.bytes.size(); ++k) {
                const std::vector<std::uint8_t> prefix(r.bytes.begin(),
                                                       r.bytes.begin() + static_cast<std::ptrdiff_t>(k));
                std::error_code ec;
                const auto f = mqtt::next_frame(prefix, lim, ec);
                if (f) problems += " prefix " + std::to_string(k) + " returned a frame;";
                if (ec && ec != full_ec)
                    problems += " prefix " + std::to_string(k) + " gave " + bi::error_name(ec) + ";";
            }
            if (!full) continue;
            const std::size_t header = full->total - full->body.size();
            for (std::size_t j = 0; j <= full->body.size(); ++j) {
                const std::vector<std::uint8_t> body(full->body.begin(),
                                                     full->body.begin() + static_cast<std::ptrdiff_t>(j));
                const mqtt::frame_view cut{full->first_byte, body, header + j};
                for (const auto v : {protocol_version::v311, protocol_version::v5}) {
                    std::error_code ec;
                    try {
                        (void)mqtt::decode_frame(cut, v, lim, ec);
                    } catch (const std::exception& e) {
                        problems += " body cut at " + std::to_string(j) + " threw " + e.what() + ";";
                    }
                    if (ec && ec.category() != mqtt::codec_category())
                        problems += " body cut at " + std::to_string(j) + " gave " + bi::error_name(ec) + ";";
                    ++decodes;
                }
            }
        }
        CHECK_MESSAGE(problems.empty(), r.id, ":", problems);
    }
    CHECK(decodes > 1000);  // the loop really decoded the cut bodies
}
