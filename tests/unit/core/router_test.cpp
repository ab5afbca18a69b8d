// SPDX-License-Identifier: MIT
#include <mqtt/core/router.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/topic.hpp>

#include "topic_gen.hpp"

using mqtt::qos;
using mqtt::core::delivery;
using mqtt::core::router;
using mqtt::core::session_ref;
using mqtt::core::subscriber_options;

namespace {

subscriber_options opts(qos q, bool no_local = false, std::optional<std::uint32_t> id = {}) {
    subscriber_options o;
    o.max_qos = q;
    o.no_local = no_local;
    o.subscription_id = id;
    return o;
}

std::vector<delivery> route(router& r, std::string_view topic, session_ref publisher = 0,
                            qos level = qos::exactly_once) {
    std::vector<delivery> out;
    r.route(topic, publisher, level, out);
    return out;
}

std::vector<session_ref> sessions(const std::vector<delivery>& ds) {
    std::vector<session_ref> out;
    for (const delivery& d : ds) out.push_back(d.session);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("route delivers to exact and wildcard subscribers once each") {
    router r;
    CHECK_FALSE(r.subscribe(1, "a/b", opts(qos::at_least_once)).ec);
    CHECK_FALSE(r.subscribe(2, "a/+", opts(qos::at_least_once)).ec);
    CHECK_FALSE(r.subscribe(3, "#", opts(qos::at_least_once)).ec);
    CHECK_FALSE(r.subscribe(4, "b/#", opts(qos::at_least_once)).ec);
    CHECK(r.subscription_count() == 4);
    CHECK(sessions(route(r, "a/b")) == std::vector<session_ref>{1, 2, 3});
    CHECK(sessions(route(r, "b")) == std::vector<session_ref>{3, 4});
    CHECK(sessions(route(r, "c/d/e")) == std::vector<session_ref>{3});
}

TEST_CASE("route appends to the output vector") {
    router r;
    r.subscribe(7, "t", opts(qos::at_most_once));
    std::vector<delivery> out(1);
    out[0].session = 99;
    r.route("t", 0, qos::at_most_once, out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].session == 99);
    CHECK(out[1].session == 7);
}

TEST_CASE("delivery QoS is the minimum of publish QoS and granted QoS") {
    router r;
    r.subscribe(1, "t", opts(qos::at_least_once));
    auto ds = route(r, "t", 0, qos::exactly_once);
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].level == qos::at_least_once);
    ds = route(r, "t", 0, qos::at_most_once);
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].level == qos::at_most_once);
    CHECK_FALSE(ds[0].shared);
}

TEST_CASE("MQTT-4.7.2-1 wildcard filters do not receive dollar topics") {
    router r;
    r.subscribe(1, "#", opts(qos::at_most_once));
    r.subscribe(2, "+/info", opts(qos::at_most_once));
    r.subscribe(3, "$SYS/#", opts(qos::at_most_once));
    r.subscribe(4, "$SYS/+", opts(qos::at_most_once));
    r.subscribe(5, "$share/g/#", opts(qos::at_most_once));
    CHECK(sessions(route(r, "$SYS/info")) == std::vector<session_ref>{3, 4});
    CHECK(sessions(route(r, "$SYS")) == std::vector<session_ref>{3});
    CHECK(sessions(route(r, "x/info")) == std::vector<session_ref>{1, 2, 5});
}

TEST_CASE("MQTT-3.8.4-3 subscribing again replaces the existing subscription") {
    router r;
    auto first = r.subscribe(1, "a/b", opts(qos::at_most_once, false, 5));
    CHECK_FALSE(first.ec);
    CHECK_FALSE(first.existed);
    auto second = r.subscribe(1, "a/b", opts(qos::exactly_once, false, 6));
    CHECK_FALSE(second.ec);
    CHECK(second.existed);
    CHECK(r.subscription_count() == 1);
    const auto ds = route(r, "a/b");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].level == qos::exactly_once);
    CHECK(ds[0].subscription_ids == std::vector<std::uint32_t>{6});
    // A different filter text is a different subscription, even if it overlaps.
    CHECK_FALSE(r.subscribe(1, "a/+", opts(qos::at_most_once)).existed);
    CHECK(r.subscription_count() == 2);
}

