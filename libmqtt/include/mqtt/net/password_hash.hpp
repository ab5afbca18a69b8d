// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <mqtt/core/password_file.hpp>

/// PBKDF2-HMAC-SHA512 (OpenSSL 3) for the broker's password file; the file
/// format itself is core::password_file.
namespace mqtt::net {

inline constexpr std::uint32_t default_password_iterations = 50'000;

/// A new entry for `username`: 16 random salt bytes (RAND_bytes), 64-byte
/// hash. Throws std::runtime_error if OpenSSL fails.
core::password_entry hash_password(std::string username, std::string_view password,
                                   std::uint32_t iterations = default_password_iterations);

/// True when `password` hashes to `e.hash` with e's salt and iterations; the
/// comparison is constant-time. Slow by design: run it off the network thread.
bool verify_password(const core::password_entry& e, std::span<const std::uint8_t> password);

}  // namespace mqtt::net
