// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace mq::tools::bench {

/// The 40-byte little-endian header every bench payload starts with
/// (bench-method.md §4). Times are nanoseconds of the clock named by
/// clock_domain (a boot-id hash for CLOCK_MONOTONIC, 0 for wall clock).
struct payload_header {
    std::uint32_t clock_domain = 0;
    std::uint32_t run_id = 0;
    std::uint32_t publisher_id = 0;
    std::uint64_t sequence = 0;
    std::uint64_t intended_ns = 0;
    std::uint64_t actual_ns = 0;
    friend bool operator==(const payload_header&, const payload_header&) = default;
};

inline constexpr std::size_t payload_header_size = 40;
/// Offset of the actual send time, patched when the message is handed to the writer.
inline constexpr std::size_t payload_actual_offset = 32;
/// Magic `mqB1`; the last byte is the format version.
inline constexpr std::uint8_t payload_magic[4] = {'m', 'q', 'B', '1'};

/// Writes the header into out[0..40). Precondition: out.size() >= 40.
void encode_header(const payload_header& h, std::span<std::uint8_t> out) noexcept;
/// Overwrites only the actual send time. Precondition: out.size() >= 40.
void patch_actual_send(std::span<std::uint8_t> out, std::uint64_t actual_ns) noexcept;
/// Reads a header; nullopt when the payload is shorter than 40 bytes or the
/// magic is wrong (counted as `foreign` by the caller).
std::optional<payload_header> decode_header(std::span<const std::uint8_t> in) noexcept;
/// Fills bytes after the header with a fixed pattern so payloads of one size are identical
/// apart from the header (no compression or caching effect from content).
void fill_padding(std::span<std::uint8_t> payload) noexcept;

/// 32-bit FNV-1a of the host boot id text (trailing whitespace ignored); never 0,
/// since 0 means wall clock.
std::uint32_t clock_domain_from_boot_id(std::string_view boot_id) noexcept;

}  // namespace mq::tools::bench