TEST_CASE("MQTT-3.3.4-2 overlapping subscriptions give one message at the highest QoS") {
    router r;
    r.subscribe(1, "a/+", opts(qos::at_most_once));
    r.subscribe(1, "a/b", opts(qos::exactly_once));
    r.subscribe(1, "#", opts(qos::at_least_once));
    r.subscribe(2, "a/b", opts(qos::at_most_once));
    const auto ds = route(r, "a/b", 0, qos::exactly_once);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].session == 1);
    CHECK(ds[0].level == qos::exactly_once);
    CHECK(ds[1].session == 2);
    CHECK(ds[1].level == qos::at_most_once);
    // Still capped by the publish QoS.
    const auto low = route(r, "a/b", 0, qos::at_least_once);
    REQUIRE(low.size() == 2);
    CHECK(low[0].level == qos::at_least_once);
}

TEST_CASE("MQTT-3.3.4-3 overlapping subscriptions carry every subscription identifier") {
    router r;
    r.subscribe(1, "a/+", opts(qos::at_most_once, false, 10));
    r.subscribe(1, "a/b", opts(qos::at_most_once, false, 20));
    r.subscribe(1, "+/b", opts(qos::at_most_once));  // no identifier
    auto ds = route(r, "a/b");
    REQUIRE(ds.size() == 1);
    auto ids = ds[0].subscription_ids;
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::uint32_t>{10, 20});
}

TEST_CASE("retain_as_published is set when any matching subscription asked for it") {
    router r;
    auto rap = opts(qos::at_most_once);
    rap.retain_as_published = true;
    r.subscribe(1, "a/+", rap);
    r.subscribe(1, "a/b", opts(qos::at_most_once));
    r.subscribe(2, "a/b", opts(qos::at_most_once));
    const auto ds = route(r, "a/b");
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].retain_as_published);
    CHECK_FALSE(ds[1].retain_as_published);
}

TEST_CASE("MQTT-3.8.3-3 No Local does not send a message back to its publisher") {
    router r;
    r.subscribe(1, "chat", opts(qos::at_least_once, true));
    r.subscribe(2, "chat", opts(qos::at_least_once, true));
    CHECK(sessions(route(r, "chat", 1)) == std::vector<session_ref>{2});
    CHECK(sessions(route(r, "chat", 3)) == std::vector<session_ref>{1, 2});
    // An overlapping subscription without No Local still delivers, at its own QoS.
    r.subscribe(1, "#", opts(qos::at_most_once));
    const auto ds = route(r, "chat", 1);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].session == 1);
    CHECK(ds[0].level == qos::at_most_once);
}

TEST_CASE("invalid filters are rejected and change nothing") {
    router r;
    for (const char* f : {"", "a/#/b", "a+", "#a", "$share/g", "$share//a", "$share/g+/a", "$share/g/"}) {
        INFO("filter: " << f);
        const auto res = r.subscribe(1, f, opts(qos::at_most_once));
        CHECK(res.ec == mqtt::codec_error::topic_filter_invalid);
    }
    CHECK(r.subscription_count() == 0);
    CHECK(r.node_count() == 0);
    CHECK_FALSE(r.unsubscribe(1, "a/#/b"));
    CHECK_FALSE(r.unsubscribe(1, "$share/g"));
}

TEST_CASE("unsubscribe removes only the named subscription of that session") {
    router r;
    r.subscribe(1, "a/b", opts(qos::at_most_once));
    r.subscribe(2, "a/b", opts(qos::at_most_once));
    r.subscribe(1, "a/+", opts(qos::at_most_once));
    CHECK_FALSE(r.unsubscribe(3, "a/b"));
    CHECK_FALSE(r.unsubscribe(1, "a/c"));
    CHECK_FALSE(r.unsubscribe(1, "$share/g/a/b"));
    CHECK(r.unsubscribe(1, "a/b"));
    CHECK_FALSE(r.unsubscribe(1, "a/b"));
    CHECK(r.subscription_count() == 2);
    CHECK(sessions(route(r, "a/b")) == std::vector<session_ref>{1, 2});  // 1 via a/+
    CHECK(r.unsubscribe(1, "a/+"));
    CHECK(sessions(route(r, "a/b")) == std::vector<session_ref>{2});
    CHECK(r.unsubscribe(2, "a/b"));
    CHECK(r.subscription_count() == 0);
    CHECK(r.node_count() == 0);
    CHECK(route(r, "a/b").empty());
}

