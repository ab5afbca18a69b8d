// SPDX-License-Identifier: MIT
// next_frame: need-more at every prefix, exact sizes, and limits applied to the
// fixed header before the body arrives (hardening A02-A04, C11).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <system_error>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/packets.hpp>
#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/varint.hpp>

#include "bad_input_loader.hpp"

namespace {

namespace bi = mq_test::bad_input;

std::vector<std::uint8_t> encode_or_fail(const mqtt::packet& p, mqtt::protocol_version v) {
    std::vector<std::uint8_t> out;
    const std::error_code ec = mqtt::encode(p, v, out);
    REQUIRE_MESSAGE(!ec, "encode failed: ", ec.message());
    return out;
}

mqtt::publish publish_with_payload(std::size_t n) {
    mqtt::publish p;
    p.topic = "sensors/t1";
    p.payload.assign(n, std::uint8_t{0x5a});
    p.level = mqtt::qos::at_least_once;
    p.packet_id = 9;
    return p;
}

// A fixed header for `first` declaring `remaining` bytes, without the body.
std::vector<std::uint8_t> header(std::uint8_t first, std::uint32_t remaining) {
    std::vector<std::uint8_t> out{first};
    mqtt::encode_varint(remaining, out);
    return out;
}

mqtt::limits max_packet(std::uint32_t n) {
    mqtt::limits lim;
    lim.max_packet_size = n;
    return lim;
}

}  // namespace

