// SPDX-License-Identifier: MIT
#include <mqtt/core/retained_store.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <mqtt/codec/topic.hpp>

#include "topic_gen.hpp"

using mqtt::core::retained_store;
using msg_ptr = std::shared_ptr<const mqtt::publish>;

namespace {

msg_ptr make(std::string topic, std::string_view payload) {
    auto p = std::make_shared<mqtt::publish>();
    p->topic = std::move(topic);
    p->payload.assign(payload.begin(), payload.end());
    p->retain = true;
    return p;
}

std::set<std::string> topics(const retained_store& rs, std::string_view filter) {
    std::vector<msg_ptr> out;
    rs.match(filter, out);
    std::set<std::string> result;
    for (const msg_ptr& m : out) CHECK(result.insert(m->topic).second);  // no duplicates
    return result;
}

std::string payload_of(const retained_store& rs, std::string_view topic) {
    std::vector<msg_ptr> out;
    rs.match(topic, out);
    if (out.size() != 1) return "<" + std::to_string(out.size()) + " messages>";
    return std::string(out[0]->payload.begin(), out[0]->payload.end());
}

}  // namespace

TEST_CASE("MQTT-3.3.1-5 a retained message replaces the previous one on its topic") {
    retained_store rs;
    CHECK(rs.set(make("a/b", "one")));
    CHECK(rs.set(make("a/b", "two")));
    CHECK(rs.size() == 1);
    CHECK(payload_of(rs, "a/b") == "two");
    CHECK(rs.bytes() == 3 + 3);
}

TEST_CASE("MQTT-3.3.1-6 a zero-length retained payload removes the retained message") {
    retained_store rs;
    rs.set(make("a/b", "one"));
    rs.set(make("a/c", "two"));
    CHECK(rs.set(make("a/b", "")));
    CHECK(rs.size() == 1);
    CHECK(topics(rs, "#") == std::set<std::string>{"a/c"});
    CHECK(rs.bytes() == 3 + 3);
}

TEST_CASE("MQTT-3.3.1-7 a zero-length retained payload is not stored") {
    retained_store rs;
    CHECK(rs.set(make("x", "")));
    CHECK(rs.size() == 0);
    CHECK(rs.node_count() == 0);
    CHECK(topics(rs, "#").empty());
}

TEST_CASE("match hands out the stored message without copying it") {
    retained_store rs;
    const msg_ptr m = make("t", "payload");
    rs.set(m);
    std::vector<msg_ptr> out;
    rs.match("t", out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].get() == m.get());
}

TEST_CASE("match with exact, plus and hash filters") {
    retained_store rs;
    for (const char* t : {"a", "a/b", "a/c", "a/b/c", "b/b", "/a", "a/"}) rs.set(make(t, "p"));
    CHECK(topics(rs, "a/b") == std::set<std::string>{"a/b"});
    CHECK(topics(rs, "a/+") == std::set<std::string>{"a/b", "a/c", "a/"});
    CHECK(topics(rs, "+/b") == std::set<std::string>{"a/b", "b/b"});
    CHECK(topics(rs, "+/+/c") == std::set<std::string>{"a/b/c"});
    CHECK(topics(rs, "+/a") == std::set<std::string>{"/a"});
    CHECK(topics(rs, "a/#") == std::set<std::string>{"a", "a/b", "a/c", "a/b/c", "a/"});
    CHECK(topics(rs, "#").size() == 7);
    CHECK(topics(rs, "c/#").empty());
    CHECK(topics(rs, "a/b/c/d").empty());
}

TEST_CASE("MQTT-4.7.2-1 first-level wildcards do not return dollar topics") {
    retained_store rs;
    for (const char* t : {"$SYS/broker/uptime", "$SYS", "x/$SYS", "plain"}) rs.set(make(t, "p"));
    CHECK(topics(rs, "#") == std::set<std::string>{"x/$SYS", "plain"});
    CHECK(topics(rs, "+/broker/uptime").empty());
    CHECK(topics(rs, "+") == std::set<std::string>{"plain"});
    CHECK(topics(rs, "$SYS/#") == std::set<std::string>{"$SYS", "$SYS/broker/uptime"});
    CHECK(topics(rs, "$SYS/+/uptime") == std::set<std::string>{"$SYS/broker/uptime"});
    CHECK(topics(rs, "x/+") == std::set<std::string>{"x/$SYS"});
}

TEST_CASE("erase removes one topic and prunes its branch") {
    retained_store rs;
    rs.set(make("a/b/c", "1"));
    rs.set(make("a/b", "2"));
    CHECK(rs.node_count() == 3);
    rs.erase("a/b/c");
    CHECK(rs.size() == 1);
    CHECK(rs.node_count() == 2);
    rs.erase("a/b/c");  // already gone
    rs.erase("nothing/here");
    CHECK(rs.size() == 1);
    rs.erase("a/b");
    CHECK(rs.size() == 0);
    CHECK(rs.bytes() == 0);
    CHECK(rs.node_count() == 0);
}

