// SPDX-License-Identifier: MIT
// hardening.md A03 and A04 at scale: first packets that declare huge remaining
// lengths are closed on the fixed header, so many of them at once cost the
// broker nothing: RSS flat, descriptors back, a bystander served throughout.
// (The per-row exact answers are in broker.txt; this is the memory half of the rows.)
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "hardening_util.hpp"

using namespace mq::test;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

/// The first bytes of one hostile connection: type `t` (1-15), a declared length and 10 body bytes.
std::string first_packet(int t) {
    // A03: CONNECT declaring 268,435,455 bytes, 10 bytes of it, then silence.
    if (t == 1) return "10 ff ff ff 7f 00 04 4d 51 54 54 05 02 00 3c";
    // A04: types 2-15 declaring 100 MB (80 80 80 32 = 104,857,600), with their legal
    // fixed-header flags (PUBREL, SUBSCRIBE, UNSUBSCRIBE carry 0010) [MQTT-2.1.3-1].
    static const char* hex = "0123456789abcdef";
    const int flags = (t == 6 || t == 8 || t == 10) ? 2 : 0;
    std::string first{hex[t], hex[flags]};
    return first + " 80 80 80 32 00 01 61 00 00 00 00 00 00 00";
}

}  // namespace

TEST_CASE("A03 A04 300 first packets declaring 100 MB to 256 MiB are closed on the header; RSS flat, fds back") {
    broker_fixture b;
    bystander by(b.port(), "by");
    REQUIRE(by.connected());
    const int baseline = fd_count();
    const auto rss0 = rss_bytes();
    {
        // All held open at once: had the broker sized a buffer by any declared length,
        // 300 of them would be ~30 GB.
        std::vector<std::unique_ptr<raw_client>> cs;
        for (int round = 0; round < 20; ++round) {
            for (int t = 1; t <= 15; ++t) {
                cs.push_back(std::make_unique<raw_client>(b.port()));
                cs.back()->send_hex(first_packet(t));
            }
        }
        int closed = 0;
        for (auto& c : cs) closed += c->wait_closed() ? 1 : 0;
        CHECK(closed == 300);  // closed before the body: nothing more was ever sent
        CHECK(by.round_trip("after 300 declared lengths"));
        const auto rss1 = rss_bytes();
        const auto growth = rss1 > rss0 ? rss1 - rss0 : 0;
        MESSAGE("A03 A04: RSS growth with 300 declared lengths: ", growth / 1024, " KiB");
        CHECK(growth < (sanitized ? 16 : 2) * MiB);
    }
    CHECK(fds_back_to(baseline));
}
