// SPDX-License-Identifier: MIT
// libFuzzer target: the input is a byte stream from a peer. It is split with
// next_frame and every frame is decoded as 3.1.1 and as 5.0 (and 5.0 on the
// server side), then round-tripped through encode (see fuzz_support.hpp).
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include <mqtt/codec/decode.hpp>

#include "fuzz_support.hpp"

namespace {

void split_and_decode(std::span<const std::uint8_t> in, mqtt::protocol_version v,
                      bool from_client) {
    const mqtt::limits lim = mq_fuzz::small_limits(from_client);
    // Each iteration consumes at least the 2-byte fixed header, so this ends.
    while (!in.empty()) {
        std::error_code ec;
        const auto frame = mqtt::next_frame(in, lim, ec);
        if (!frame) {
            if (ec && ec.category() != mqtt::codec_category())
                mq_fuzz::fail("split error category");
            return;  // need more bytes, or a fatal header: the connection ends
        }
        if (ec) mq_fuzz::fail("frame returned together with an error");
        if (frame->total < 2 || frame->total > in.size() || frame->total > lim.max_packet_size) {
            mq_fuzz::fail("frame size out of bounds");
        }
        if (frame->body.data() + frame->body.size() != in.data() + frame->total) {
            mq_fuzz::fail("frame body does not end the frame");
        }
        // One byte short of a complete frame is "need more", never an error:
        // the fixed header was already accepted.
        std::error_code short_ec;
        if (mqtt::next_frame(in.first(frame->total - 1), lim, short_ec) || short_ec) {
            mq_fuzz::fail("truncated frame not reported as need-more");
        }
        mq_fuzz::decode_round_trip(*frame, v, lim);
        (void)mqtt::peek_connect_level(*frame);
        in = in.subspan(frame->total);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    split_and_decode(in, mqtt::protocol_version::v311, false);
    split_and_decode(in, mqtt::protocol_version::v5, false);
    split_and_decode(in, mqtt::protocol_version::v5, true);
    return 0;
}
