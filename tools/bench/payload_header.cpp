// SPDX-License-Identifier: MIT
#include "bench/payload_header.hpp"

#include <algorithm>

namespace mq::tools::bench {

namespace {
void put_le(std::uint8_t* p, std::uint64_t v, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_le(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
    return v;
}
}  // namespace

void encode_header(const payload_header& h, std::span<std::uint8_t> out) noexcept {
    std::uint8_t* p = out.data();
    std::copy(std::begin(payload_magic), std::end(payload_magic), p);
    put_le(p + 4, h.clock_domain, 4);
    put_le(p + 8, h.run_id, 4);
    put_le(p + 12, h.publisher_id, 4);
    put_le(p + 16, h.sequence, 8);
    put_le(p + 24, h.intended_ns, 8);
    put_le(p + 32, h.actual_ns, 8);
}

void patch_actual_send(std::span<std::uint8_t> out, std::uint64_t actual_ns) noexcept {
    put_le(out.data() + payload_actual_offset, actual_ns, 8);
}

std::optional<payload_header> decode_header(std::span<const std::uint8_t> in) noexcept {
    if (in.size() < payload_header_size ||
        !std::equal(std::begin(payload_magic), std::end(payload_magic), in.data())) {
        return std::nullopt;
    }
    const std::uint8_t* p = in.data();
    payload_header h;
    h.clock_domain = static_cast<std::uint32_t>(get_le(p + 4, 4));
    h.run_id = static_cast<std::uint32_t>(get_le(p + 8, 4));
    h.publisher_id = static_cast<std::uint32_t>(get_le(p + 12, 4));
    h.sequence = get_le(p + 16, 8);
    h.intended_ns = get_le(p + 24, 8);
    h.actual_ns = get_le(p + 32, 8);
    return h;
}

void fill_padding(std::span<std::uint8_t> payload) noexcept {
    for (std::size_t i = payload_header_size; i < payload.size(); ++i) {
        payload[i] = static_cast<std::uint8_t>('a' + i % 26);
    }
}

std::uint32_t clock_domain_from_boot_id(std::string_view boot_id) noexcept {
    while (!boot_id.empty() && (boot_id.back() == '\n' || boot_id.back() == ' ' || boot_id.back() == '\r')) {
        boot_id.remove_suffix(1);
    }
    std::uint32_t h = 2166136261u;
    for (const char c : boot_id) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 16777619u;
    }
    return h == 0 ? 1 : h;
}

}  // namespace mq::tools::bench
