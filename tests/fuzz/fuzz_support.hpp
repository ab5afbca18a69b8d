// SPDX-License-Identifier: MIT
#pragma once
// Checks shared by the codec fuzz targets: decode a frame, and when that
// succeeds, re-encode and decode again; every disagreement aborts so that
// libFuzzer records the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <system_error>
#include <variant>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

namespace mq_fuzz {

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

/// Small limits so the limit paths are reached with small inputs.
inline mqtt::limits small_limits(bool from_client) {
    mqtt::limits lim;
    lim.max_packet_size = 4096;
    lim.max_string_length = 512;
    lim.max_user_properties = 8;
    lim.max_topic_levels = 16;
    lim.from_client = from_client;
    return lim;
}

/// The version a packet is encoded with: CONNECT carries its own.
inline mqtt::protocol_version version_for(const mqtt::packet& p, mqtt::protocol_version v) {
    if (const auto* c = std::get_if<mqtt::connect>(&p)) return c->version;
    return v;
}

/// decode(frame) -> p; if ok, encode(p) -> bytes, which must split as exactly
/// one frame and decode to p again; encoding p again must give the same bytes.
inline void decode_round_trip(const mqtt::frame_view& frame, mqtt::protocol_version v,
                              const mqtt::limits& lim) {
    std::error_code ec;
    const mqtt::packet p = mqtt::decode_frame(frame, v, lim, ec);
    if (ec) {
        if (ec.category() != mqtt::codec_category()) fail("decode error outside mqtt.codec");
        return;
    }
    const mqtt::protocol_version ev = version_for(p, v);
    std::vector<std::uint8_t> bytes;
    if (const auto eec = mqtt::encode(p, ev, bytes)) fail("a decoded packet does not encode");
    if (bytes.size() != mqtt::encoded_size(p, ev)) fail("encoded_size disagrees with encode");
    if (mqtt::type_of(p) != frame.type()) fail("decoded packet has another type");

    // The re-encoded packet may be longer than the original (a v5 short-form
    // ack is re-encoded in full), so split it without a size limit.
    mqtt::limits relaxed = lim;
    relaxed.max_packet_size = 268'435'460;
    std::error_code ec2;
    const auto again = mqtt::next_frame(bytes, relaxed, ec2);
    if (!again || ec2) fail("re-encoded packet does not split");
    if (again->total != bytes.size()) fail("re-encoded packet splits to another size");
    const mqtt::packet q = mqtt::decode_frame(*again, ev, relaxed, ec2);
    if (ec2) fail("re-encoded packet does not decode");
    if (!(p == q)) fail("decode(encode(p)) != p");

    std::vector<std::uint8_t> bytes2;
    if (mqtt::encode(q, ev, bytes2) || bytes2 != bytes) fail("encode is not stable");
}

}  // namespace mq_fuzz