TEST_CASE("next_frame needs more bytes at every prefix of a valid packet") {
    mqtt::connect c;
    c.client_id = "splitter";
    c.username = "user";
    std::vector<std::vector<std::uint8_t>> packets{
        encode_or_fail(mqtt::pingreq{}, mqtt::protocol_version::v311),       // 2 bytes
        encode_or_fail(c, mqtt::protocol_version::v5),                        // 1-byte length
        encode_or_fail(publish_with_payload(300), mqtt::protocol_version::v5),    // 2-byte length
        encode_or_fail(publish_with_payload(20'000), mqtt::protocol_version::v311),  // 3-byte length
    };
    for (const auto& bytes : packets) {
        INFO("packet of ", bytes.size(), " bytes");
        std::size_t wrong = 0;
        for (std::size_t k = 0; k < bytes.size(); ++k) {
            // Exact-size copy: a read past the prefix is an ASan error.
            const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(k));
            std::error_code ec = mqtt::make_error_code(mqtt::codec_error::truncated);  // must be cleared
            const auto f = mqtt::next_frame(prefix, {}, ec);
            if (f || ec) ++wrong;
        }
        CHECK(wrong == 0);

        std::error_code ec;
        const auto f = mqtt::next_frame(bytes, {}, ec);
        REQUIRE(f);
        CHECK_FALSE(ec);
        CHECK(f->total == bytes.size());
        CHECK(f->first_byte == bytes[0]);
        CHECK(f->body.data() + f->body.size() == bytes.data() + bytes.size());
        // The body starts right after the minimal-length fixed header.
        const auto body_len = static_cast<std::uint32_t>(f->body.size());
        CHECK(f->total - f->body.size() == 1 + mqtt::varint_size(body_len));
    }
}

TEST_CASE("next_frame reports exact total and body sizes at every varint width") {
    // Remaining lengths at each boundary of the 1-4 byte encoding.
    for (const std::uint32_t remaining : {0u, 1u, 127u, 128u, 16'383u, 16'384u, 2'097'151u, 2'097'152u}) {
        INFO("remaining length ", remaining);
        std::vector<std::uint8_t> in = header(0x30, remaining);
        const std::size_t header_len = in.size();
        CHECK(header_len == 1 + mqtt::varint_size(remaining));
        in.resize(header_len + remaining, 0x61);
        in.push_back(0xc0);  // the start of a next packet is not part of this frame
        std::error_code ec;
        const auto f = mqtt::next_frame(in, {}, ec);
        REQUIRE(f);
        CHECK_FALSE(ec);
        CHECK(f->total == header_len + remaining);
        CHECK(f->body.size() == remaining);
        CHECK(f->body.data() == in.data() + header_len);
        CHECK(f->first_byte == 0x30);
        CHECK(f->type() == mqtt::packet_type::publish);
    }
}

TEST_CASE("next_frame takes only the first of two packets in one buffer") {
    auto in = encode_or_fail(publish_with_payload(5), mqtt::protocol_version::v5);
    const std::size_t first = in.size();
    in.push_back(0xc0);
    in.push_back(0x00);
    std::error_code ec;
    const auto f = mqtt::next_frame(in, {}, ec);
    REQUIRE(f);
    CHECK(f->total == first);
    const auto second = mqtt::next_frame(std::span<const std::uint8_t>(in).subspan(first), {}, ec);
    REQUIRE(second);
    CHECK(second->total == 2);
    CHECK(second->type() == mqtt::packet_type::pingreq);
}

TEST_CASE("MQTT-3.2.2-15 max_packet_size is enforced on the fixed header before the body arrives") {
    // 100 MB declared in 5 bytes (A04): nothing but the header has arrived.
    const std::vector<std::uint8_t> in = header(0x30, 100'000'000);
    REQUIRE(in.size() == 5);
    std::error_code ec;
    CHECK_FALSE(mqtt::next_frame(in, max_packet(1'048'576), ec));
    CHECK(bi::error_name(ec) == "packet_too_large");
    CHECK(mqtt::reason_of(ec) == mqtt::reason::packet_too_large);
    // The same header with the default limit is simply incomplete.
    CHECK_FALSE(mqtt::next_frame(in, {}, ec));
    CHECK_FALSE(ec);
    // A CONNECT declaring the maximum, 10 bytes of body and then silence (A03).
    std::vector<std::uint8_t> connect = header(0x10, mqtt::max_varint);
    connect.resize(connect.size() + 10, 0);
    CHECK_FALSE(mqtt::next_frame(connect, max_packet(65'536), ec));
    CHECK(bi::error_name(ec) == "packet_too_large");
}

TEST_CASE("max_packet_size counts the whole packet including the fixed header") {
    const auto in = encode_or_fail(publish_with_payload(200), mqtt::protocol_version::v311);
    const auto total = static_cast<std::uint32_t>(in.size());
    std::error_code ec;
    const auto at_limit = mqtt::next_frame(in, max_packet(total), ec);
    REQUIRE(at_limit);
    CHECK(at_limit->total == total);
    CHECK_FALSE(mqtt::next_frame(in, max_packet(total - 1), ec));
    CHECK(bi::error_name(ec) == "packet_too_large");
    // Too large is known from the header alone, whatever part of the body is there.
    const std::size_t header_len = at_limit->total - at_limit->body.size();
    for (std::size_t k = header_len; k < in.size(); k += 37) {
        const std::vector<std::uint8_t> prefix(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(k));
        CHECK_FALSE(mqtt::next_frame(prefix, max_packet(total - 1), ec));
        CHECK(bi::error_name(ec) == "packet_too_large");
    }
}

TEST_CASE("4-byte maximum remaining length is accepted when the limit allows it") {
    const std::vector<std::uint8_t> in = header(0x30, mqtt::max_varint);
    REQUIRE(in == std::vector<std::uint8_t>{0x30, 0xff, 0xff, 0xff, 0x7f});
    std::error_code ec;
    // Default limit is the protocol maximum 268,435,460 = 5 + 268,435,455.
    CHECK_FALSE(mqtt::next_frame(in, {}, ec));
    CHECK_FALSE(ec);  // need more, not an error
    CHECK_FALSE(mqtt::next_frame(in, max_packet(268'435'460), ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(mqtt::next_frame(in, max_packet(268'435'459), ec));
    CHECK(bi::error_name(ec) == "packet_too_large");

    // A real frame with a 4-byte length: 2 MiB body, decoded as a PUBLISH.
    std::vector<std::uint8_t> big = header(0x30, 2'097'152);
    REQUIRE(big.size() == 5);
    big.insert(big.end(), {0x00, 0x01, 0x61});
    big.resize(5 + 2'097'152, 0x42);
    const auto f = mqtt::next_frame(big, {}, ec);
    REQUIRE(f);
    CHECK(f->total == big.size());
    CHECK(f->body.size() == 2'097'152);
    const auto p = mqtt::decode_frame(*f, mqtt::protocol_version::v311, {}, ec);
    CHECK_FALSE(ec);
    CHECK(std::get<mqtt::publish>(p).payload.size() == 2'097'152 - 3);
}

TEST_CASE("MQTT-1.5.5 remaining length over 4 bytes is malformed") {
    std::error_code ec;
    for (const char* hex : {"30 ff ff ff ff 01", "30 80 80 80 80", "c0 ff ff ff ff 7f"}) {
        INFO(hex);
        const auto in = bi::from_hex(hex);
        CHECK_FALSE(mqtt::next_frame(in, {}, ec));
        CHECK(bi::error_name(ec) == "remaining_length_too_long");
        CHECK(mqtt::reason_of(ec) == mqtt::reason::malformed_packet);
    }
    // Three continuation bytes so far: still undecided, need more.
    CHECK_FALSE(mqtt::next_frame(bi::from_hex("30 ff ff ff"), {}, ec));
    CHECK_FALSE(ec);
}

TEST_CASE("MQTT-1.5.5-1 non-minimal remaining length is malformed at the splitter") {
    std::error_code ec;
    for (const char* hex : {"c0 80 00", "30 ff 80 00", "30 80 80 80 00", "30 81 00 00"}) {
        INFO(hex);
        CHECK_FALSE(mqtt::next_frame(bi::from_hex(hex), {}, ec));
        CHECK(bi::error_name(ec) == "varint_not_minimal");
        CHECK(mqtt::reason_of(ec) == mqtt::reason::malformed_packet);
    }
}

TEST_CASE("next_frame with fewer than two bytes needs more") {
    std::error_code ec;
    CHECK_FALSE(mqtt::next_frame({}, {}, ec));
    CHECK_FALSE(ec);
    const std::vector<std::uint8_t> one{0x30};
    CHECK_FALSE(mqtt::next_frame(one, {}, ec));
    CHECK_FALSE(ec);
}
