// SPDX-License-Identifier: MIT
// A receive buffer must give the same packets however the stream is cut:
// split at every offset, one byte at a time, or in random chunks.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <mqtt/codec/encode.hpp>

#include "codec_test_util.hpp"
#include "golden_loader.hpp"
#include "packet_gen_util.hpp"

namespace {

using mqtt::protocol_version;
using bytes_t = std::vector<std::uint8_t>;

struct golden_stream {
    bytes_t bytes;
    std::size_t count = 0;
};

// Every golden packet of one version, concatenated in file-name order.
golden_stream golden_stream_for(protocol_version v) {
    const std::string suffix = v == protocol_version::v5 ? "_v5" : "_v311";
    golden_stream out;
    for (const auto& name : mq_test::golden_names()) {
        const bool match = name.size() >= suffix.size() &&
                           (name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 ||
                            name.find(suffix + "_") != std::string::npos);
        if (!match) continue;
        std::string error;
        const auto b = mq_test::load_golden(name, error);
        REQUIRE_MESSAGE(error.empty(), error);
        out.bytes.insert(out.bytes.end(), b.begin(), b.end());
        ++out.count;
    }
    return out;
}

std::vector<mqtt::packet> one_shot(std::span<const std::uint8_t> stream, protocol_version v) {
    mq_test::stream_decoder d(v);
    d.feed(stream);
    REQUIRE_MESSAGE(!d.error(), d.error().message());
    CHECK(d.buffered() == 0);
    return d.packets();
}

void check_same(const mq_test::stream_decoder& d, const std::vector<mqtt::packet>& want) {
    REQUIRE_MESSAGE(!d.error(), d.error().message());
    CHECK(d.buffered() == 0);
    REQUIRE(d.packets().size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO("packet " << i << " want " << mq_test::describe(want[i]) << " got "
                       << mq_test::describe(d.packets()[i]));
        CHECK(d.packets()[i] == want[i]);
    }
}

void check_every_split(protocol_version v) {
    const auto stream = golden_stream_for(v);
    REQUIRE(stream.count > 0);
    const std::span<const std::uint8_t> all(stream.bytes);
    const auto want = one_shot(all, v);
    REQUIRE(want.size() == stream.count);

    for (std::size_t cut = 0; cut <= all.size(); ++cut) {
        CAPTURE(cut);
        mq_test::stream_decoder d(v);
        d.feed(all.first(cut));
        REQUIRE_MESSAGE(!d.error(), d.error().message());
        // Only whole frames are delivered before the cut.
        CHECK(d.packets().size() <= want.size());
        d.feed(all.subspan(cut));
        check_same(d, want);
    }

    mq_test::stream_decoder bytewise(v);
    for (std::size_t i = 0; i < all.size(); ++i) bytewise.feed(all.subspan(i, 1));
    check_same(bytewise, want);
}

// Seeded random packets, encoded back to back.
struct generated_stream {
    bytes_t bytes;
    std::vector<mqtt::packet> sent;
};

generated_stream generate(protocol_version v, std::uint64_t seed, std::size_t n) {
    mq_test::packet_generator gen(seed, v);
    generated_stream out;
    for (std::size_t i = 0; i < n; ++i) {
        auto p = gen.next();
        std::error_code ec;
        const auto b = mq_test::encode_bytes(p, v, ec);
        REQUIRE_MESSAGE(!ec, ec.message() << " for " << mq_test::describe(p));
        out.bytes.insert(out.bytes.end(), b.begin(), b.end());
        out.sent.push_back(std::move(p));
    }
    return out;
}

void check_random_chunks(protocol_version v, std::uint64_t seed) {
    const auto gen = generate(v, seed, 1000);
    const std::span<const std::uint8_t> all(gen.bytes);
    const auto want = one_shot(all, v);
    REQUIRE(want.size() == 1000);
    if (v == protocol_version::v5) {
        // 5.0 carries every field, so the stream decodes to exactly what was sent.
        for (std::size_t i = 0; i < want.size(); ++i) {
            INFO("packet " << i << " sent " << mq_test::describe(gen.sent[i]));
            CHECK(want[i] == gen.sent[i]);
        }
    }
    std::mt19937_64 rng(seed ^ 0x5eedu);
    for (int round = 0; round < 8; ++round) {
        CAPTURE(round);
        // Small chunks split headers and varints; large ones hold many frames.
        const std::size_t max_chunk = round % 2 == 0 ? 7 : 3000;
        mq_test::stream_decoder d(v);
        std::size_t pos = 0;
        while (pos < all.size()) {
            const auto n = std::min<std::size_t>(1 + rng() % max_chunk, all.size() - pos);
            d.feed(all.subspan(pos, n));
            REQUIRE_MESSAGE(!d.error(), d.error().message());
            pos += n;
        }
        check_same(d, want);
    }
}

}  // namespace

TEST_CASE("MQTT-2.1.4 golden v5 stream decodes the same split at every offset and byte by byte") {
    check_every_split(protocol_version::v5);
}

TEST_CASE("MQTT-2.1.4 golden v311 stream decodes the same split at every offset and byte by byte") {
    check_every_split(protocol_version::v311);
}

TEST_CASE("MQTT-2.1.4 generated 1000 packet v5 stream decodes the same in random chunks") {
    check_random_chunks(protocol_version::v5, 20'260'101);
}

TEST_CASE("MQTT-2.1.4 generated 1000 packet v311 stream decodes the same in random chunks") {
    check_random_chunks(protocol_version::v311, 20'260'102);
}

TEST_CASE("MQTT-1.5.5 an incomplete remaining length or body asks for more bytes") {
    // PUBLISH whose remaining length 200 needs two varint bytes (c8 01).
    bytes_t frame = {0x30, 0xc8, 0x01, 0x00, 0x01, 'a'};
    frame.resize(3 + 200, 'x');
    const mqtt::limits lim;
    for (std::size_t n = 0; n < frame.size(); ++n) {
        CAPTURE(n);
        std::error_code ec;
        const auto f = mqtt::next_frame(std::span<const std::uint8_t>(frame).first(n), lim, ec);
        CHECK(!f.has_value());
        CHECK(!ec);
    }
    std::error_code ec;
    const auto f = mqtt::next_frame(frame, lim, ec);
    REQUIRE(f.has_value());
    CHECK(f->total == frame.size());
    CHECK(f->body.size() == 200);
}
