// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "common/output_format.hpp"

using namespace mq::tools;
using mqtt::property_id;

namespace {

// 2026-03-01T12:00:00.123456789Z
std::chrono::system_clock::time_point fixed_time() {
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds(1772366400) + std::chrono::nanoseconds(123456789)));
}

mqtt::publish sample() {
    mqtt::publish m;
    m.topic = "a/b";
    const std::string p = "{\"x\":1}";
    m.payload.assign(p.begin(), p.end());
    m.level = mqtt::qos::at_least_once;
    m.packet_id = 7;
    m.props.set_string(property_id::content_type, "application/json");
    m.props.add_user_property("k", "v");
    m.props.add_user_property("k", "w");
    return m;
}

std::string render(std::string_view spec, const mqtt::publish& m) {
    std::string err;
    auto f = format_string::compile(spec, err);
    REQUIRE_MESSAGE(f, err);
    const std::vector<std::string> filters{"a/+"};
    std::string out;
    f->render(received_message{m, fixed_time(), filters}, out);
    return out;
}

}  // namespace

TEST_CASE("ndjson record matches section 5.2 byte for byte") {
    const auto m = sample();
    const std::vector<std::string> filters{"a/+"};
    std::string out;
    append_ndjson(received_message{m, fixed_time(), filters}, payload_encoding::automatic, out);
    CHECK(out ==
          R"({"type":"message","ts":"2026-03-01T12:00:00.123456789Z","topic":"a/b","qos":1,"retain":false,"dup":false,"payload_len":7,"payload_encoding":"utf8","payload":"{\"x\":1}","properties":{"content_type":"application/json","user_properties":[["k","v"],["k","w"]]},"subscription_ids":[],"filters":["a/+"]})");
}

TEST_CASE("ndjson record uses base64 for binary and keeps every property") {
    mqtt::publish m;
    m.topic = "t";
    m.payload = {0x00, 0xff, 0x01};
    m.retain = true;
    m.props.set_int(property_id::payload_format_indicator, 0);
    m.props.set_int(property_id::message_expiry_interval, 60);
    m.props.set_string(property_id::response_topic, "r/1");
    m.props.set_binary(property_id::correlation_data, {1, 2, 3});
    m.props.add_int(property_id::subscription_identifier, 5);
    std::string out;
    append_ndjson(received_message{m, fixed_time(), {}}, payload_encoding::automatic, out);
    CHECK(out ==
          R"({"type":"message","ts":"2026-03-01T12:00:00.123456789Z","topic":"t","qos":0,"retain":true,"dup":false,"payload_len":3,"payload_encoding":"base64","payload":"AP8B","properties":{"payload_format_indicator":0,"message_expiry_interval":60,"response_topic":"r/1","correlation_data":"AQID"},"subscription_ids":[5],"filters":[]})");
}

