// SPDX-License-Identifier: MIT
// json::scanner: RFC 8259 validity (what `mq pub --ndjson` accepts as a line),
// string decoding and minify. fuzz_ndjson checks it against nlohmann::json.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/json_scan.hpp"

using namespace mq::tools;

namespace {

bool valid(std::string_view text, std::size_t depth = 64) {
    json::scanner s(text, depth);
    return s.skip_value() && s.at_end();
}

std::string decode(std::string_view text) {
    json::scanner s(text, 64);
    std::string_view out;
    std::string buf;
    REQUIRE(s.read_string(out, buf));
    return std::string(out);
}

std::string minified(std::string_view text) {
    json::scanner s(text, 64);
    std::string_view raw;
    REQUIRE(s.skip_value(raw));
    std::vector<std::uint8_t> out;
    json::minify(raw, out);
    return {out.begin(), out.end()};
}

}  // namespace

TEST_CASE("json_scan accepts every kind of valid value") {
    for (const char* ok : {R"({})", R"([])", R"({"a":1})", R"( { "a" : [ 1 , -2.5e+3 , true , false , null ] } )",
                           R"("x")", "0", "-0", "1E9", "0.5", R"([[[]]])", R"({"a":{"b":{"c":"d"}}})",
                           R"("\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00")", "\"caf\xC3\xA9 \xF0\x9F\x98\x80\""}) {
        CAPTURE(ok);
        CHECK(valid(ok));
    }
}

TEST_CASE("json_scan rejects what RFC 8259 rejects, with a column") {
    for (const char* bad : {"", "{", "}", R"({"a"})", R"({"a":})", R"({"a":1,})", R"([1,])", R"([,1])", "[1 2]",
                            R"({a:1})", R"({'a':1})", "01", "1.", ".5", "-", "1e", "+1", "NaN", "tru", "nul",
                            R"("abc)", R"("\x")", R"("\u12")", R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")",
                            "\"a\x01\"", "\"\xC3\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"",
                            "\"\xFF\"", R"({"a":1}})", R"({"a":1} x)", "[1]]"}) {
        CAPTURE(std::string_view(bad));
        json::scanner s(bad, 64);
        const bool ok = s.skip_value() && s.at_end();
        CHECK_FALSE(ok);
        if (!std::string_view(bad).empty() && s.failed()) CHECK(s.error().find("at column ") != std::string::npos);
    }
    CHECK_FALSE(valid(std::string("{\"a\":1}\0", 8)));  // a NUL after the object
    CHECK_FALSE(valid(std::string("\"a\0b\"", 5)));    // a raw NUL inside a string
}

TEST_CASE("json_scan bounds nesting depth (hardening I05)") {
    CHECK(valid(std::string(64, '[') + std::string(64, ']'), 64));
    CHECK_FALSE(valid(std::string(65, '[') + std::string(65, ']'), 64));
    // Deep input is refused before the recursion gets anywhere near the stack's limit.
    const std::string deep(100000, '[');  // must outlive the scanner: it holds a view
    json::scanner s(deep, 64);
    CHECK_FALSE(s.skip_value());
    CHECK(s.error().find("nesting too deep") != std::string::npos);
}

TEST_CASE("json_scan decodes strings: in place without escapes, into the buffer with them") {
    const std::string text = R"("plain")";
    json::scanner s(text, 64);
    std::string_view out;
    std::string buf;
    REQUIRE(s.read_string(out, buf));
    CHECK(out == "plain");
    CHECK(out.data() == text.data() + 1);  // a view into the line: no copy
    CHECK(decode(R"("a\"b\\c\/d\n")") == "a\"b\\c/d\n");
    CHECK(decode(R"("\u00e9\u20ac")") == "\xC3\xA9\xE2\x82\xAC");
    CHECK(decode(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");
    CHECK(decode(R"("\u0000")") == std::string(1, '\0'));
}

TEST_CASE("json_scan reads integers and booleans strictly") {
    auto uint_of = [](std::string_view t, std::uint64_t& v) {
        json::scanner s(t, 64);
        return s.read_uint(v);
    };
    std::uint64_t v = 0;
    CHECK(uint_of("18446744073709551615", v));
    CHECK(v == 18446744073709551615ULL);
    CHECK_FALSE(uint_of("18446744073709551616", v));
    CHECK_FALSE(uint_of("-1", v));
    CHECK_FALSE(uint_of("1.0", v));
    CHECK_FALSE(uint_of("1e2", v));
    json::scanner b("false", 64);
    bool f = true;
    CHECK(b.read_bool(f));
    CHECK_FALSE(f);
}

TEST_CASE("json_scan minify drops whitespace between tokens only") {
    CHECK(minified(R"( { "a b" : [ 1 , "x  y" , { } ] } )") == R"({"a b":[1,"x  y",{}]})");
    CHECK(minified(R"("q\" \\ ")") == R"("q\" \\ ")");
    CHECK(minified("123456789012345678901234567890") == "123456789012345678901234567890");
}

TEST_CASE("json_scan object and array iteration keeps each level's commas apart") {
    json::scanner s(R"({"a":[1,[2,3]],"b":{"c":[]}})", 64);
    std::string buf;
    std::string_view key;
    std::vector<std::string> seen;
    REQUIRE(s.enter_object());
    while (s.next_member(key, buf)) {
        seen.emplace_back(key);
        if (key == "a") {
            REQUIRE(s.enter_array());
            int n = 0;
            while (s.next_element()) {
                REQUIRE(s.skip_value());
                ++n;
            }
            CHECK(n == 2);
        } else {
            REQUIRE(s.skip_value());
        }
    }
    CHECK_FALSE(s.failed());
    CHECK(s.at_end());
    CHECK(seen == std::vector<std::string>{"a", "b"});
}
