// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstdint>
#include <ostream>  // doctest prints std::error_code through operator<<
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/topic.hpp>

using mqtt::check_topic_filter;
using mqtt::check_topic_name;
using mqtt::codec_error;
using mqtt::make_error_code;
using mqtt::topic_matches;

namespace {

std::error_code err(codec_error e) { return make_error_code(e); }

// Reference helpers written independently of topic.cpp: split into levels
// with a vector, then compare level by level.
std::vector<std::string> split_levels(std::string_view s) {
    std::vector<std::string> out(1);
    for (char c : s) {
        if (c == '/') {
            out.emplace_back();
        } else {
            out.back().push_back(c);
        }
    }
    return out;
}

bool reference_match(std::string_view filter, std::string_view name) {
    const auto f = split_levels(filter);
    const auto n = split_levels(name);
    if (!name.empty() && name[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "#") return true;
        if (i >= n.size()) return false;
        if (f[i] != "+" && f[i] != n[i]) return false;
    }
    return f.size() == n.size();
}

bool reference_filter_valid(std::string_view filter) {
    if (filter.empty()) return false;
    const auto f = split_levels(filter);
    for (std::size_t i = 0; i < f.size(); ++i) {
        const bool wild = f[i].find_first_of("+#") != std::string::npos;
        if (!wild) continue;
        if (f[i] == "+") continue;
        if (f[i] == "#" && i + 1 == f.size()) continue;
        return false;
    }
    return true;
}

std::string repeat_levels(std::string_view level, std::size_t count) {
    std::string s;
    s.reserve(count * (level.size() + 1));
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0) s.push_back('/');
        s += level;
    }
    return s;
}

}  // namespace

TEST_CASE("MQTT-4.7.0-1 v311 MQTT-4.7.1-1 MQTT-3.3.2-2 a topic name must not contain wildcards") {
    for (std::string_view name : {"a/+", "#", "+", "a/#", "sport+", "a/b#c", "+/x"}) {
        CAPTURE(name);
        CHECK(check_topic_name(name) == err(codec_error::topic_name_has_wildcard));
    }
    CHECK(mqtt::reason_of(check_topic_name("a/+")) == mqtt::reason::topic_name_invalid);
}

TEST_CASE("MQTT-4.7.1-1 v311 MQTT-4.7.1-2 multi-level wildcard is alone in the last level") {
    for (std::string_view f : {"#", "sport/#", "sport/tennis/player1/#", "/#", "+/#", "$SYS/#"}) {
        CAPTURE(f);
        CHECK_FALSE(check_topic_filter(f));
    }
    for (std::string_view f :
         {"sport/tennis#", "sport/tennis/#/ranking", "#/", "##", "a/#/#", "#a", "a#"}) {
        CAPTURE(f);
        CHECK(check_topic_filter(f) == err(codec_error::topic_filter_invalid));
    }
    CHECK(mqtt::reason_of(check_topic_filter("a#")) == mqtt::reason::topic_filter_invalid);
}

TEST_CASE("MQTT-4.7.1-2 v311 MQTT-4.7.1-3 single-level wildcard occupies a whole level") {
    for (std::string_view f :
         {"+", "+/tennis/#", "sport/+/player1", "+/+", "/+", "+/", "a//+//b"}) {
        CAPTURE(f);
        CHECK_FALSE(check_topic_filter(f));
    }
    for (std::string_view f : {"sport+", "+sport", "a/b+/c", "a/++", "+a/b"}) {
        CAPTURE(f);
        CHECK(check_topic_filter(f) == err(codec_error::topic_filter_invalid));
    }
}

TEST_CASE("MQTT-4.7.1-1 spec examples for the multi-level wildcard") {
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
    CHECK(topic_matches("sport/#", "sport"));  // '#' includes the parent level
    CHECK(topic_matches("sport/#", "sport/"));
    CHECK(topic_matches("#", "sport/tennis/player1"));
    CHECK(topic_matches("#", "/"));
    CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis/player2"));
    CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis"));
    CHECK_FALSE(topic_matches("sport/#", "sports"));
    CHECK_FALSE(topic_matches("sport/tennis/#", "sport"));
}

