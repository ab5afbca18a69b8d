// SPDX-License-Identifier: MIT
// ACL file parsing and decisions: first match wins, default deny, %u/%c,
// subscription coverage.
#include <doctest/doctest.h>

#include <string>

#include <mqtt/core/acl.hpp>

using namespace mqtt::core;

namespace {

acl parse_ok(const std::string& text) {
    file_error err;
    auto a = acl::parse(text, err);
    REQUIRE_MESSAGE(a.has_value(), err.message);
    return std::move(*a);
}

const acl_subject alice{std::string_view("alice"), "dev-1"};
const acl_subject bob{std::string_view("bob"), "dev-2"};
const acl_subject anon{std::nullopt, "anon-1"};

}  // namespace

TEST_CASE("J04 an empty ACL file or one with only comments denies everything") {
    for (const char* text : {"", "# nothing\n\n   \n"}) {
        const acl a = parse_ok(text);
        CHECK(a.rules().empty());
        CHECK_FALSE(a.may_write(alice, "a"));
        CHECK_FALSE(a.may_read(alice, "a"));
        CHECK_FALSE(a.may_subscribe(alice, "#"));
    }
}

TEST_CASE("ACL rules: WHO, ACCESS and filter decide, first match wins") {
    const acl a = parse_ok(
        "# comment\n"
        "deny user:alice write a/secret\n"
        "allow user:alice readwrite a/#\n"
        "allow * read pub/+\n"
        "allow anonymous write anon/in\n"
        "allow * write sensors/temp room\n");
    CHECK(a.rules().size() == 5);
    CHECK(a.rules()[1].line == 3);
    CHECK(a.may_write(alice, "a/x"));
    CHECK(a.may_write(alice, "a"));  // '#' matches the parent level
    CHECK_FALSE(a.may_write(alice, "a/secret"));
    CHECK(a.may_read(alice, "a/secret"));  // the deny rule is write-only
    CHECK_FALSE(a.may_write(bob, "a/x"));
    CHECK(a.may_read(bob, "pub/news"));
    CHECK_FALSE(a.may_read(bob, "pub/news/x"));
    CHECK_FALSE(a.may_write(bob, "pub/news"));
    CHECK(a.may_write(anon, "anon/in"));
    CHECK_FALSE(a.may_write(alice, "anon/in"));
    CHECK(a.may_write(bob, "sensors/temp room"));  // the filter is the rest of the line
}

TEST_CASE("J09 %u and %c expand, and never match a missing or wildcard-bearing value") {
    const acl a = parse_ok("allow * readwrite users/%u/#\nallow * write clients/%c\n");
    CHECK(a.may_write(alice, "users/alice/x"));
    CHECK_FALSE(a.may_write(alice, "users/bob/x"));
    CHECK(a.may_read(bob, "users/bob"));
    CHECK(a.may_write(alice, "clients/dev-1"));
    CHECK_FALSE(a.may_write(alice, "clients/dev-2"));
    CHECK_FALSE(a.may_write(anon, "users//x"));  // anonymous: no %u
    const acl_subject slashy{std::string_view("x/y"), "c/d"};
    CHECK_FALSE(a.may_write(slashy, "users/x/y/z"));
    CHECK_FALSE(a.may_write(slashy, "clients/c/d"));
    const acl_subject wild{std::string_view("+"), "#"};
    CHECK_FALSE(a.may_write(wild, "users/anything/x"));
    CHECK_FALSE(a.may_write(wild, "clients/x"));
}

TEST_CASE("subscribe needs a read rule covering the whole filter; partial denies are left to delivery") {
    const acl a = parse_ok(
        "deny * read secret/#\n"
        "allow user:alice read #\n"
        "allow user:bob read sensors/+/temp\n");
    CHECK(a.may_subscribe(alice, "#"));
    CHECK_FALSE(a.may_subscribe(alice, "secret/#"));
    CHECK_FALSE(a.may_subscribe(alice, "secret/x"));
    CHECK_FALSE(a.may_read(alice, "secret/x"));  // delivery check applies the deny
    CHECK(a.may_subscribe(bob, "sensors/+/temp"));
    CHECK(a.may_subscribe(bob, "sensors/kitchen/temp"));
    CHECK(a.may_subscribe(bob, "$share/g/sensors/+/temp"));  // the group is ignored
    CHECK_FALSE(a.may_subscribe(bob, "sensors/#"));
    CHECK_FALSE(a.may_subscribe(bob, "sensors/+/+"));
}

TEST_CASE("a shared-subscription filter in the ACL file is refused") {
    file_error err;
    CHECK_FALSE(acl::parse("allow * read $share/g/x\n", err));
    CHECK(err.line == 1);
}

TEST_CASE("filter_covers follows the wildcard and $ rules") {
    CHECK(filter_covers("#", "a/b"));
    CHECK(filter_covers("#", "#"));
    CHECK(filter_covers("a/#", "a"));
    CHECK(filter_covers("a/#", "a/+/c"));
    CHECK(filter_covers("+/b", "x/b"));
    CHECK(filter_covers("+/b", "+/b"));
    CHECK(filter_covers("a/b", "a/b"));
    CHECK_FALSE(filter_covers("a/b", "a/+"));
    CHECK_FALSE(filter_covers("a/+", "a/#"));
    CHECK_FALSE(filter_covers("a/+", "a/b/c"));
    CHECK_FALSE(filter_covers("a/b/c", "a/b"));
    CHECK_FALSE(filter_covers("#", "$SYS/x"));  // [MQTT-4.7.2-1]
    CHECK_FALSE(filter_covers("+/x", "$SYS/x"));
    CHECK(filter_covers("$SYS/#", "$SYS/broker/uptime"));
    CHECK(filter_covers("a//c", "a//c"));
}

TEST_CASE("J04 a malformed ACL line names the line and the problem") {
    struct row {
        std::string text;
        std::string says;
    };
    const std::vector<row> rows = {
        {"permit * read a", "expected 'allow' or 'deny'"},
        {"allow someone read a", "expected 'user:NAME', 'anonymous' or '*'"},
        {"allow user: read a", "expected 'user:NAME'"},
        {"allow * subscribe a", "expected 'read', 'write' or 'readwrite'"},
        {"allow * read", "missing topic filter"},
        {"allow * read a/#/b", "invalid topic filter 'a/#/b'"},
        {"allow * read a+", "invalid topic filter"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.text);
        file_error err;
        CHECK_FALSE(acl::parse("# ok\nallow * read x\n" + r.text + "\n", err));
        CHECK(err.line == 3);
        CHECK(err.message.find(r.says) != std::string::npos);
    }
}
