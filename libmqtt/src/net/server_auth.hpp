// SPDX-License-Identifier: MIT
#pragma once
// Private to the broker engine: the password and ACL files in force (swapped
// whole on reload) and the cache of verified credentials.
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include <mqtt/core/acl.hpp>
#include <mqtt/core/password_file.hpp>

namespace mqtt::net::detail {

/// One immutable generation of the auth files.
struct auth_files {
    std::shared_ptr<const core::password_file> passwords;  // null: no password file
    std::shared_ptr<const core::acl> acl;                  // null: everything allowed
};

/// Reads and parses both files (empty path = none). Throws config_error
/// "FILE:LINE: why" or "cannot read FILE: why".
auth_files load_auth_files(const std::string& password_path, const std::string& acl_path);

/// Thread-safe holder of the generation in force.
class auth_holder {
public:
    std::shared_ptr<const auth_files> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void set(auth_files f) {
        auto next = std::make_shared<const auth_files>(std::move(f));
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const auth_files> current_ = std::make_shared<const auth_files>();
};

/// Verified (username, password) pairs, so reconnect storms skip PBKDF2
/// (hardening §1.1). Keyed by HMAC-SHA256 under a random per-process secret:
/// no password is kept, and an entry counts only for the same stored hash, so
/// a changed password file invalidates it. Worker thread only.
class credential_cache {
public:
    credential_cache();
    bool contains(const core::password_entry& e, std::span<const std::uint8_t> password) const;
    void add(const core::password_entry& e, std::span<const std::uint8_t> password);

private:
    std::string key(const core::password_entry& e, std::span<const std::uint8_t> password) const;
    std::array<std::uint8_t, 32> secret_{};
    std::unordered_map<std::string, std::string> by_user_;  // username -> mac
};

}  // namespace mqtt::net::detail
