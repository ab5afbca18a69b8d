// SPDX-License-Identifier: MIT
#pragma once
// Bounds-checked primitive readers and writers shared by decode.cpp,
// decode_connect.cpp, encode.cpp and property_codec.cpp. Internal to the codec.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <mqtt/codec/limits.hpp>
#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/utf8.hpp>
#include <mqtt/codec/varint.hpp>

namespace mqtt::detail {

/// Reads fields from one frame body. The first failure sticks: later reads
/// return zero values and the caller checks `ec` once per packet section.
class reader {
public:
    reader(std::span<const std::uint8_t> in, const limits& lim, std::error_code& ec) noexcept
        : in_(in), lim_(lim), ec_(ec) {}

    bool ok() const noexcept { return !ec_; }
    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    bool at_end() const noexcept { return pos_ == in_.size(); }
    std::size_t position() const noexcept { return pos_; }
    const limits& lim() const noexcept { return lim_; }
    std::error_code& error_ref() noexcept { return ec_; }

    void fail(codec_error e) noexcept {
        if (!ec_) ec_ = make_error_code(e);
    }

    std::uint8_t u8() noexcept {
        if (!need(1)) return 0;
        return in_[pos_++];
    }
    std::uint16_t u16() noexcept {
        if (!need(2)) return 0;
        const auto v = static_cast<std::uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    std::uint32_t u32() noexcept {
        if (!need(4)) return 0;
        const std::uint32_t v = (std::uint32_t{in_[pos_]} << 24) | (std::uint32_t{in_[pos_ + 1]} << 16) |
                                (std::uint32_t{in_[pos_ + 2]} << 8) | std::uint32_t{in_[pos_ + 3]};
        pos_ += 4;
        return v;
    }
    std::uint32_t varint() noexcept {
        if (ec_) return 0;
        std::uint32_t v = 0;
        std::size_t used = 0;
        switch (decode_varint(in_.subspan(pos_), v, used)) {
            case varint_status::ok: pos_ += used; return v;
            case varint_status::need_more: fail(codec_error::truncated); return 0;
            case varint_status::too_long: fail(codec_error::remaining_length_too_long); return 0;
            case varint_status::not_minimal: fail(codec_error::varint_not_minimal); return 0;
        }
        return 0;
    }
    /// Two-byte length then bytes; allocation happens only after the length is
    /// known to fit in the frame [MQTT-1.5.6].
    std::vector<std::uint8_t> binary_data() {
        const std::uint16_t n = u16();
        if (!ok()) return {};
        if (n > lim_.max_string_length) {
            fail(codec_error::string_too_long);
            return {};
        }
        if (!need(n)) return {};
        std::vector<std::uint8_t> out(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                      in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
        pos_ += n;
        return out;
    }
    /// UTF-8 Encoded String [MQTT-1.5.4-1] [MQTT-1.5.4-2].
    std::string utf8_string() {
        const std::uint16_t n = u16();
        if (!ok()) return {};
        if (n > lim_.max_string_length) {
            fail(codec_error::string_too_long);
            return {};
        }
        if (!need(n)) return {};
        std::string out(reinterpret_cast<const char*>(in_.data() + pos_), n);
        pos_ += n;
        switch (check_utf8(out)) {
            case utf8_status::ok:
            case utf8_status::control: break;
            case utf8_status::invalid: fail(codec_error::invalid_utf8); return {};
            case utf8_status::null_character: fail(codec_error::null_character); return {};
        }
        return out;
    }
    /// The rest of the frame (PUBLISH payload, CONNECT password tail, ...).
    std::vector<std::uint8_t> rest() {
        std::vector<std::uint8_t> out(in_.begin() + static_cast<std::ptrdiff_t>(pos_), in_.end());
        pos_ = in_.size();
        return out;
    }
    /// A sub-reader over the next n bytes (property blocks); advances past them.
    std::span<const std::uint8_t> take(std::size_t n) noexcept {
        if (!need(n)) return {};
        auto s = in_.subspan(pos_, n);
        pos_ += n;
        return s;
    }

private:
    bool need(std::size_t n) noexcept {
        if (ec_) return false;
        if (remaining() < n) {
            fail(codec_error::truncated);
            return false;
        }
        return true;
    }

    std::span<const std::uint8_t> in_;
    std::size_t pos_ = 0;
    const limits& lim_;
    std::error_code& ec_;
};

inline void put_u8(std::vector<std::uint8_t>& out, std::uint8_t v) { out.push_back(v); }
inline void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 24));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
/// Caller has checked size <= 65,535 (encoded_size returns 0 otherwise).
inline void put_bytes16(std::vector<std::uint8_t>& out, const void* data, std::size_t n) {
    put_u16(out, static_cast<std::uint16_t>(n));
    const auto* p = static_cast<const std::uint8_t*>(data);
    out.insert(out.end(), p, p + n);
}

}  // namespace mqtt::detail
