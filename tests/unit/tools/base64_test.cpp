// SPDX-License-Identifier: MIT
// base64_encode: what mq sub --json writes for binary payloads
// ("payload_encoding":"base64") must be standard padded base64 that
// mq pub --ndjson decodes back to the same bytes (RFC 4648 §4, §10).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/encoding.hpp"

namespace {

std::string encode(std::string_view text, std::string out = {}) {
    const std::vector<std::uint8_t> bytes(text.begin(), text.end());
    mq::tools::base64_encode(bytes, out);
    return out;
}

}  // namespace

TEST_CASE("base64 encodes the RFC 4648 test vectors") {
    CHECK(encode("") == "");
    CHECK(encode("f") == "Zg==");
    CHECK(encode("fo") == "Zm8=");
    CHECK(encode("foo") == "Zm9v");
    CHECK(encode("foob") == "Zm9vYg==");
    CHECK(encode("fooba") == "Zm9vYmE=");
    CHECK(encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 appends to what the output already holds") {
    CHECK(encode("fo", R"({"payload":")") == R"({"payload":"Zm8=)");
}

TEST_CASE("base64 round-trips every byte value at every length remainder") {
    for (std::size_t len = 0; len <= 300; ++len) {
        CAPTURE(len);
        std::vector<std::uint8_t> in(len);
        for (std::size_t i = 0; i < len; ++i) in[i] = static_cast<std::uint8_t>((i * 7 + len) & 0xFF);
        std::string text;
        mq::tools::base64_encode(in, text);
        CHECK(text.size() == (len + 2) / 3 * 4);
        std::vector<std::uint8_t> back;
        REQUIRE(mq::tools::base64_decode(text, back));
        CHECK(back == in);
    }
}
