// SPDX-License-Identifier: MIT
// libFuzzer target for the `mq pub --ndjson` line parser (hardening I01-I08).
// Input: [flags][line]. The line is parsed twice: alone, and followed by
// ndjson_padding bytes of JSON-looking garbage (as `mq pub` hands over a line
// followed by the next one); the bytes after a line must never change whether
// it is a message or which. A `message` result must be a PUBLISH the client
// can send (valid topic, QoS 0-2, encodes and decodes back unchanged); a `bad`
// result must carry a reason.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/topic.hpp>

#include "common/ndjson.hpp"
#include "fuzz_support.hpp"

namespace {

void check_message(const mqtt::publish& p) {
    if (mqtt::check_topic_name(p.topic)) mq_fuzz::fail("ndjson message with an invalid topic");
    if (static_cast<unsigned>(p.level) > 2) mq_fuzz::fail("ndjson message with QoS above 2");
    mqtt::publish sendable = p;
    if (sendable.level != mqtt::qos::at_most_once) sendable.packet_id = 1;
    std::vector<std::uint8_t> bytes;
    if (mqtt::encode(mqtt::packet{sendable}, mqtt::protocol_version::v5, bytes)) {
        mq_fuzz::fail("ndjson message does not encode");
    }
    std::error_code ec;
    const auto frame = mqtt::next_frame(bytes, mqtt::limits{}, ec);
    if (!frame || ec) mq_fuzz::fail("encoded ndjson message does not split");
    const mqtt::packet back = mqtt::decode_frame(*frame, mqtt::protocol_version::v5, mqtt::limits{}, ec);
    if (ec) mq_fuzz::fail("encoded ndjson message does not decode");
    if (!(back == mqtt::packet{sendable})) mq_fuzz::fail("ndjson message changed in a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);

    static mq::tools::ndjson_parser parser;  // reused like `mq pub` does
    mq::tools::publish_defaults defaults;
    if (flags & 0x01) defaults.topic = "default/topic";
    defaults.level = static_cast<mqtt::qos>((flags >> 1) % 3);
    defaults.retain = (flags & 0x08) != 0;

    mqtt::publish copied;
    std::string copied_error;
    const auto copied_status = parser.parse(line, defaults, copied, copied_error);

    // In place: the line followed by padding bytes that must not be read as JSON.
    std::vector<char> buf(line.size() + mq::tools::ndjson_padding, '}');
    if (!line.empty()) std::memcpy(buf.data(), line.data(), line.size());
    mqtt::publish in_place;
    std::string in_place_error;
    const auto in_place_status =
        parser.parse(std::string_view(buf.data(), line.size()), mq::tools::ndjson_padding, defaults, in_place,
                     in_place_error);

    // The padding (in `mq pub`: the next line) must never change a message.
    // An invalid line may still be `skip` one way and `bad` the other: the
    // lazy parser stops at a non-"message" type before seeing the error, and
    // simdjson's structural scan of a broken line can run into the padding.
    const bool copied_msg = copied_status == mq::tools::ndjson_status::message;
    const bool in_place_msg = in_place_status == mq::tools::ndjson_status::message;
    if (copied_msg != in_place_msg) mq_fuzz::fail("copied and in-place parses disagree on a message");
    if (in_place_status == mq::tools::ndjson_status::bad && in_place_error.empty()) {
        mq_fuzz::fail("bad line without a reason");
    }
    switch (copied_status) {
    case mq::tools::ndjson_status::message:
        if (!(copied == in_place)) mq_fuzz::fail("copied and in-place messages differ");
        check_message(copied);
        break;
    case mq::tools::ndjson_status::bad:
        if (copied_error.empty()) mq_fuzz::fail("bad line without a reason");
        break;
    case mq::tools::ndjson_status::skip:
        break;
    }
    (void)mq::tools::json_too_deep(line, mq::tools::ndjson_max_depth);
    return 0;
}