TEST_CASE("ndjson payload encodings hex json and escapes") {
    mqtt::publish m;
    m.topic = "t";
    const std::string p = "{ \"a\" : [1, 2] }";
    m.payload.assign(p.begin(), p.end());
    std::string out;
    append_ndjson(received_message{m, fixed_time(), {}}, payload_encoding::json, out);
    CHECK(out.find(R"("payload_encoding":"json","payload":{"a":[1,2]},)") != std::string::npos);
    out.clear();
    append_ndjson(received_message{m, fixed_time(), {}}, payload_encoding::hex, out);
    CHECK(out.find(R"("payload_encoding":"hex","payload":"7b2022)") != std::string::npos);
    m.payload = {'a', '\n', '"', 0x01, 0x00};
    out.clear();
    append_ndjson(received_message{m, fixed_time(), {}}, payload_encoding::json, out);
    CHECK(out.find(R"("payload_encoding":"utf8","payload":"a\n\"\u0001\u0000")") != std::string::npos);
}

TEST_CASE("rfc3339 timestamps have nine fractional digits") {
    CHECK(rfc3339_ns(fixed_time()) == "2026-03-01T12:00:00.123456789Z");
    CHECK(rfc3339_ns(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00.000000000Z");
}

TEST_CASE("rfc3339 timestamps stay right when the remembered second changes and comes back") {
    // The date part is cached per second; a record from another second (a
    // clock step back, or a message rendered out of order) must not reuse it.
    using std::chrono::nanoseconds;
    const auto t = fixed_time();
    CHECK(rfc3339_ns(t + nanoseconds(800'000'000)) == "2026-03-01T12:00:00.923456789Z");
    CHECK(rfc3339_ns(t + nanoseconds(900'000'000)) == "2026-03-01T12:00:01.023456789Z");
    CHECK(rfc3339_ns(t - nanoseconds(123'456'789)) == "2026-03-01T12:00:00.000000000Z");
    CHECK(rfc3339_ns(t - nanoseconds(123'456'790)) == "2026-03-01T11:59:59.999999999Z");
    CHECK(rfc3339_ns(t + std::chrono::hours(24 * 365)) == "2027-03-01T12:00:00.123456789Z");
}

TEST_CASE("ndjson record lists every subscription identifier in order, up to the largest") {
    mqtt::publish m;
    m.topic = "t";
    m.props.add_int(property_id::subscription_identifier, 1);
    m.props.add_int(property_id::subscription_identifier, 268'435'455);  // the v5 maximum
    m.props.add_int(property_id::subscription_identifier, 10);
    std::string out = "prefix ";  // appended to, not replaced
    append_ndjson(received_message{m, fixed_time(), {}}, payload_encoding::automatic, out);
    CHECK(out.starts_with("prefix {\"type\":\"message\""));
    CHECK(out.find(R"("payload_len":0,)") != std::string::npos);
    CHECK(out.find(R"("subscription_ids":[1,268435455,10],)") != std::string::npos);
}

TEST_CASE("format specifiers t p l q r m x X b U and percent") {
    const auto m = sample();
    CHECK(render("%t %p %l %q %r %m", m) == "a/b {\"x\":1} 7 1 0 7");
    CHECK(render("%x|%X|%b", m) == "7b2278223a317d|7B2278223A317D|eyJ4IjoxfQ==");
    CHECK(render("%U", m) == "1772366400.123456789");
    CHECK(render("100%%", m) == "100%");
    CHECK(render("%C %P", m) == "application/json k:v k:w");
    CHECK(render("[%E][%R][%S]", m) == "[][][]");
}

TEST_CASE("format j is the ndjson record and escapes are decoded") {
    const auto m = sample();
    std::string expected;
    const std::vector<std::string> filters{"a/+"};
    append_ndjson(received_message{m, fixed_time(), filters}, payload_encoding::automatic, expected);
    CHECK(render("%j", m) == expected);
    CHECK(render("%t\\t%l\\n\\\\\\0", m) == std::string("a/b\t7\n\\\0", 8));
    CHECK(render("@@ @N", m) == "@ 123456789");
}

TEST_CASE("format width precision and flags") {
    const auto m = sample();
    CHECK(render("%-6t|", m) == "a/b   |");
    CHECK(render("%6t|", m) == "   a/b|");
    CHECK(render("%05l", m) == "00007");
    CHECK(render("%.3p", m) == "{\"x");
    CHECK(render("%-5.2t|", m) == "a/   |");
}

TEST_CASE("unknown format specifiers and dangling escapes are errors") {
    for (const char* s : {"%k", "%", "abc\\", "\\q", "@", "@K", "%5"}) {
        CAPTURE(s);
        std::string err;
        CHECK_FALSE(format_string::compile(s, err));
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("plain output and terminal escaping") {
    const auto m = sample();
    std::string out;
    append_plain(received_message{m, fixed_time(), {}}, true, out);
    CHECK(out == "a/b {\"x\":1}");
    CHECK(escape_controls(std::string("a\x01\tb\n\x1b", 6)) == "a\\x01\tb\n\\x1b");
}
