// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "common/url.hpp"

using namespace mq::tools;

namespace {
std::optional<broker_url> parse(std::string_view s) {
    std::string err;
    auto u = parse_url(s, err);
    if (!u) CHECK_FALSE(err.empty());
    return u;
}
}  // namespace

TEST_CASE("url H01 raw at sign in password is rejected and percent-encoded one decodes") {
    CHECK_FALSE(parse("mqtt://user:p@ss@host"));
    auto u = parse("mqtt://user:p%40ss@host");
    REQUIRE(u);
    CHECK(*u->username == "user");
    CHECK(*u->password == "p@ss");
    CHECK(u->host == "host");
    CHECK(u->effective_port() == 1883);
}

TEST_CASE("url H02 bracketed IPv6 works and bare IPv6 is rejected") {
    auto u = parse("mqtt://[::1]:1883");
    REQUIRE(u);
    CHECK(u->host == "::1");
    CHECK(*u->port == 1883);
    CHECK_FALSE(parse("mqtt://::1:1883"));
    CHECK_FALSE(parse("mqtt://[::1"));
    // A zone id: unreserved characters only, "%25" (RFC 6874) normalised to "%".
    CHECK(parse("mqtt://[fe80::1%eth0]:1883")->host == "fe80::1%eth0");
    CHECK(parse("mqtt://[fe80::1%25eth0]")->host == "fe80::1%eth0");
    CHECK_FALSE(parse("mqtt://[fe80::1%]"));
    CHECK_FALSE(parse("ws://[::0%[x]:633"));  // found by fuzz_url: a '[' in the zone
    CHECK_FALSE(parse("mqtt://[::1%a b]"));
}

TEST_CASE("url errors stay on one line: decoded control characters are shown as \\xNN") {
    std::string error;
    CHECK_FALSE(parse_url("mqtt://h?keepalive=1%0a2", error));
    CHECK(error == "query keepalive must be 0-65535, not '1\\x0a2'");
}

TEST_CASE("url H03 ports outside 1-65535 are rejected") {
    for (const char* s : {"mqtt://h:0", "mqtt://h:65536", "mqtt://h:abc", "mqtt://h:-1", "mqtt://h:"}) {
        CAPTURE(s);
        CHECK_FALSE(parse(s));
    }
    CHECK(parse("mqtt://h:65535")->port == 65535);
    CHECK(parse("mqtt://h:1")->port == 1);
}

TEST_CASE("url H04 bad schemes and missing hosts are rejected") {
    for (const char* s : {"http://host", "mqtt:/host", "mqtt://", "host:1883", "mqtt://user@", "mqtt://h o"}) {
        CAPTURE(s);
        CHECK_FALSE(parse(s));
    }
}

TEST_CASE("url scheme aliases and default ports") {
    CHECK(parse("tcp://h")->scheme == url_scheme::mqtt);
    CHECK(parse("ssl://h")->effective_port() == 8883);
    CHECK(parse("tls://h")->tls());
    CHECK(parse("MQTTS://h")->scheme == url_scheme::mqtts);
    CHECK(parse("ws://h")->effective_port() == 80);
    CHECK(parse("wss://h")->effective_port() == 443);
}

TEST_CASE("url ws path defaults to /mqtt and mqtt path is a decoded topic") {
    CHECK(parse("ws://h")->path == "/mqtt");
    CHECK(parse("wss://h:8443/custom/path")->path == "/custom/path");
    CHECK(parse("mqtt://h/a/b%20c")->path == "a/b c");
    CHECK(parse("mqtt://h/a/%23")->path == "a/#");
    CHECK(parse("mqtt://h/a/%2B/b")->path == "a/+/b");
    CHECK_FALSE(parse("mqtt://h/a/+"));
    CHECK(parse("mqtt://h")->path.empty());
}

TEST_CASE("url query keys client_id version keepalive and unknown keys") {
    auto u = parse("mqtt://h?client_id=abc%2Fd&version=311&keepalive=30");
    REQUIRE(u);
    CHECK(*u->client_id == "abc/d");
    CHECK(*u->version == "311");
    CHECK(*u->keepalive == 30);
    CHECK_FALSE(parse("mqtt://h?version=3"));
    CHECK_FALSE(parse("mqtt://h?keepalive=70000"));
    CHECK_FALSE(parse("mqtt://h?colour=red"));
}

TEST_CASE("url percent decoding rejects bad escapes") {
    CHECK(percent_decode("a%41%6a") == std::optional<std::string>("aAj"));
    CHECK_FALSE(percent_decode("%4"));
    CHECK_FALSE(percent_decode("%zz"));
    CHECK_FALSE(parse("mqtt://u%4:p@h"));
    CHECK(*parse("mqtt://u%3Ax:p%3Ay@h")->username == "u:x");
    CHECK_FALSE(parse("mqtt://u:p:q@h"));
}