TEST_CASE("unsubscribe_all removes every subscription of one session") {
    router r;
    r.subscribe(1, "a/b", opts(qos::at_most_once));
    r.subscribe(1, "#", opts(qos::at_most_once));
    r.subscribe(1, "$share/g/a/b", opts(qos::at_most_once));
    r.subscribe(2, "a/b", opts(qos::at_most_once));
    r.unsubscribe_all(1);
    r.unsubscribe_all(42);  // unknown session: no effect
    CHECK(r.subscription_count() == 1);
    CHECK(sessions(route(r, "a/b")) == std::vector<session_ref>{2});
    r.unsubscribe_all(2);
    CHECK(r.subscription_count() == 0);
    CHECK(r.node_count() == 0);
    // The session can subscribe again afterwards.
    CHECK_FALSE(r.subscribe(1, "a/b", opts(qos::at_most_once)).existed);
}

TEST_CASE("MQTT-4.8.2 shared subscription delivers round-robin to one member") {
    router r;
    for (session_ref s : {10, 20, 30}) {
        CHECK_FALSE(r.subscribe(s, "$share/g/sensors/+", opts(qos::at_least_once)).ec);
    }
    r.subscribe(99, "sensors/#", opts(qos::at_most_once));
    std::vector<session_ref> picked;
    for (int i = 0; i < 6; ++i) {
        const auto ds = route(r, "sensors/t", 0, qos::exactly_once);
        REQUIRE(ds.size() == 2);
        CHECK(ds[0].session == 99);  // non-shared first
        CHECK_FALSE(ds[0].shared);
        CHECK(ds[1].shared);
        CHECK(ds[1].level == qos::at_least_once);  // [MQTT-4.8.2-3] granted QoS
        picked.push_back(ds[1].session);
    }
    CHECK(picked == std::vector<session_ref>{10, 20, 30, 10, 20, 30});
    // A member leaving keeps the rotation among the rest.
    CHECK(r.unsubscribe(20, "$share/g/sensors/+"));
    picked.clear();
    for (int i = 0; i < 4; ++i) picked.push_back(route(r, "sensors/t").back().session);
    CHECK(picked == std::vector<session_ref>{10, 30, 10, 30});
}

TEST_CASE("MQTT-4.8.2 each group gets one copy and a session in two groups counts twice") {
    router r;
    r.subscribe(1, "$share/g1/a", opts(qos::at_most_once, false, 7));
    r.subscribe(1, "$share/g2/a", opts(qos::at_most_once, false, 8));
    r.subscribe(2, "$share/g1/a", opts(qos::at_most_once));
    r.subscribe(1, "a", opts(qos::at_most_once));
    CHECK(r.subscription_count() == 4);
    CHECK(r.subscribe(1, "$share/g2/a", opts(qos::at_least_once, false, 8)).existed);
    const auto ds = route(r, "a");
    REQUIRE(ds.size() == 3);  // non-shared copy + one per group
    CHECK(std::count_if(ds.begin(), ds.end(), [](const delivery& d) { return d.shared; }) == 2);
    const auto g2 = std::find_if(ds.begin(), ds.end(), [](const delivery& d) {
        return d.shared && d.subscription_ids == std::vector<std::uint32_t>{8};
    });
    REQUIRE(g2 != ds.end());
    CHECK(g2->session == 1);
    CHECK(g2->level == qos::at_least_once);  // the replaced options apply
    // The same group name with another filter is another shared subscription.
    r.subscribe(3, "$share/g1/+", opts(qos::at_most_once));
    CHECK(route(r, "a").size() == 4);
}

TEST_CASE("shared subscriptions ignore No Local") {
    router r;
    r.subscribe(1, "$share/g/t", opts(qos::at_most_once, true));
    const auto ds = route(r, "t", 1);
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].session == 1);
    CHECK(ds[0].shared);
}

