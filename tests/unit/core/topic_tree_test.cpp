// SPDX-License-Identifier: MIT
#include <mqtt/core/topic_tree.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <mqtt/codec/topic.hpp>

#include "topic_gen.hpp"

using mqtt::core::detail::split_levels;
using mqtt::core::detail::subscriber;
using mqtt::core::detail::topic_node;
using mqtt::core::detail::topic_tree;

namespace {

// The filter a node stands for, rebuilt from its parent chain.
std::string filter_of(const topic_node* n) {
    std::vector<std::string> levels;
    for (; n->parent != nullptr; n = n->parent) {
        if (n->parent->plus.get() == n) {
            levels.emplace_back("+");
        } else if (n->parent->hash.get() == n) {
            levels.emplace_back("#");
        } else {
            levels.emplace_back(n->key);
        }
    }
    std::string out;
    for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
        if (it != levels.rbegin()) out += '/';
        out += *it;
    }
    return out;
}

// Marks a node as holding a subscription so match() reports it.
void add(topic_tree& t, std::string_view filter, mqtt::core::session_ref s = 1) {
    t.insert(filter).subscribers.push_back(subscriber{s, {}});
}

std::set<std::string> matches(topic_tree& t, std::string_view topic) {
    std::vector<topic_node*> nodes;
    t.match(topic, nodes);
    std::set<std::string> out;
    for (const topic_node* n : nodes) {
        // Each node at most once.
        CHECK(out.insert(filter_of(n)).second);
    }
    return out;
}

void remove(topic_tree& t, std::string_view filter) {
    topic_node* n = t.find(filter);
    REQUIRE(n != nullptr);
    n->subscribers.clear();
    t.prune(*n);
}

std::string repeat_levels(std::string_view level, std::size_t count, std::string_view last) {
    std::string out;
    out.reserve((level.size() + 1) * count + last.size());
    for (std::size_t i = 0; i < count; ++i) {
        out += level;
        out += '/';
    }
    out += last;
    return out;
}

}  // namespace

TEST_CASE("split_levels keeps empty levels and points into the topic") {
    std::vector<std::string_view> out{"stale"};
    split_levels("a//b/", out);
    CHECK(out == std::vector<std::string_view>{"a", "", "b", ""});
    split_levels("/", out);
    CHECK(out == std::vector<std::string_view>{"", ""});
    split_levels("abc", out);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == "abc");
}

TEST_CASE("insert creates one node per level and find never creates") {
    topic_tree t;
    CHECK(t.empty());
    CHECK(t.find("a/b") == nullptr);
    CHECK(t.node_count() == 0);
    topic_node& ab = t.insert("a/b");
    CHECK(t.node_count() == 2);
    CHECK(&t.insert("a/b") == &ab);
    CHECK(t.node_count() == 2);
    t.insert("a/+/#");
    CHECK(t.node_count() == 4);
    CHECK(t.find("a/+/#") != nullptr);
    CHECK(t.find("a/+") != nullptr);
    CHECK(t.find("a/#") == nullptr);
    CHECK(t.find("a/b/c") == nullptr);
    CHECK(filter_of(t.find("a/+/#")) == "a/+/#");
    CHECK(filter_of(&ab) == "a/b");
}

TEST_CASE("prune removes the empty branch but keeps shared ancestors") {
    topic_tree t;
    add(t, "a/b/c");
    add(t, "a/x");
    CHECK(t.node_count() == 4);
    remove(t, "a/b/c");
    CHECK(t.node_count() == 2);  // "a" and "a/x" remain
    CHECK(t.find("a/b") == nullptr);
    CHECK(matches(t, "a/x") == std::set<std::string>{"a/x"});
    add(t, "a");
    remove(t, "a/x");
    CHECK(t.node_count() == 1);  // "a" still has a subscriber
    remove(t, "a");
    CHECK(t.empty());
}

TEST_CASE("prune keeps a node that still has children") {
    topic_tree t;
    add(t, "a");
    add(t, "a/+/c");
    topic_node* a = t.find("a");
    REQUIRE(a != nullptr);
    a->subscribers.clear();
    t.prune(*a);
    CHECK(t.node_count() == 3);
    CHECK(matches(t, "a/q/c") == std::set<std::string>{"a/+/c"});
}