TEST_CASE("MQTT-4.7.1-2 spec examples for the single-level wildcard") {
    CHECK(topic_matches("sport/tennis/+", "sport/tennis/player1"));
    CHECK(topic_matches("sport/tennis/+", "sport/tennis/player2"));
    CHECK_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
    CHECK_FALSE(topic_matches("sport/+", "sport"));
    CHECK(topic_matches("sport/+", "sport/"));  // '+' matches an empty level
    CHECK(topic_matches("+/+", "/finance"));
    CHECK(topic_matches("/+", "/finance"));
    CHECK_FALSE(topic_matches("+", "/finance"));
    CHECK(topic_matches("+", "finance"));
    CHECK(topic_matches("sport/+/player1", "sport/tennis/player1"));
    CHECK(topic_matches("+/tennis/#", "sport/tennis/player1/ranking"));
    CHECK(topic_matches("+/tennis/#", "sport/tennis"));
    CHECK(topic_matches("a/+/b", "a//b"));
    CHECK(topic_matches("+/+/+", "//"));
    CHECK_FALSE(topic_matches("+/+", "a"));
}

TEST_CASE("MQTT-4.7.2-1 wildcards at the start do not match names beginning with a dollar") {
    CHECK_FALSE(topic_matches("#", "$SYS/broker/uptime"));
    CHECK_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
    CHECK_FALSE(topic_matches("+", "$foo"));
    CHECK_FALSE(topic_matches("+/#", "$foo/x"));
    CHECK(topic_matches("$SYS/#", "$SYS/broker/uptime"));
    CHECK(topic_matches("$SYS/#", "$SYS"));
    CHECK(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    CHECK(topic_matches("$foo/x", "$foo/x"));
    // Only the first character of the name counts.
    CHECK(topic_matches("#", "a/$SYS"));
    CHECK(topic_matches("+/$x", "a/$x"));
    // $SYS names are valid names and filters, but not shared filters.
    CHECK_FALSE(check_topic_name("$SYS/broker/clients/connected"));
    CHECK_FALSE(check_topic_filter("$SYS/broker/+"));
}

TEST_CASE("MQTT-4.7.3-1 topic names and filters are at least one character long") {
    CHECK(check_topic_name("") == err(codec_error::topic_name_empty));
    CHECK(check_topic_filter("") == err(codec_error::topic_filter_invalid));
    CHECK_FALSE(check_topic_name("/"));
    CHECK_FALSE(check_topic_name("a"));
    CHECK_FALSE(check_topic_filter("/"));
    CHECK_FALSE(topic_matches("", ""));
    CHECK_FALSE(topic_matches("#", ""));
}

TEST_CASE("MQTT-4.7.3-2 MQTT-1.5.4-2 topic names and filters must not contain the null character") {
    using namespace std::string_view_literals;
    CHECK(check_topic_name("a\0b"sv) == err(codec_error::null_character));
    CHECK(check_topic_filter("a/\0/#"sv) == err(codec_error::null_character));
    CHECK(check_topic_filter("$share/g\0/a"sv) == err(codec_error::null_character));
}

TEST_CASE("MQTT-1.5.4-1 topic names and filters must be well-formed UTF-8") {
    for (std::string_view bad :
         {"a/\xff", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "x\xe2\x82"}) {
        CAPTURE(bad);
        CHECK(check_topic_name(bad) == err(codec_error::invalid_utf8));
        CHECK(check_topic_filter(bad) == err(codec_error::invalid_utf8));
    }
    CHECK(mqtt::reason_of(check_topic_name("\xff")) == mqtt::reason::malformed_packet);
}

TEST_CASE("MQTT-1.5.4-3 a topic starting with a BOM is kept as it is") {
    const std::string bom_topic =
        "\xef\xbb\xbf"
        "a/b";
    CHECK_FALSE(check_topic_name(bom_topic));
    CHECK(topic_matches(bom_topic, bom_topic));
    CHECK_FALSE(topic_matches("a/b", bom_topic));  // no stripping, no normalisation
    CHECK(topic_matches("+/b", bom_topic));
}

TEST_CASE("MQTT-4.7.3-3 topic names and filters are at most 65535 bytes") {
    CHECK_FALSE(check_topic_name(std::string(65'535, 'a')));
    CHECK(check_topic_name(std::string(65'536, 'a')) == err(codec_error::string_too_long));
    CHECK_FALSE(check_topic_filter(std::string(65'535, 'a')));
    CHECK(check_topic_filter(std::string(65'536, 'a')) == err(codec_error::topic_filter_invalid));
}

TEST_CASE("MQTT-4.7.3-4 matching is case sensitive and does not normalise") {
    CHECK_FALSE(topic_matches("ACCOUNTS", "Accounts"));
    CHECK(topic_matches("Accounts payable", "Accounts payable"));
    CHECK_FALSE(topic_matches("finance", "/finance"));
    CHECK_FALSE(topic_matches("a/b", "a/b/"));
    CHECK_FALSE(topic_matches("a//b", "a/b"));
    // U+00E9 precomposed vs e + U+0301 combining are different topics.
    CHECK_FALSE(topic_matches("caf\xc3\xa9", "cafe\xcc\x81"));
}

TEST_CASE("control characters are valid in topics at the codec level") {
    // Refusing them is a server policy (hardening B13), not a topic rule.
    CHECK_FALSE(check_topic_name("a/\x01/b"));
    CHECK_FALSE(check_topic_name("a/\x1b[2J"));
    CHECK_FALSE(check_topic_filter("a/\x7f/+"));
}

TEST_CASE("level limit counts slash-separated levels") {
    CHECK_FALSE(check_topic_name("a/b", 2));
    CHECK(check_topic_name("a/b/c", 2) == err(codec_error::topic_name_invalid));
    CHECK(check_topic_name("a//", 2) == err(codec_error::topic_name_invalid));
    CHECK(mqtt::reason_of(check_topic_name("a/b/c", 2)) == mqtt::reason::topic_name_invalid);
    CHECK_FALSE(check_topic_filter("a/#", 2));
    CHECK(check_topic_filter("a/+/#", 2) == err(codec_error::topic_filter_invalid));
    // For a shared subscription the levels of the filter proper count.
    CHECK_FALSE(check_topic_filter("$share/g/a/b", 2));
    CHECK(check_topic_filter("$share/g/a/b/c", 2) == err(codec_error::topic_filter_invalid));
}

TEST_CASE("hardening D06 too many levels are refused and matching stays iterative") {
    // 65,535 slashes: the longest legal string, holding 65,536 empty levels.
    const std::string slashes(65'535, '/');
    CHECK(check_topic_filter(slashes) == err(codec_error::topic_filter_invalid));
    CHECK_FALSE(check_topic_filter(slashes, 65'536));
    CHECK(check_topic_name(slashes) == err(codec_error::topic_name_invalid));
    CHECK_FALSE(check_topic_name(slashes, 65'536));
    CHECK(topic_matches(slashes, slashes));
    // 100,000 levels, beyond any valid size: the matcher has no depth limit
    // to hit because it does not recurse.
    const std::string deep_filter = repeat_levels("+", 100'000) + "/#";
    const std::string deep_name = repeat_levels("a", 100'000);
    CHECK(topic_matches(deep_filter, deep_name + "/tail/more"));
    CHECK(topic_matches(deep_filter, deep_name));  // '#' matches the parent too
    CHECK_FALSE(topic_matches(deep_filter, repeat_levels("a", 99'999)));
    CHECK(topic_matches(deep_name, deep_name));
    CHECK_FALSE(topic_matches(deep_name, deep_name + "/"));
}

TEST_CASE("MQTT-4.8.2-1 MQTT-4.8.2-2 shared subscription syntax") {
    std::error_code ec;
    auto s = mqtt::parse_shared("$share/consumer1/sport/tennis/+", ec);
    REQUIRE(s);
    CHECK_FALSE(ec);
    CHECK(s->group == "consumer1");
    CHECK(s->filter == "sport/tennis/+");

    s = mqtt::parse_shared("$share/consumer1//finance", ec);
    REQUIRE(s);
    CHECK_FALSE(ec);
    CHECK(s->filter == "/finance");

    s = mqtt::parse_shared("$share/g/#", ec);
    REQUIRE(s);
    CHECK_FALSE(ec);
    CHECK(s->filter == "#");

    // Not shared at all: no error.
    for (std::string_view f :
         {"sport/tennis", "$share", "$sharex/a/b", "$SHARE/g/a", "a/$share/g/b"}) {
        CAPTURE(f);
        ec = err(codec_error::truncated);  // parse_shared must clear it
        CHECK_FALSE(mqtt::parse_shared(f, ec));
        CHECK_FALSE(ec);
    }
    // Hardening D04 and friends.
    for (std::string_view f : {"$share//a", "$share/na+me/a", "$share/na#me/a", "$share/name",
                               "$share/name/", "$share/", "$share/+/a", "$share/#"}) {
        CAPTURE(f);
        ec.clear();
        CHECK(mqtt::parse_shared(f, ec));
        CHECK(ec == err(codec_error::topic_filter_invalid));
        CHECK(check_topic_filter(f) == err(codec_error::topic_filter_invalid));
    }
}

TEST_CASE("MQTT-4.8.2-2 the filter of a shared subscription follows the filter rules") {
    CHECK_FALSE(check_topic_filter("$share/g/sport/tennis/+"));
    CHECK_FALSE(check_topic_filter("$share/g/$SYS/#"));
    CHECK_FALSE(check_topic_filter("$share/g/+"));
    CHECK(check_topic_filter("$share/g/a#") == err(codec_error::topic_filter_invalid));
    CHECK(check_topic_filter("$share/g/#/a") == err(codec_error::topic_filter_invalid));
    CHECK(check_topic_filter("$share/g/a+") == err(codec_error::topic_filter_invalid));
    // "$share" without the slash is an ordinary filter.
    CHECK_FALSE(check_topic_filter("$share"));
    CHECK_FALSE(check_topic_filter("$share/g/\xef\xbb\xbf"));
}

TEST_CASE("has_wildcard sees plus and hash anywhere") {
    CHECK(mqtt::has_wildcard("a/+/b"));
    CHECK(mqtt::has_wildcard("#"));
    CHECK(mqtt::has_wildcard("$share/g/a/#"));
    CHECK_FALSE(mqtt::has_wildcard("a/b"));
    CHECK_FALSE(mqtt::has_wildcard("$share/g/a"));
    CHECK_FALSE(mqtt::has_wildcard("$SYS/x"));
}

TEST_CASE("property: topic_matches agrees with a brute-force reference on random pairs") {
    // Levels from a small alphabet so that equal, empty, '$' and wildcard
    // levels collide often. Fixed seed: failures reproduce.
    std::mt19937 rng(5'000);
    const std::string_view filter_levels[] = {"a", "b", "$x", "", "+", "#"};
    const std::string_view name_levels[] = {"a", "b", "$x", ""};
    std::uniform_int_distribution<int> count(1, 4);
    std::size_t matched = 0;
    std::size_t mismatches = 0;
    std::size_t checked = 0;
    for (int round = 0; round < 5'000; ++round) {
        std::string filter;
        std::string name;
        const int fl = count(rng);
        for (int i = 0; i < fl; ++i) {
            if (i != 0) filter.push_back('/');
            filter += filter_levels[rng() % std::size(filter_levels)];
        }
        const int nl = count(rng);
        for (int i = 0; i < nl; ++i) {
            if (i != 0) name.push_back('/');
            name += name_levels[rng() % std::size(name_levels)];
        }
        CAPTURE(filter);
        CAPTURE(name);
        // Validity of the filter against the reference, whatever it is.
        CHECK(!check_topic_filter(filter) == reference_filter_valid(filter));
        if (check_topic_filter(filter) || check_topic_name(name)) continue;
        ++checked;
        const bool expected = reference_match(filter, name);
        if (topic_matches(filter, name) != expected) {
            ++mismatches;
            FAIL_CHECK("topic_matches disagrees with the reference");
        }
        if (expected) ++matched;
        // Invariants: a valid name matches itself; '#' matches every name not
        // starting with '$'.
        CHECK(topic_matches(name, name));
        CHECK(topic_matches("#", name) == (name[0] != '$'));
    }
    CHECK(mismatches == 0);
    CHECK(checked > 1'000);
    CHECK(matched > 100);  // both outcomes are exercised
    CHECK(checked - matched > 100);
}

TEST_CASE("property: check_topic_filter agrees with a level-split reference on random strings") {
    std::mt19937 rng(4'242);
    const char alphabet[] = {'a', '$', '+', '#', '/'};
    std::uniform_int_distribution<int> length(1, 8);
    std::size_t valid = 0;
    for (int round = 0; round < 20'000; ++round) {
        std::string f;
        const int n = length(rng);
        for (int i = 0; i < n; ++i) f.push_back(alphabet[rng() % std::size(alphabet)]);
        CAPTURE(f);
        const bool expected = reference_filter_valid(f);
        CHECK(!check_topic_filter(f) == expected);
        // As a name, only wildcard-free strings pass.
        CHECK(!check_topic_name(f) == (f.find_first_of("+#") == std::string::npos));
        if (expected) ++valid;
    }
    CHECK(valid > 1'000);
}
