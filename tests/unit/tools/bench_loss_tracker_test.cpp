// SPDX-License-Identifier: MIT
#include <cstdint>

#include <doctest/doctest.h>

#include "bench/loss_tracker.hpp"
#include "bench/workers.hpp"

using mq::tools::bench::arrival;
using mq::tools::bench::loss_tracker;

TEST_CASE("loss tracker in-order stream has no loss") {
    loss_tracker t;
    for (std::uint64_t s = 0; s < 200000; ++s) REQUIRE(t.observe(s) == arrival::in_order);
    CHECK(t.unique() == 200000);
    CHECK(t.lost(200000) == 0);
    CHECK(t.duplicates() == 0);
    CHECK(t.reordered() == 0);
}

TEST_CASE("loss tracker counts gaps as lost") {
    loss_tracker t;
    for (std::uint64_t s = 0; s < 100; ++s) {
        if (s % 10 != 3) t.observe(s);
    }
    CHECK(t.unique() == 90);
    CHECK(t.lost(100) == 10);
    // A missing tail is lost too: expected comes from the publisher.
    CHECK(t.lost(120) == 30);
}

TEST_CASE("loss tracker detects duplicates and reordering") {
    loss_tracker t;
    CHECK(t.observe(0) == arrival::in_order);
    CHECK(t.observe(2) == arrival::in_order);
    CHECK(t.observe(1) == arrival::reordered);
    CHECK(t.observe(1) == arrival::duplicate);
    CHECK(t.observe(2) == arrival::duplicate);
    CHECK(t.observe(3) == arrival::in_order);
    CHECK(t.unique() == 4);
    CHECK(t.duplicates() == 2);
    CHECK(t.reordered() == 1);
    CHECK(t.lost(4) == 0);
}

TEST_CASE("loss tracker numbers older than the 65536 window are late") {
    loss_tracker t;
    t.observe(0);
    t.observe(70000);
    CHECK(t.observe(1) == arrival::late);                   // 69,999 behind: outside the bitmap
    CHECK(t.observe(70000 - 65535) == arrival::reordered);  // just inside
    CHECK(t.observe(70000 - 65535) == arrival::duplicate);
    CHECK(t.late() == 1);
    CHECK(t.unique() == 3);
    CHECK(t.lost(4) == 0);  // late arrivals count as received
}

TEST_CASE("loss tracker window slides: ring positions reused by newer numbers start clear") {
    loss_tracker t;
    for (std::uint64_t s = 0; s < 65536; ++s) t.observe(s);
    // 65536 maps to the ring position of 0, which was set; it must read as new.
    CHECK(t.observe(65536) == arrival::in_order);
    CHECK(t.observe(65536 + 200) == arrival::in_order);
    // Skipped numbers 65537..65735 reuse the positions of 1..199: must be "reordered", not duplicates.
    for (std::uint64_t s = 65537; s < 65536 + 200; ++s) REQUIRE(t.observe(s) == arrival::reordered);
    CHECK(t.duplicates() == 0);
    CHECK(t.observe(65600) == arrival::duplicate);
}

TEST_CASE("loss tracker first number need not be zero") {
    loss_tracker t;
    CHECK(t.empty());
    CHECK(t.observe(1000) == arrival::in_order);
    CHECK(t.observe(999) == arrival::reordered);
    CHECK(t.observe(1000) == arrival::duplicate);
    CHECK_FALSE(t.empty());
}

TEST_CASE("bench shared group streams: one stream per publisher across members") {
    mq::tools::bench::detail::group_streams g;
    // Member A gets 0, 2; member B gets 1, 3 and, wrongly, 2 again: a duplicate across the group.
    CHECK(g.observe(0, 0) == arrival::in_order);
    CHECK(g.observe(0, 1) == arrival::in_order);
    CHECK(g.observe(0, 3) == arrival::in_order);
    CHECK(g.observe(0, 2) == arrival::reordered);
    CHECK(g.observe(0, 2) == arrival::duplicate);
    CHECK(g.observe(5, 7) == arrival::in_order);
    REQUIRE(g.streams().size() == 6);
    CHECK(g.streams()[0]->unique() == 4);
    CHECK(g.streams()[0]->duplicates() == 1);
    CHECK(g.streams()[5]->unique() == 1);
    CHECK(g.first_seq()[5] == 7);
    CHECK_FALSE(g.streams()[1]);
}