TEST_CASE("match exact, plus and hash children") {
    topic_tree t;
    for (const char* f : {"a/b", "a/+", "+/b", "#", "a/b/#", "+", "a/+/c", "+/+"}) add(t, f);
    CHECK(matches(t, "a/b") == std::set<std::string>{"a/b", "a/+", "+/b", "#", "a/b/#", "+/+"});
    CHECK(matches(t, "a") == std::set<std::string>{"#", "+"});
    CHECK(matches(t, "a/b/c") == std::set<std::string>{"#", "a/b/#", "a/+/c"});
    CHECK(matches(t, "x/y/z") == std::set<std::string>{"#"});
}

TEST_CASE("MQTT-4.7.1-1 hash matches the parent level too") {
    topic_tree t;
    add(t, "a/#");
    add(t, "a/b/#");
    CHECK(matches(t, "a") == std::set<std::string>{"a/#"});
    CHECK(matches(t, "a/b") == std::set<std::string>{"a/#", "a/b/#"});
    CHECK(matches(t, "b").empty());
}

TEST_CASE("empty levels are ordinary levels") {
    topic_tree t;
    add(t, "/a");
    add(t, "+/a");
    add(t, "a/");
    add(t, "a/+");
    CHECK(matches(t, "/a") == std::set<std::string>{"/a", "+/a"});
    CHECK(matches(t, "a/") == std::set<std::string>{"a/", "a/+"});
    CHECK(matches(t, "a").empty());
}

TEST_CASE("MQTT-4.7.2-1 first-level wildcards do not match dollar topics") {
    topic_tree t;
    for (const char* f : {"#", "+/x", "+", "$SYS/#", "$SYS/+", "a/+"}) add(t, f);
    CHECK(matches(t, "$SYS/x") == std::set<std::string>{"$SYS/#", "$SYS/+"});
    CHECK(matches(t, "$SYS") == std::set<std::string>{"$SYS/#"});
    // Only the first level counts: "$x" deeper is an ordinary level.
    CHECK(matches(t, "a/$x") == std::set<std::string>{"#", "a/+"});
}

TEST_CASE("match of a 100000-level topic and a 30000-level filter does not recurse") {
    topic_tree t;
    // 30,000 levels keep the filter under the 65,535-byte limit.
    const std::string deep_filter = repeat_levels("a", 30'000, "#");
    const std::string deep_plus = repeat_levels("+", 30'000, "+");
    add(t, deep_filter);
    add(t, deep_plus);
    add(t, "#");
    CHECK(t.node_count() == 30'001 + 30'001 + 1);
    const std::string topic = repeat_levels("a", 99'999, "a");  // 100,000 levels
    CHECK(matches(t, topic) == std::set<std::string>{"#", deep_filter});
    const std::string short_topic = repeat_levels("a", 30'000, "a");
    CHECK(matches(t, short_topic) == std::set<std::string>{"#", deep_filter, deep_plus});
    remove(t, deep_plus);
    CHECK(t.node_count() == 30'001 + 1);
    // The destructor tears the remaining 30,001-level branch down iteratively.
}

TEST_CASE("move keeps nodes valid and leaves the source empty") {
    topic_tree a;
    add(a, "x/y");
    topic_node* xy = a.find("x/y");
    topic_tree b{std::move(a)};
    CHECK(b.node_count() == 2);
    CHECK(b.find("x/y") == xy);
    topic_tree c;
    add(c, "q");
    c = std::move(b);
    CHECK(c.node_count() == 2);
    CHECK(matches(c, "x/y") == std::set<std::string>{"x/y"});
}

TEST_CASE("property: match equals brute-force topic_matches (seed 20261122)") {
    std::mt19937 rng{20261122};
    for (int round = 0; round < 20; ++round) {
        topic_tree t;
        std::set<std::string> filters;
        for (int i = 0; i < 60; ++i) {
            const std::string f = mq_test::random_filter(rng);
            REQUIRE_FALSE(mqtt::check_topic_filter(f));
            if (filters.insert(f).second) add(t, f);
        }
        for (int i = 0; i < 200; ++i) {
            const std::string name = mq_test::random_name(rng);
            REQUIRE_FALSE(mqtt::check_topic_name(name));
            std::set<std::string> expected;
            for (const std::string& f : filters) {
                if (mqtt::topic_matches(f, name)) expected.insert(f);
            }
            INFO("topic: " << name);
            CHECK(matches(t, name) == expected);
        }
        // Removing every filter in random order leaves nothing behind.
        std::vector<std::string> order(filters.begin(), filters.end());
        std::shuffle(order.begin(), order.end(), rng);
        for (const std::string& f : order) remove(t, f);
        CHECK(t.empty());
    }
}
