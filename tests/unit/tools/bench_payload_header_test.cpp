// SPDX-License-Identifier: MIT
#include <array>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "bench/payload_header.hpp"

using namespace mq::tools::bench;

TEST_CASE("payload header encodes the 40-byte little-endian layout of bench-method 4") {
    payload_header h{0x11223344u, 0xA1B2C3D4u, 7, 0x0102030405060708ull, 1000, 2000};
    std::array<std::uint8_t, 40> b{};
    encode_header(h, b);
    CHECK(b[0] == 'm');
    CHECK(b[1] == 'q');
    CHECK(b[2] == 'B');
    CHECK(b[3] == '1');
    CHECK(b[4] == 0x44);  // clock domain, little-endian
    CHECK(b[7] == 0x11);
    CHECK(b[8] == 0xD4);   // run id
    CHECK(b[12] == 7);     // publisher id
    CHECK(b[16] == 0x08);  // sequence
    CHECK(b[23] == 0x01);
    CHECK(b[24] == 0xE8);  // 1000 = 0x3E8
    CHECK(b[25] == 0x03);
    CHECK(b[32] == 0xD0);  // 2000 = 0x7D0
    CHECK(b[33] == 0x07);
    const auto back = decode_header(b);
    REQUIRE(back.has_value());
    CHECK(*back == h);
}

TEST_CASE("payload header actual send time can be patched in place") {
    std::vector<std::uint8_t> p(64);
    encode_header(payload_header{1, 2, 3, 4, 5, 0}, p);
    fill_padding(p);
    patch_actual_send(p, 123456789ull);
    const auto h = decode_header(p);
    REQUIRE(h.has_value());
    CHECK(h->actual_ns == 123456789ull);
    CHECK(h->intended_ns == 5);
    CHECK(p[40] == 'a' + 40 % 26);
}

TEST_CASE("payload header with wrong magic or short payload is foreign") {
    std::array<std::uint8_t, 40> b{};
    encode_header(payload_header{}, b);
    CHECK(decode_header(std::span<const std::uint8_t>(b.data(), 39)) == std::nullopt);
    b[3] = '2';
    CHECK(decode_header(b) == std::nullopt);
}

TEST_CASE("payload clock domain is a stable non-zero hash of the boot id") {
    const auto a = clock_domain_from_boot_id("6b1e2c2e-0d1f-4d3a-9a57-2b7f0c7d9e11\n");
    CHECK(a == clock_domain_from_boot_id("6b1e2c2e-0d1f-4d3a-9a57-2b7f0c7d9e11"));
    CHECK(a != clock_domain_from_boot_id("6b1e2c2e-0d1f-4d3a-9a57-2b7f0c7d9e12"));
    CHECK(a != 0);
}
