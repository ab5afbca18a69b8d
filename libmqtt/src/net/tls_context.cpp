// SPDX-License-Identifier: MIT
// Client TLS context: trust, client certificate, protocol floor, ALPN.
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <mqtt/net/errors.hpp>

#include "transport.hpp"

namespace mqtt::net::detail {

namespace ssl = asio::ssl;

namespace {

std::string openssl_reason(const boost::system::error_code& ec) {
    std::string s = ec.message();
    const unsigned long e = ERR_get_error();
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        s = buf;
    }
    ERR_clear_error();
    return s;
}

[[noreturn]] void file_error(const std::string& what, const std::string& path,
                             const boost::system::error_code& ec) {
    throw std::system_error(std::make_error_code(std::errc::no_such_file_or_directory),
                            "cannot read " + what + " '" + path + "': " + openssl_reason(ec));
}

int version_of(const std::string& s) {
    if (s == "tlsv1.2" || s == "tls1.2" || s == "1.2") return TLS1_2_VERSION;
    if (s == "tlsv1.3" || s == "tls1.3" || s == "1.3") return TLS1_3_VERSION;
    if (s == "tlsv1.1" || s == "tls1.1" || s == "1.1") return TLS1_1_VERSION;
    if (s == "tlsv1" || s == "tls1" || s == "tlsv1.0" || s == "1.0") return TLS1_VERSION;
    return -1;
}

// SSLKEYLOGFILE-style key log for Wireshark; one file per process is enough.
std::mutex keylog_mutex;
std::FILE* keylog_file = nullptr;

void keylog_callback(const SSL*, const char* line) {
    std::lock_guard lock(keylog_mutex);
    if (!keylog_file) return;
    std::fputs(line, keylog_file);
    std::fputc('\n', keylog_file);
    std::fflush(keylog_file);
}

}  // namespace

std::shared_ptr<ssl::context> make_client_tls_context(const tls_options& o) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    boost::system::error_code ec;

    const int floor = version_of(o.min_version.empty() ? "tlsv1.2" : o.min_version);
    if (floor < 0)
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                "unknown TLS version '" + o.min_version + "' (tlsv1.2 or tlsv1.3)");
    SSL_CTX_set_min_proto_version(native, floor);

    if (!o.ca_file.empty() || !o.ca_path.empty()) {
        if (!o.ca_file.empty()) {
            ctx->load_verify_file(o.ca_file, ec);
            if (ec) file_error("CA file", o.ca_file, ec);
        }
        if (!o.ca_path.empty()) {
            ctx->add_verify_path(o.ca_path, ec);
            if (ec) file_error("CA directory", o.ca_path, ec);
        }
    } else {
        ctx->set_default_verify_paths(ec);  // the OS trust store
        ERR_clear_error();
    }
    if (!o.cert_file.empty()) {
        ctx->use_certificate_chain_file(o.cert_file, ec);
        if (ec) file_error("certificate file", o.cert_file, ec);
        const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
        ctx->use_private_key_file(key, ssl::context::pem, ec);
        if (ec) file_error("private key file", key, ec);
    }
    if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(native, o.ciphers.c_str()) != 1) {
        ERR_clear_error();
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                "no usable cipher in '" + o.ciphers + "'");
    }
    if (!o.alpn.empty()) {
        std::vector<unsigned char> wire;  // length-prefixed protocol names (RFC 7301)
        for (const auto& p : o.alpn) {
            if (p.empty() || p.size() > 255) continue;
            wire.push_back(static_cast<unsigned char>(p.size()));
            wire.insert(wire.end(), p.begin(), p.end());
        }
        SSL_CTX_set_alpn_protos(native, wire.data(), static_cast<unsigned>(wire.size()));
    }
    if (!o.keylog_file.empty()) {
        std::lock_guard lock(keylog_mutex);
        if (!keylog_file) keylog_file = std::fopen(o.keylog_file.c_str(), "a");
        if (!keylog_file)
            throw std::system_error(std::make_error_code(std::errc::permission_denied),
                                    "cannot open key log file '" + o.keylog_file + "'");
        SSL_CTX_set_keylog_callback(native, keylog_callback);
    }
    ctx->set_verify_mode(o.insecure ? ssl::verify_none : ssl::verify_peer);
    return ctx;
}

}  // namespace mqtt::net::detail
