// SPDX-License-Identifier: MIT
// Broker authentication: client certificate, password file (PBKDF2 off the
// worker thread, successes cached), anonymous policy; and reloading the files.
#include <boost/asio/post.hpp>

#include <mqtt/net/password_hash.hpp>

#include "server_impl.hpp"

namespace mqtt::net::detail {

void server_state::load_auth() {
    auth.set(load_auth_files(opts.password_file, opts.acl_file));
    anonymous_allowed = opts.allow_anonymous.value_or(opts.password_file.empty());
    // Unknown users are checked against this entry, so they take as long as known ones.
    if (!opts.password_file.empty()) dummy_entry = hash_password("", "mq-dummy", default_password_iterations);
}

bool server_state::reload() {
    try {
        auth.set(load_auth_files(opts.password_file, opts.acl_file));
    } catch (const std::exception& e) {
        // hardening J08/S14: never fall back to open defaults.
        MQ_LOG(log, log_level::error, "broker", "", "reload failed, keeping the files in force: {}",
               e.what());
        return false;
    }
    MQ_LOG(log, log_level::info, "broker", "", "reloaded password and ACL files");
    return true;
}

void server_state::on_connect(connection& c, const core::connect_request& req) {
    auto& s = c.session();
    if (stopping) {
        s.reject(reason::server_unavailable);
        return;
    }
    const auto files = auth.get();
    if (const auto& cn = c.cert_name()) {
        // A certificate the CA verified is the credential; its CN is the username.
        c.username = cn;
        attach_session(c, req);
        return;
    }
    if (!req.username) {
        if (!anonymous_allowed) {
            // [MQTT-3.2.2-8] hardening J02: 0x87 (3.1.1: 0x05), then close [MQTT-3.2.2-7].
            MQ_LOG(log, log_level::info, "broker", req.client_id, "refused: anonymous clients not allowed");
            s.reject(reason::not_authorized);
            return;
        }
        attach_session(c, req);
        return;
    }
    if (!files->passwords) {
        if (!anonymous_allowed) {
            s.reject(reason::not_authorized);
            return;
        }
        c.username = req.username;  // unverified: only the ACL sees it
        attach_session(c, req);
        return;
    }
    const core::password_entry* known = files->passwords->find(*req.username);
    std::vector<std::uint8_t> password = req.password.value_or(std::vector<std::uint8_t>{});
    if (known && req.password && credentials.contains(*known, password)) {
        c.username = req.username;
        attach_session(c, req);
        return;
    }
    // PBKDF2 takes tens of milliseconds: run it on the hash pool, keep the
    // reader parked, and finish on the worker. `files` keeps the entry alive.
    c.begin_auth();
    const core::password_entry* entry = known ? known : &dummy_entry;
    const bool has_password = req.password.has_value();
    asio::post(hash_pool, [this, self = c.shared_from_this(), files, entry, known, has_password,
                           password = std::move(password), req]() mutable {
        if (self->abandoned()) {
            // Closed while queued: skip the hash; the connection is released on its worker.
            auto& owner = self->owner();
            asio::post(owner, [self = std::move(self)] {});
            return;
        }
        const bool match = verify_password(*entry, password);
        const bool ok = known && has_password && match;
        // Moved, not copied: the connection must not end on this pool thread.
        auto& owner = self->owner();
        asio::post(owner, [this, self = std::move(self), files, entry, ok, password = std::move(password),
                           req = std::move(req)]() mutable {
            const state_lock lk(mu);
            if (self->is_closed()) return;
            if (ok) credentials.add(*entry, password);
            auto& sess = self->session();
            if (!ok) {
                // [MQTT-3.1.4-2] hardening J01: wrong password and unknown user look alike.
                MQ_LOG(log, log_level::info, "broker", req.client_id, "refused: bad username or password");
                sess.reject(reason::bad_user_name_or_password);  // 0x86 (3.1.1: 0x04)
            } else {
                self->username = req.username;
                attach_session(*self, req);
            }
            self->apply_actions();
            self->end_auth();
        });
    });
}

}  // namespace mqtt::net::detail
