// SPDX-License-Identifier: MIT
// Server -> client Topic Aliases of one connection (MQTT 5 3.3.2.3.4).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include <mqtt/core/outbound_aliases.hpp>

using mqtt::core::outbound_aliases;

TEST_CASE("MQTT-3.3.2-12 outbound_aliases: first use defines the alias, later uses reuse it") {
    outbound_aliases t(3);
    const auto a = t.assign("sensors/1/temp");
    CHECK(a.alias == 1);
    CHECK(a.first_use);
    const auto again = t.assign("sensors/1/temp");
    CHECK(again.alias == 1);
    CHECK_FALSE(again.first_use);
    const auto b = t.assign("sensors/2/temp");
    CHECK(b.alias == 2);
    CHECK(b.first_use);
    CHECK(t.size() == 2);
}

TEST_CASE(
    "MQTT-3.3.2-9 MQTT-3.3.2-10 outbound_aliases: never above the client's maximum, least recently used "
    "redefined") {
    outbound_aliases t(2);
    CHECK(t.assign("a").alias == 1);
    CHECK(t.assign("b").alias == 2);
    CHECK_FALSE(t.assign("a").first_use);  // "b" is now the least recently used
    const auto c = t.assign("c");
    CHECK(c.alias == 2);
    CHECK(c.first_use);
    // "b" lost its alias: it defines one again instead of using a stale mapping.
    const auto b = t.assign("b");
    CHECK(b.first_use);
    CHECK(b.alias == 1);  // "a" was used before "c"
    std::set<std::uint16_t> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto x = t.assign("t/" + std::to_string(i % 7));
        CHECK(x.alias >= 1);
        CHECK(x.alias <= 2);
        seen.insert(x.alias);
    }
    CHECK(seen.size() == 2);
    CHECK(t.size() == 2);
}

TEST_CASE("outbound_aliases: maximum 0 gives no aliases; the cap bounds a huge maximum") {
    outbound_aliases none(0);
    CHECK(none.assign("a").alias == 0);
    CHECK(none.size() == 0);
    outbound_aliases big(65'535);
    CHECK(big.maximum() == outbound_aliases::cap);
    for (int i = 0; i < 1000; ++i) {
        const auto x = big.assign("t/" + std::to_string(i));
        CHECK(x.alias >= 1);
        CHECK(x.alias <= outbound_aliases::cap);
    }
    CHECK(big.size() == outbound_aliases::cap);
}

TEST_CASE("outbound_aliases: a forgotten mapping is defined again on its next use") {
    outbound_aliases t(4);
    const auto a = t.assign("a");
    t.forget(a.alias);
    CHECK(t.size() == 0);
    const auto again = t.assign("a");
    CHECK(again.first_use);
    CHECK(again.alias == a.alias);  // the freed slot is reused
    t.forget(0);                    // no-ops
    t.forget(200);
    CHECK(t.size() == 1);
}