TEST_CASE("pick_shared_member rotates and skips the excluded member") {
    router r;
    CHECK_FALSE(r.pick_shared_member("$share/g/t", 1));
    CHECK_FALSE(r.pick_shared_member("t", 1));
    r.subscribe(1, "$share/g/t", opts(qos::at_most_once));
    CHECK_FALSE(r.pick_shared_member("$share/g/t", 1));
    CHECK(r.pick_shared_member("$share/g/t", 5) == session_ref{1});
    r.subscribe(2, "$share/g/t", opts(qos::at_most_once));
    r.subscribe(3, "$share/g/t", opts(qos::at_most_once));
    for (int i = 0; i < 4; ++i) {
        const auto s = r.pick_shared_member("$share/g/t", 2);
        REQUIRE(s);
        CHECK(*s != 2);
    }
    CHECK_FALSE(r.pick_shared_member("$share/other/t", 2));
}

TEST_CASE("10000 subscribe and unsubscribe loops leave the router empty") {
    router r;
    r.subscribe(1000, "keep/this", opts(qos::at_most_once));
    const std::size_t base_nodes = r.node_count();
    const char* filters[] = {"a/b/c", "a/+/#", "$share/g/a/b", "#", "$SYS/x/y", "/a//"};
    for (int i = 0; i < 10'000; ++i) {
        const auto s = static_cast<session_ref>(i % 7);
        const char* f = filters[i % std::size(filters)];
        REQUIRE_FALSE(r.subscribe(s, f, opts(qos::at_least_once)).ec);
        r.subscribe(s + 1, "x/" + std::to_string(i), opts(qos::at_most_once));
        std::error_code ec;
        const auto shared = mqtt::parse_shared(f, ec);
        const bool hit = mqtt::topic_matches(shared ? shared->filter : f, "a/b/c");
        REQUIRE(route(r, "a/b/c").size() == (hit ? 1u : 0u));
        REQUIRE(r.unsubscribe(s, f));
        if (i % 2 == 0) {
            REQUIRE(r.unsubscribe(s + 1, "x/" + std::to_string(i)));
        } else {
            r.unsubscribe_all(s + 1);
        }
        REQUIRE(r.subscription_count() == 1);
        REQUIRE(r.node_count() == base_nodes);
    }
    CHECK(r.unsubscribe(1000, "keep/this"));
    CHECK(r.subscription_count() == 0);
    CHECK(r.node_count() == 0);
}

