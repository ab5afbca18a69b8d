// SPDX-License-Identifier: MIT
// Table-driven broker hardening: every row of tests/data/bad_input/broker.txt is
// sent to the in-process broker and its exact answer asserted on the wire; after
// each row the broker still serves a bystander and no descriptor is left behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <utility>

#include "hardening_table.hpp"
#include "hardening_util.hpp"

using namespace mq::test;
namespace hd = mq::test::hardening;

namespace {

const std::vector<hd::row>& table() {
    static const std::vector<hd::row> rows = hd::load_broker_table();
    return rows;
}

void run_row(broker_fixture& b, const hd::row& r) {
    const std::string version = r.version == mqtt::protocol_version::v5 ? "v5" : "v3.1.1";
    INFO("broker.txt line ", r.line, ": ", r.id, " ", r.spec, " ", version, ": ", r.description);
    raw_client c(b.port(), r.version);
    if (r.connect_first) {
        auto ack = c.connect(r.id);
        const bool accepted = ack && ack->reason_code == mqtt::reason::success;
        CHECK_MESSAGE(accepted, "the plain CONNECT was refused");
        if (!accepted) return;
    }
    if (!r.send.empty()) c.send_bytes(r.send);
    for (std::size_t i = 0; i < r.expect.size(); ++i) {
        auto f = c.receive_frame(std::chrono::milliseconds(3000));
        CHECK_MESSAGE(f.has_value(), "expected frame ", i + 1, " (", to_hex(r.expect[i]),
                      ") missing; closed: ", c.peer_closed());
        if (!f) return;
        CHECK(to_hex(*f) == to_hex(r.expect[i]));
    }
    if (r.then_open) {
        c.send_hex("c0 00");
        auto f = c.receive_frame();
        CHECK_MESSAGE(f.has_value(), "no PINGRESP: the connection did not stay open");
        if (!f) return;
        CHECK(to_hex(*f) == "d0 00");
        c.send_hex("e0 00");
        CHECK(c.wait_closed());
    } else {
        auto f = c.receive_frame(std::chrono::milliseconds(3000));
        CHECK_MESSAGE(!f.has_value(), "unexpected frame before the close: ", f ? to_hex(*f) : std::string());
        CHECK(c.peer_closed());
    }
}

}  // namespace

TEST_CASE("hardening broker.txt loads: unique ids, every section present") {
    std::vector<hd::row> rows;
    REQUIRE_NOTHROW(rows = hd::load_broker_table());
    CHECK(rows.size() >= 150);
    std::set<char> sections;
    for (const auto& r : rows) sections.insert(r.id.front());
    CHECK(sections == std::set<char>{'A', 'B', 'C', 'D', 'L'});
    CHECK(hd::parse_hex("61*3 [00 01]*2 ff") ==
          std::vector<std::uint8_t>{0x61, 0x61, 0x61, 0, 1, 0, 1, 0xff});
    CHECK_THROWS(hd::parse_hex("6"));
    CHECK_THROWS(hd::parse_table("X01 | 5 | connect | 00 | maybe | s | d\n"));
}

TEST_CASE(
    "hardening broker.txt: each row gets its exact answer; broker, bystander and descriptors unaffected") {
    // Rows sharing limits share a broker, in file order.
    std::vector<std::pair<std::string, std::vector<const hd::row*>>> groups;
    for (const auto& r : table()) {
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const auto& g) { return g.first == r.limits_text; });
        if (it == groups.end()) it = groups.insert(groups.end(), {r.limits_text, {}});
        it->second.push_back(&r);
    }
    for (const auto& [limits, rows] : groups) {
        INFO("limits: ", limits.empty() ? std::string("defaults") : limits);
        broker_fixture b([&](mqtt::net::broker_limits& l) {
            if (!limits.empty()) hd::apply_limits(limits, l);
        });
        bystander by(b.port(), "by");
        REQUIRE(by.connected());
        REQUIRE(by.round_trip("start"));
        const int baseline = fd_count();
        for (const auto* r : rows) {
            run_row(b, *r);
            INFO("after ", r->id);
            CHECK(by.round_trip(r->id));
            CHECK(fds_back_to(baseline));
        }
    }
}