TEST_CASE("erase of an inner topic keeps the messages below it") {
    retained_store rs;
    rs.set(make("a", "1"));
    rs.set(make("a/b", "2"));
    rs.erase("a");
    CHECK(topics(rs, "#") == std::set<std::string>{"a/b"});
    CHECK(rs.node_count() == 2);
}

TEST_CASE("max_messages refuses new topics but allows replacing") {
    retained_store rs;
    rs.max_messages = 2;
    CHECK(rs.set(make("a", "1")));
    CHECK(rs.set(make("b", "2")));
    CHECK_FALSE(rs.set(make("c", "3")));
    CHECK(rs.size() == 2);
    CHECK(rs.node_count() == 2);  // the refused topic left no node
    CHECK(rs.set(make("a", "new")));
    CHECK(payload_of(rs, "a") == "new");
    CHECK(rs.set(make("a", "")));  // deleting is always possible
    CHECK(rs.set(make("c", "3")));
}

TEST_CASE("max_bytes counts topic and payload and keeps the old message when full") {
    retained_store rs;
    rs.max_bytes = 10;
    CHECK(rs.set(make("ab", "123456")));  // 8 bytes
    CHECK_FALSE(rs.set(make("c", "12")));  // would be 11
    CHECK_FALSE(rs.set(make("ab", "123456789")));
    CHECK(payload_of(rs, "ab") == "123456");
    CHECK(rs.set(make("ab", "12345678")));  // exactly 10
    CHECK(rs.bytes() == 10);
}

TEST_CASE("set rejects a null message or an empty topic") {
    retained_store rs;
    CHECK_FALSE(rs.set(nullptr));
    CHECK_FALSE(rs.set(make("", "x")));
    CHECK(rs.size() == 0);
}

TEST_CASE("a 30000-level retained topic is stored, matched and erased without recursion") {
    retained_store rs;
    std::string deep;
    for (int i = 0; i < 30'000; ++i) deep += "l/";
    deep += "end";
    REQUIRE_FALSE(mqtt::check_topic_name(deep));
    CHECK(rs.set(make(deep, "p")));
    CHECK(rs.node_count() == 30'001);
    CHECK(topics(rs, "#") == std::set<std::string>{deep});
    CHECK(topics(rs, "l/+/#") == std::set<std::string>{deep});
    CHECK(topics(rs, deep) == std::set<std::string>{deep});
    rs.erase(deep);
    CHECK(rs.node_count() == 0);
    // A second deep topic is left for the destructor to tear down iteratively.
    CHECK(rs.set(make(deep, "p")));
}

TEST_CASE("moved store keeps its messages") {
    retained_store a;
    a.set(make("k", "v"));
    retained_store b{std::move(a)};
    CHECK(b.size() == 1);
    retained_store c;
    c.set(make("q", "w"));
    c = std::move(b);
    CHECK(topics(c, "#") == std::set<std::string>{"k"});
}

TEST_CASE("property: match equals brute force over the stored topics (seed 777)") {
    std::mt19937 rng{777};
    for (int round = 0; round < 20; ++round) {
        retained_store rs;
        std::map<std::string, std::string> stored;  // topic -> payload
        std::size_t bytes = 0;
        for (int op = 0; op < 150; ++op) {
            const std::string topic = mq_test::random_name(rng);
            const std::size_t r = mq_test::pick(rng, 6);
            if (r == 0) {
                rs.erase(topic);
                if (auto it = stored.find(topic); it != stored.end()) {
                    bytes -= topic.size() + it->second.size();
                    stored.erase(it);
                }
                continue;
            }
            // One in six is a zero-length payload: a delete [MQTT-3.3.1-6].
            const std::string payload = r == 1 ? "" : std::to_string(op);
            CHECK(rs.set(make(topic, payload)));
            if (auto it = stored.find(topic); it != stored.end()) {
                bytes -= topic.size() + it->second.size();
                stored.erase(it);
            }
            if (!payload.empty()) {
                stored[topic] = payload;
                bytes += topic.size() + payload.size();
            }
        }
        CHECK(rs.size() == stored.size());
        CHECK(rs.bytes() == bytes);
        for (int i = 0; i < 200; ++i) {
            const std::string filter = mq_test::random_filter(rng);
            std::vector<msg_ptr> out;
            rs.match(filter, out);
            std::map<std::string, std::string> got;
            for (const msg_ptr& m : out) {
                CHECK(got.emplace(m->topic, std::string(m->payload.begin(), m->payload.end())).second);
            }
            std::map<std::string, std::string> expected;
            for (const auto& [topic, payload] : stored) {
                if (mqtt::topic_matches(filter, topic)) expected.emplace(topic, payload);
            }
            INFO("filter: " << filter);
            CHECK(got == expected);
        }
        for (const auto& entry : stored) rs.erase(entry.first);
        CHECK(rs.size() == 0);
        CHECK(rs.bytes() == 0);
        CHECK(rs.node_count() == 0);
    }
}
