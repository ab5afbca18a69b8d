// SPDX-License-Identifier: MIT
#include "server_auth.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <mqtt/net/server.hpp>

namespace mqtt::net::detail {
namespace {

constexpr std::size_t max_cached_users = 10'000;

std::string read_whole(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw config_error("cannot read " + path + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) throw config_error("cannot read " + path + ": " + std::strerror(errno));
    return ss.str();
}

[[noreturn]] void bad_line(const std::string& path, const core::file_error& e) {
    throw config_error(path + ":" + std::to_string(e.line) + ": " + e.message);
}

}  // namespace

auth_files load_auth_files(const std::string& password_path, const std::string& acl_path) {
    auth_files out;
    core::file_error err;
    if (!password_path.empty()) {
        auto p = core::password_file::parse(read_whole(password_path), err);
        if (!p) bad_line(password_path, err);
        out.passwords = std::make_shared<const core::password_file>(std::move(*p));
    }
    if (!acl_path.empty()) {
        auto a = core::acl::parse(read_whole(acl_path), err);
        if (!a) bad_line(acl_path, err);
        out.acl = std::make_shared<const core::acl>(std::move(*a));
    }
    return out;
}

credential_cache::credential_cache() {
    if (RAND_bytes(secret_.data(), static_cast<int>(secret_.size())) != 1)
        throw std::runtime_error("cannot get random bytes for the credential cache");
}

std::string credential_cache::key(const core::password_entry& e,
                                  std::span<const std::uint8_t> password) const {
    // HMAC over length-prefixed fields, so no two inputs share an encoding.
    std::string msg;
    const auto field = [&msg](const void* p, std::size_t n) {
        const auto len = static_cast<std::uint32_t>(n);
        msg.append(reinterpret_cast<const char*>(&len), sizeof len);
        msg.append(static_cast<const char*>(p), n);
    };
    field(e.username.data(), e.username.size());
    field(e.salt.data(), e.salt.size());
    field(e.hash.data(), e.hash.size());
    field(password.data(), password.size());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
    OPENSSL_cleanse(msg.data(), msg.size());
    return std::string(reinterpret_cast<const char*>(mac), len);
}

bool credential_cache::contains(const core::password_entry& e, std::span<const std::uint8_t> password) const {
    const auto it = by_user_.find(e.username);
    if (it == by_user_.end()) return false;
    const std::string k = key(e, password);
    return k.size() == it->second.size() && CRYPTO_memcmp(k.data(), it->second.data(), k.size()) == 0;
}

void credential_cache::add(const core::password_entry& e, std::span<const std::uint8_t> password) {
    if (by_user_.size() >= max_cached_users && !by_user_.contains(e.username)) by_user_.clear();
    by_user_[e.username] = key(e, password);
}

}  // namespace mqtt::net::detail
