// SPDX-License-Identifier: MIT
// libFuzzer target for the `mq pub --ndjson` line parser (hardening I01-I08).
// Input: [flags][line]. The line is parsed twice: alone, and followed in
// memory by 64 bytes of JSON-looking garbage (as `mq pub` hands over a line
// followed by the next one); the bytes after a line must never change the
// verdict. A `message` result must be a PUBLISH the client
// can send (valid topic, QoS 0-2, encodes and decodes back unchanged); a `bad`
// result must carry a reason. Differential: json::scanner and nlohmann::json
// must agree on whether a line is valid JSON, and on the decoded topic and
// utf8 payload strings.
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
#include <nlohmann/json.hpp>

#include "common/json_scan.hpp"
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

std::string_view trimmed(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    if (s.starts_with("\xEF\xBB\xBF")) return trimmed(s.substr(3));
    return s;
}

// The reference parser's view of the line; checks the scanner agrees on validity.
void check_against_reference(std::string_view line, mq::tools::ndjson_status status, const mqtt::publish& msg) {
    const std::string_view text = trimmed(line);
    // nlohmann stops at a NUL byte as if the input ended there; RFC 8259 (and
    // the scanner) reject it, so such lines are not compared.
    if (text.empty() || text.find('\0') != std::string_view::npos ||
        mq::tools::json_too_deep(text, mq::tools::ndjson_max_depth)) {
        return;
    }
    mq::tools::json::scanner sc(text, mq::tools::ndjson_max_depth);
    const bool ours = sc.skip_value() && sc.at_end();
    const bool theirs = nlohmann::json::accept(text);
    if (ours && !theirs) {
        // nlohmann refuses numbers beyond double's range (out_of_range 406);
        // JSON allows them and payloads keep them verbatim.
        try {
            (void)nlohmann::json::parse(text);
        } catch (const nlohmann::json::out_of_range&) {
            return;
        } catch (...) {
        }
    }
    if (ours != theirs) mq_fuzz::fail("json::scanner and nlohmann disagree on validity");
    if (status != mq::tools::ndjson_status::bad && !theirs) mq_fuzz::fail("invalid JSON accepted");
    if (status != mq::tools::ndjson_status::message) return;
    const auto ref = nlohmann::json::parse(text, nullptr, false);
    if (ref.is_discarded()) return;
    if (const auto t = ref.find("topic"); t != ref.end() && t->is_string() && t->get<std::string>() != msg.topic)
        mq_fuzz::fail("topic decoded differently from nlohmann");
    const auto enc = ref.find("payload_encoding");
    const auto pl = ref.find("payload");
    if (pl != ref.end() && pl->is_string() && (enc == ref.end() || *enc == "utf8")) {
        const auto& s = pl->get_ref<const std::string&>();
        if (std::string_view(s) != std::string_view(reinterpret_cast<const char*>(msg.payload.data()), msg.payload.size()))
            mq_fuzz::fail("payload decoded differently from nlohmann");
    }
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
    std::vector<char> buf(line.size() + 64, '}');
    if (!line.empty()) std::memcpy(buf.data(), line.data(), line.size());
    mqtt::publish in_place;
    std::string in_place_error;
    const auto in_place_status =
        parser.parse(std::string_view(buf.data(), line.size()), defaults, in_place,
                     in_place_error);

    // The padding (in `mq pub`: the next line) must never change the verdict.
    if (copied_status != in_place_status) mq_fuzz::fail("copied and in-place parses disagree");
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
    check_against_reference(line, copied_status, copied);
    return 0;
}
