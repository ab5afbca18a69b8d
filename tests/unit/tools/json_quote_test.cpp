// SPDX-License-Identifier: MIT
// json_quote: what mq sub --json writes for topic and utf8 payload strings
// must be valid JSON that decodes back to the same bytes (RFC 8259 §7).
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "common/encoding.hpp"

namespace {
std::string quote_it(std::string_view s) {
    std::string out = "prefix:";
    mq::tools::json_quote(s, out);
    return out.substr(7);
}
}  // namespace

TEST_CASE("json_quote: plain text is copied as is between quotes") {
    CHECK(quote_it("") == "\"\"");
    CHECK(quote_it("hello world") == "\"hello world\"");
    CHECK(quote_it("caf\xC3\xA9 \xE2\x82\xAC") == "\"caf\xC3\xA9 \xE2\x82\xAC\"");  // UTF-8 stays raw
}

TEST_CASE("json_quote: quotes, backslashes and control characters are escaped at any position") {
    CHECK(quote_it("\"") == "\"\\\"\"");
    CHECK(quote_it("a\\b") == "\"a\\\\b\"");
    CHECK(quote_it("\n") == "\"\\n\"");
    CHECK(quote_it("x\r\ty\b\fz") == "\"x\\r\\ty\\b\\fz\"");
    CHECK(quote_it(std::string("a\0b", 3)) == "\"a\\u0000b\"");
    CHECK(quote_it("\x1F\x7F") == "\"\\u001f\\u007f\"");
    CHECK(quote_it("end\"") == "\"end\\\"\"");
}

TEST_CASE("json_quote: every byte 0x00-0x7F round-trips through a JSON parser") {
    std::string all;
    for (int c = 0; c < 0x80; ++c) {
        all.push_back(static_cast<char>(c));
        all += "run";  // plain runs between the specials
    }
    const std::string q = quote_it(all);
    const auto back = nlohmann::json::parse(q).get<std::string>();
    CHECK(back == all);
}
