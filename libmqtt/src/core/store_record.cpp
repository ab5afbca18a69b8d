// SPDX-License-Identifier: MIT
// Journal record framing and payloads (see store_record.hpp).
#include <mqtt/core/store_record.hpp>

#include <array>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

namespace mqtt::core::store {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr auto crc_table = make_crc_table();

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put_str(std::vector<std::uint8_t>& out, std::string_view s) {
    put32(out, static_cast<std::uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}
bool put_publish(std::vector<std::uint8_t>& out, const mqtt::publish& m) {
    // The stored copy never carries a packet id or DUP: those are per delivery.
    mqtt::publish p = m;
    p.dup = false;
    p.packet_id = p.level == qos::at_most_once ? 0 : 1;
    std::vector<std::uint8_t> wire;
    if (encode(mqtt::packet{std::move(p)}, protocol_version::v5, wire)) return false;
    put32(out, static_cast<std::uint32_t>(wire.size()));
    out.insert(out.end(), wire.begin(), wire.end());
    return true;
}

/// Bounds-checked little-endian reader; any overrun sets `bad`.
struct reader {
    std::span<const std::uint8_t> in;
    std::size_t pos = 0;
    bool bad = false;
    bool need(std::size_t n) {
        if (bad || in.size() - pos < n) bad = true;
        return !bad;
    }
    std::uint64_t uint(int bytes) {
        if (!need(static_cast<std::size_t>(bytes))) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= std::uint64_t{in[pos + static_cast<std::size_t>(i)]} << (8 * i);
        pos += static_cast<std::size_t>(bytes);
        return v;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
    std::uint64_t u64() { return uint(8); }
    std::string str() {
        const std::uint32_t n = u32();
        if (!need(n)) return {};
        std::string s(reinterpret_cast<const char*>(in.data() + pos), n);
        pos += n;
        return s;
    }
    std::shared_ptr<const mqtt::publish> publish() {
        const std::uint32_t n = u32();
        if (!need(n)) return nullptr;
        const auto wire = in.subspan(pos, n);
        pos += n;
        std::error_code ec;
        const mqtt::limits lim;  // the broker's own bytes: protocol maxima only
        auto f = next_frame(wire, lim, ec);
        if (ec || !f || f->total != wire.size() || f->type() != packet_type::publish) {
            bad = true;
            return nullptr;
        }
        auto pkt = decode_frame(*f, protocol_version::v5, lim, ec);
        auto* p = std::get_if<mqtt::publish>(&pkt);
        if (ec || !p) {
            bad = true;
            return nullptr;
        }
        p->packet_id = 0;
        return std::make_shared<const mqtt::publish>(std::move(*p));
    }
};

bool valid_type(std::uint8_t t) noexcept {
    return t >= static_cast<std::uint8_t>(record_type::retained) &&
           t <= static_cast<std::uint8_t>(record_type::inbound_del);
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t seed) noexcept {
    std::uint32_t c = ~seed;
    for (std::uint8_t b : bytes) c = crc_table[(c ^ b) & 0xffu] ^ (c >> 8);
    return ~c;
}

bool encode_record(const record& r, std::vector<std::uint8_t>& out) {
    std::vector<std::uint8_t> body;
    body.push_back(static_cast<std::uint8_t>(r.type));
    switch (r.type) {
        case record_type::retained:
        case record_type::message:
            if (!r.msg) return false;
            put64(body, r.tag);
            put64(body, r.time_ms);
            if (!put_publish(body, *r.msg)) return false;
            break;
        case record_type::session:
            put_str(body, r.client_id);
            put32(body, r.expiry);
            body.push_back(r.username ? 1 : 0);
            put_str(body, r.username ? *r.username : std::string_view());
            put64(body, r.time_ms);
            break;
        case record_type::session_end:
            put_str(body, r.client_id);
            break;
        case record_type::subscribe:
        case record_type::unsubscribe:
            put_str(body, r.client_id);
            put_str(body, r.text);
            body.push_back(static_cast<std::uint8_t>(r.level));
            body.push_back(r.flags);
            put32(body, r.sub_id);
            break;
        case record_type::enqueue:
            put_str(body, r.client_id);
            put64(body, r.tag);
            body.push_back(static_cast<std::uint8_t>(r.level));
            body.push_back(r.flags);
            put32(body, static_cast<std::uint32_t>(r.sub_ids.size()));
            for (auto id : r.sub_ids) put32(body, id);
            break;
        case record_type::sent:
        case record_type::released:
        case record_type::done:
        case record_type::inbound_add:
        case record_type::inbound_del:
            put_str(body, r.client_id);
            put64(body, r.tag);
            put16(body, r.packet_id);
            break;
    }
    if (body.size() > max_frame_length) return false;
    put32(out, static_cast<std::uint32_t>(body.size()));
    put32(out, crc32(body));
    out.insert(out.end(), body.begin(), body.end());
    return true;
}

read_result read_record(std::span<const std::uint8_t> in, record& rec) {
    if (in.empty()) return {read_status::end, 0};
    if (in.size() < frame_header_size) return {read_status::torn, 0};
    reader hdr{in.first(frame_header_size)};
    const std::uint32_t len = hdr.u32();
    const std::uint32_t crc = hdr.u32();
    // A length this large or zero is damage, not a record still being written.
    if (len == 0 || len > max_frame_length) return {read_status::corrupt, 0};
    if (in.size() - frame_header_size < len) return {read_status::torn, 0};
    const std::size_t size = frame_header_size + len;
    const auto body = in.subspan(frame_header_size, len);
    if (crc32(body) != crc || !valid_type(body[0])) return {read_status::corrupt, size};
    rec = record{};
    rec.type = static_cast<record_type>(body[0]);
    reader r{body, 1};
    switch (rec.type) {
        case record_type::retained:
        case record_type::message:
            rec.tag = r.u64();
            rec.time_ms = r.u64();
            rec.msg = r.publish();
            break;
        case record_type::session: {
            rec.client_id = r.str();
            rec.expiry = r.u32();
            const bool has_user = r.u8() != 0;
            auto user = r.str();
            if (has_user) rec.username = std::move(user);
            rec.time_ms = r.u64();
            break;
        }
        case record_type::session_end:
            rec.client_id = r.str();
            break;
        case record_type::subscribe:
        case record_type::unsubscribe:
            rec.client_id = r.str();
            rec.text = r.str();
            rec.level = static_cast<qos>(r.u8() & 3u);
            rec.flags = r.u8();
            rec.sub_id = r.u32();
            break;
        case record_type::enqueue: {
            rec.client_id = r.str();
            rec.tag = r.u64();
            rec.level = static_cast<qos>(r.u8() & 3u);
            rec.flags = r.u8();
            const std::uint32_t n = r.u32();
            if (!r.need(std::size_t{n} * 4)) break;
            rec.sub_ids.reserve(n);
            for (std::uint32_t i = 0; i < n; ++i) rec.sub_ids.push_back(r.u32());
            break;
        }
        case record_type::sent:
        case record_type::released:
        case record_type::done:
        case record_type::inbound_add:
        case record_type::inbound_del:
            rec.client_id = r.str();
            rec.tag = r.u64();
            rec.packet_id = r.u16();
            break;
    }
    // The CRC matched, so a short or long payload means a writer bug or a
    // collision; either way the record cannot be trusted.
    if (r.bad || r.pos != body.size()) return {read_status::corrupt, size};
    return {read_status::ok, size};
}

}  // namespace mqtt::core::store