TEST_CASE("a 100000-level topic routes without recursion") {
    router r;
    std::string deep;
    for (int i = 0; i < 30'000; ++i) deep += "+/";
    deep += "#";
    REQUIRE_FALSE(r.subscribe(1, deep, opts(qos::at_most_once)).ec);
    r.subscribe(2, "#", opts(qos::at_most_once));
    std::string topic(99'999, '/');  // 100,000 empty levels
    CHECK(sessions(route(r, topic)) == std::vector<session_ref>{1, 2});
    CHECK(sessions(route(r, "short")) == std::vector<session_ref>{2});
}

namespace {

struct sub_key {
    session_ref session;
    std::string filter;
    friend auto operator<=>(const sub_key&, const sub_key&) = default;
};

struct expected_delivery {
    qos level = qos::at_most_once;
    bool retain_as_published = false;
    std::vector<std::uint32_t> ids;
    friend bool operator==(const expected_delivery&, const expected_delivery&) = default;
};

// Brute force over the subscription list with the reference matcher.
void check_route(router& r, const std::map<sub_key, subscriber_options>& subs,
                 std::string_view topic, session_ref publisher, qos level) {
    std::map<session_ref, expected_delivery> plain;
    std::map<std::string, std::vector<session_ref>> groups;  // "group\0filter" -> members
    for (const auto& [key, o] : subs) {
        std::error_code ec;
        const auto shared = mqtt::parse_shared(key.filter, ec);
        REQUIRE_FALSE(ec);
        if (shared) {
            if (mqtt::topic_matches(shared->filter, topic)) {
                std::string id{shared->group};
                id += '\0';
                id += shared->filter;
                groups[id].push_back(key.session);
            }
            continue;
        }
        if (!mqtt::topic_matches(key.filter, topic)) continue;
        if (o.no_local && key.session == publisher) continue;
        expected_delivery& e = plain[key.session];
        if (o.max_qos > e.level) e.level = o.max_qos;
        e.retain_as_published = e.retain_as_published || o.retain_as_published;
        if (o.subscription_id) e.ids.push_back(*o.subscription_id);
    }
    for (auto& entry : plain) {
        if (level < entry.second.level) entry.second.level = level;
        std::sort(entry.second.ids.begin(), entry.second.ids.end());
    }

    const auto ds = route(r, topic, publisher, level);
    std::map<session_ref, expected_delivery> got;
    std::map<session_ref, std::size_t> shared_got;
    std::size_t shared_total = 0;
    for (const delivery& d : ds) {
        if (d.shared) {
            ++shared_got[d.session];
            ++shared_total;
            continue;
        }
        expected_delivery e{d.level, d.retain_as_published, d.subscription_ids};
        std::sort(e.ids.begin(), e.ids.end());
        CHECK(got.emplace(d.session, e).second);  // one delivery per session
    }
    INFO("topic: " << topic << " publisher: " << publisher);
    CHECK(got == plain);
    // One copy per matching shared subscription, to one of its members.
    CHECK(shared_total == groups.size());
    for (const auto& [session, n] : shared_got) {
        std::size_t possible = 0;
        for (const auto& entry : groups) {
            possible += static_cast<std::size_t>(
                std::count(entry.second.begin(), entry.second.end(), session));
        }
        CHECK(n <= possible);
    }
}

}  // namespace

TEST_CASE("property: route equals brute force over the subscription list (seed 4242)") {
    std::mt19937 rng{4242};
    for (int round = 0; round < 12; ++round) {
        router r;
        std::map<sub_key, subscriber_options> subs;
        for (int op = 0; op < 300; ++op) {
            const auto s = static_cast<session_ref>(1 + mq_test::pick(rng, 8));
            if (mq_test::pick(rng, 5) == 0 && !subs.empty()) {
                // Unsubscribe an existing subscription.
                auto it = subs.begin();
                std::advance(it, static_cast<long>(mq_test::pick(rng, subs.size())));
                CHECK(r.unsubscribe(it->first.session, it->first.filter));
                subs.erase(it);
                continue;
            }
            std::string filter = mq_test::random_filter(rng);
            const bool shared = mq_test::pick(rng, 4) == 0;
            if (shared) filter = (mq_test::pick(rng, 2) == 0 ? "$share/g1/" : "$share/g2/") + filter;
            subscriber_options o;
            o.max_qos = static_cast<qos>(mq_test::pick(rng, 3));
            o.no_local = !shared && mq_test::pick(rng, 3) == 0;
            o.retain_as_published = mq_test::pick(rng, 3) == 0;
            if (mq_test::pick(rng, 2) == 0) o.subscription_id = static_cast<std::uint32_t>(1 + op);
            const auto res = r.subscribe(s, filter, o);
            REQUIRE_FALSE(res.ec);
            CHECK(res.existed == subs.contains(sub_key{s, filter}));
            subs[sub_key{s, filter}] = o;
        }
        CHECK(r.subscription_count() == subs.size());
        for (int i = 0; i < 300; ++i) {
            const std::string topic = mq_test::random_name(rng);
            const auto publisher = static_cast<session_ref>(mq_test::pick(rng, 9));
            const auto level = static_cast<qos>(mq_test::pick(rng, 3));
            check_route(r, subs, topic, publisher, level);
        }
        for (session_ref s = 1; s <= 8; ++s) r.unsubscribe_all(s);
        CHECK(r.subscription_count() == 0);
        CHECK(r.node_count() == 0);
    }
}

TEST_CASE("sec-4.8.2 pick_shared: another member's options and the group's filter string") {
    router r;
    r.subscribe(1, "$share/g/t/+", opts(qos::exactly_once));
    r.subscribe(2, "$share/g/t/+", opts(qos::at_least_once, false, 9));
    const auto d = r.pick_shared("$share/g/t/+", 1, qos::exactly_once);
    REQUIRE(d);
    CHECK(d->session == 2);
    CHECK(d->level == qos::at_least_once);  // [MQTT-4.8.2-3] that member's granted QoS
    CHECK(d->subscription_ids == std::vector<std::uint32_t>{9});
    REQUIRE(d->share);
    CHECK(*d->share == "$share/g/t/+");
    // route() hands out the same string, so a member's session can give a message back.
    std::vector<delivery> ds;
    r.route("t/x", 0, qos::at_least_once, ds);
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].share == d->share);
}
