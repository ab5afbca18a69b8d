// SPDX-License-Identifier: MIT
#include <mqtt/net/password_hash.hpp>

#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace mqtt::net {
namespace {

std::vector<std::uint8_t> pbkdf2(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt,
                                 std::uint32_t iterations) {
    std::vector<std::uint8_t> out(core::password_hash_size);
    // An empty password is legal; OpenSSL wants a non-null pointer for it.
    static const char empty = 0;
    const char* pw = password.empty() ? &empty : reinterpret_cast<const char*>(password.data());
    if (PKCS5_PBKDF2_HMAC(pw, static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                          static_cast<int>(iterations), EVP_sha512(), static_cast<int>(out.size()),
                          out.data()) != 1)
        throw std::runtime_error("PBKDF2-HMAC-SHA512 failed");
    return out;
}

}  // namespace

core::password_entry hash_password(std::string username, std::string_view password,
                                   std::uint32_t iterations) {
    if (iterations == 0 || iterations > core::password_max_iterations)
        throw std::invalid_argument("iterations must be 1.." + std::to_string(core::password_max_iterations));
    core::password_entry e;
    e.username = std::move(username);
    e.iterations = iterations;
    e.salt.resize(core::password_salt_size);
    if (RAND_bytes(e.salt.data(), static_cast<int>(e.salt.size())) != 1)
        throw std::runtime_error("cannot get random bytes for the salt");
    const auto* p = reinterpret_cast<const std::uint8_t*>(password.data());
    e.hash = pbkdf2({p, password.size()}, e.salt, iterations);
    return e;
}

bool verify_password(const core::password_entry& e, std::span<const std::uint8_t> password) {
    if (e.hash.size() != core::password_hash_size || e.iterations == 0) return false;
    const auto h = pbkdf2(password, e.salt, e.iterations);
    return CRYPTO_memcmp(h.data(), e.hash.data(), h.size()) == 0;
}

}  // namespace mqtt::net
