// SPDX-License-Identifier: MIT
#include "common/publish_checks.hpp"

#include <fstream>
#include <iterator>
#include <system_error>
#include <variant>

#include <fmt/format.h>

#include <mqtt/codec/utf8.hpp>

#include "common/encoding.hpp"
#include "common/exit_codes.hpp"

namespace mq::tools {

std::vector<std::uint8_t> read_payload_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::system_error(tool_error::no_input, "cannot open '" + path + "'");
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

namespace {
std::size_t varint_size(std::size_t v) { return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4; }
}  // namespace

std::size_t encoded_publish_size(const mqtt::publish& m, bool v5) {
    std::size_t props = 0;
    for (const auto& p : m.props.items) {
        props += 1;
        if (const auto* s = std::get_if<std::string>(&p.value)) props += 2 + s->size();
        else if (const auto* b = std::get_if<mqtt::binary>(&p.value)) props += 2 + b->size();
        else if (const auto* kv = std::get_if<mqtt::string_pair>(&p.value)) props += 4 + kv->first.size() + kv->second.size();
        else props += 4;
    }
    std::size_t body = 2 + m.topic.size() + (m.level != mqtt::qos::at_most_once ? 2 : 0) + m.payload.size();
    if (v5) body += varint_size(props) + props;
    return 1 + varint_size(body) + body;
}

std::string publish_problem(const mqtt::publish& m, bool v5, std::uint32_t max_packet, bool must_be_utf8) {
    if (must_be_utf8 && mqtt::check_utf8(as_text(m.payload)) == mqtt::utf8_status::invalid) {
        return fmt::format("payload for '{}' is not valid UTF-8 (--payload-format 1)", m.topic);
    }
    if (encoded_publish_size(m, v5) > max_packet) {
        return fmt::format("message for '{}' is larger than the broker's Maximum Packet Size ({} bytes)", m.topic,
                           max_packet);
    }
    return {};
}

std::uint32_t broker_max_packet(const mqtt::connack& ack) {
    return ack.props.get_int(mqtt::property_id::maximum_packet_size).value_or(268'435'460);
}

}  // namespace mq::tools
