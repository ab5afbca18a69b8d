// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <string>

#include "common/ndjson.hpp"
#include "common/output_format.hpp"

using namespace mq::tools;
using mqtt::property_id;

namespace {

struct result {
    ndjson_status status;
    mqtt::publish msg;
    std::string error;
};

result parse(std::string_view line, publish_defaults d = {}) {
    static ndjson_parser parser;
    result r;
    r.status = parser.parse(line, d, r.msg, r.error);
    return r;
}

std::string text(const mqtt::publish& m) { return std::string(m.payload.begin(), m.payload.end()); }

}  // namespace

TEST_CASE("ndjson minimal message with defaults") {
    auto r = parse(R"({"payload":"hi"})", {"def/topic", mqtt::qos::at_least_once, true});
    REQUIRE(r.status == ndjson_status::message);
    CHECK(r.msg.topic == "def/topic");
    CHECK(text(r.msg) == "hi");
    CHECK(r.msg.level == mqtt::qos::at_least_once);
    CHECK(r.msg.retain);
}

TEST_CASE("ndjson sub json record parses back to the same message") {
    mqtt::publish m;
    m.topic = "a/b";
    m.payload = {0x00, 0xff, 'x'};
    m.level = mqtt::qos::exactly_once;
    m.retain = true;
    m.props.set_string(property_id::content_type, "application/octet-stream");
    m.props.set_int(property_id::message_expiry_interval, 30);
    m.props.set_binary(property_id::correlation_data, {9, 8});
    m.props.add_user_property("k", "v");
    m.props.add_user_property("k", "w");
    std::string line;
    append_ndjson(received_message{m, std::chrono::system_clock::now(), {}}, payload_encoding::automatic, line);
    auto r = parse(line);
    REQUIRE(r.status == ndjson_status::message);
    CHECK(r.msg.topic == m.topic);
    CHECK(r.msg.payload == m.payload);
    CHECK(r.msg.level == m.level);
    CHECK(r.msg.retain);
    CHECK(*r.msg.props.get_string(property_id::content_type) == "application/octet-stream");
    CHECK(*r.msg.props.get_int(property_id::message_expiry_interval) == 30);
    CHECK(*r.msg.props.get_binary(property_id::correlation_data) == mqtt::binary{9, 8});
    CHECK(r.msg.props.user_properties() == std::vector<mqtt::string_pair>{{"k", "v"}, {"k", "w"}});
}

TEST_CASE("ndjson payload encodings") {
    CHECK(text(parse(R"({"topic":"t","payload":"aGk=","payload_encoding":"base64"})").msg) == "hi");
    CHECK(text(parse(R"({"topic":"t","payload":"6869","payload_encoding":"hex"})").msg) == "hi");
    CHECK(text(parse(R"({"topic":"t","payload_encoding":"json","payload":{ "a" : [1, 2] }})").msg) ==
          R"({"a":[1,2]})");
    CHECK(text(parse(R"({"topic":"t","payload_encoding":"json","payload":"s"})").msg) == R"("s")");
    CHECK(text(parse(R"({"topic":"t","payload":{"x": 1}})").msg) == R"({"x":1})");
    CHECK(text(parse(R"({"topic":"t","payload":"a\nb\u00e9"})").msg) == "a\nb\xc3\xa9");
    CHECK(parse(R"({"topic":"t","payload":"zz","payload_encoding":"hex"})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"t","payload":"!","payload_encoding":"base64"})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"t","payload":"x","payload_encoding":"rot13"})").status == ndjson_status::bad);
}

TEST_CASE("ndjson I01 invalid lines report a reason") {
    for (const char* s : {"{", "not json", "[1,2]", R"({"topic":"t","payload":"x"} trailing)", R"({"topic":"t",})"}) {
        CAPTURE(s);
        auto r = parse(s);
        CHECK(r.status == ndjson_status::bad);
        CHECK_FALSE(r.error.empty());
    }
}

TEST_CASE("ndjson I02 blank lines and other record types are skipped") {
    CHECK(parse("").status == ndjson_status::skip);
    CHECK(parse("   \t ").status == ndjson_status::skip);
    CHECK(parse(R"({"type":"summary","topic":"t","payload":"x"})").status == ndjson_status::skip);
    CHECK(parse(R"({"type":"message","topic":"t","payload":"x"})").status == ndjson_status::message);
}

TEST_CASE("ndjson I03 CRLF and BOM are handled") {
    CHECK(text(parse("{\"topic\":\"t\",\"payload\":\"x\"}\r").msg) == "x");
    CHECK(text(parse("\xEF\xBB\xBF{\"topic\":\"t\",\"payload\":\"y\"}").msg) == "y");
}

TEST_CASE("ndjson I05 deep nesting is a bad line without a crash") {
    std::string deep = R"({"topic":"t","payload":)";
    deep.append(100000, '[');
    deep.append(100000, ']');
    deep.push_back('}');
    auto r = parse(deep);
    CHECK(r.status == ndjson_status::bad);
    std::string ok = R"({"topic":"t","payload":)";
    ok.append(63, '[');
    ok.append(63, ']');
    ok.push_back('}');
    CHECK(parse(ok).status == ndjson_status::message);
    CHECK(json_too_deep(R"(["[[[[", 1])", 2) == false);
}

TEST_CASE("ndjson I06 invalid UTF-8 NUL in topic and lone surrogates are bad") {
    CHECK(parse("{\"topic\":\"t\",\"payload\":\"\xff\"}").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"a\u0000b","payload":"x"})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"t","payload":"\ud800"})").status == ndjson_status::bad);
}

TEST_CASE("ndjson I07 bad qos retain topic and missing payload") {
    CHECK(parse(R"({"topic":"t","payload":"x","qos":3})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"t","payload":"x","qos":"1"})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"t","payload":"x","retain":"yes"})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"a/+","payload":"x"})").status == ndjson_status::bad);
    CHECK(parse(R"({"topic":"t"})").status == ndjson_status::bad);
    CHECK(parse(R"({"payload":"x"})").status == ndjson_status::bad);  // no topic, no -t
    CHECK(parse(R"({"topic":"t","payload":"x","properties":{"user_properties":[["k"]]}})").status ==
          ndjson_status::bad);
}

TEST_CASE("ndjson I08 big integers and duplicate keys inside a string payload are preserved") {
    const std::string inner = R"({"n":123456789012345678901234567890,"a":1,"a":2})";
    std::string line = R"({"topic":"t","payload":")";
    for (char c : inner) {
        if (c == '"') line.push_back('\\');
        line.push_back(c);
    }
    line += "\"}";
    CHECK(text(parse(line).msg) == inner);
}

TEST_CASE("ndjson parses in place and never reads past the line") {
    // The next line's bytes follow in memory, as in `mq pub`'s block reader.
    const std::string block = std::string(R"({"topic":"t","payload":"in place"})") + R"(}, "x":1})";
    const std::size_t len = block.find("}}") + 1;
    ndjson_parser p;
    mqtt::publish m;
    std::string err;
    REQUIRE(p.parse(std::string_view(block.data(), len), {}, m, err) == ndjson_status::message);
    CHECK(text(m) == "in place");
    // A truncated line stays bad whatever follows it.
    CHECK(p.parse(std::string_view(block.data(), len - 1), {}, m, err) == ndjson_status::bad);
    CHECK(err.find("column") != std::string::npos);
}
