// SPDX-License-Identifier: MIT
// libFuzzer target for MQTT 5.0 property blocks. Input: [selector][block].
// The selector picks the packet (and so the property context); the block is
// wrapped in a well-formed packet of that type with a correct property
// length, so the fuzzer spends its time inside the property decoder rather
// than on framing. Successful decodes are round-tripped like fuzz_decode.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <system_error>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/varint.hpp>

#include "fuzz_support.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;

void append(bytes& out, std::initializer_list<std::uint8_t> b) { out.insert(out.end(), b); }

void append_block(bytes& out, std::span<const std::uint8_t> block) {
    mqtt::encode_varint(static_cast<std::uint32_t>(block.size()), out);
    out.insert(out.end(), block.begin(), block.end());
}

// Body of a packet whose property block is `block`. `sel` bits 4..5 give the
// PUBLISH QoS.
bytes body_for(unsigned kind, std::uint8_t sel, std::span<const std::uint8_t> block,
               std::uint8_t& first_byte) {
    bytes b;
    const std::uint8_t pid[] = {0x00, 0x01};
    switch (kind) {
        case 0:  // CONNECT properties
            first_byte = 0x10;
            append(b, {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C});
            append_block(b, block);
            append(b, {0x00, 0x01, 'c'});
            break;
        case 1:  // Will properties
            first_byte = 0x10;
            append(b,
                   {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00, 0x01, 'c'});
            append_block(b, block);
            append(b, {0x00, 0x01, 'w', 0x00, 0x01, 'x'});
            break;
        case 2:  // CONNACK
            first_byte = 0x20;
            append(b, {0x00, 0x00});
            append_block(b, block);
            break;
        case 3: {  // PUBLISH
            const auto q = static_cast<std::uint8_t>((sel >> 4) % 3);
            first_byte = static_cast<std::uint8_t>(0x30 | (q << 1));
            append(b, {0x00, 0x03, 'a', '/', 'b'});
            if (q != 0) b.insert(b.end(), pid, pid + 2);
            append_block(b, block);
            append(b, {'p', 'a', 'y'});
            break;
        }
        case 4:
        case 5:
        case 6:
        case 7: {  // PUBACK PUBREC PUBREL PUBCOMP
            first_byte = static_cast<std::uint8_t>(kind << 4);
            if (kind == 6) first_byte |= 0x02;
            append(b, {0x00, 0x01, 0x00});
            append_block(b, block);
            break;
        }
        case 8:  // SUBSCRIBE
            first_byte = 0x82;
            b.insert(b.end(), pid, pid + 2);
            append_block(b, block);
            append(b, {0x00, 0x03, 'a', '/', '+', 0x01});
            break;
        case 9:  // SUBACK
            first_byte = 0x90;
            b.insert(b.end(), pid, pid + 2);
            append_block(b, block);
            append(b, {0x00});
            break;
        case 10:  // UNSUBSCRIBE
            first_byte = 0xA2;
            b.insert(b.end(), pid, pid + 2);
            append_block(b, block);
            append(b, {0x00, 0x01, 'a'});
            break;
        case 11:  // UNSUBACK
            first_byte = 0xB0;
            b.insert(b.end(), pid, pid + 2);
            append_block(b, block);
            append(b, {0x00});
            break;
        case 12:  // DISCONNECT
            first_byte = 0xE0;
            append(b, {0x00});
            append_block(b, block);
            break;
        default:  // AUTH, continue authentication
            first_byte = 0xF0;
            append(b, {0x18});
            append_block(b, block);
            break;
    }
    return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > 4000) return 0;
    const std::uint8_t sel = data[0];
    const unsigned kind = (sel & 0x0FU) % 14U;
    const bool from_client = (sel & 0x40U) != 0;
    const std::span<const std::uint8_t> block(data + 1, size - 1);

    std::uint8_t first_byte = 0;
    const bytes body = body_for(kind, sel, block, first_byte);
    bytes frame{first_byte};
    mqtt::encode_varint(static_cast<std::uint32_t>(body.size()), frame);
    frame.insert(frame.end(), body.begin(), body.end());

    const mqtt::limits lim = mq_fuzz::small_limits(from_client);
    std::error_code ec;
    const auto view = mqtt::next_frame(frame, lim, ec);
    if (!view || ec || view->total != frame.size()) mq_fuzz::fail("built frame does not split");
    mq_fuzz::decode_round_trip(*view, mqtt::protocol_version::v5, lim);
    return 0;
}
