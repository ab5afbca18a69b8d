// SPDX-License-Identifier: MIT
// Broker TLS context: certificate chain and key, TLS 1.2 floor, optional
// client-certificate verification against a CA.
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_ephemeral_ca.hpp"
#include "transport.hpp"

namespace mqtt::net::detail {

namespace ssl = asio::ssl;

namespace {

std::string last_openssl_error(const boost::system::error_code& ec) {
    std::string s = ec.message();
    if (const unsigned long e = ERR_get_error(); e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        s = buf;
    }
    ERR_clear_error();
    return s;
}

[[noreturn]] void bad_file(const std::string& what, const std::string& path,
                           const boost::system::error_code& ec) {
    throw config_error("cannot use " + what + " '" + path + "': " + last_openssl_error(ec));
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const server_tls_options& o) {
    if (o.cert_file.empty() && o.ephemeral_ca_file.empty())
        throw config_error(
            "mqtts:// and wss:// listeners need --tls-cert and --tls-key (or --tls-ephemeral-ca)");
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    boost::system::error_code ec;
    // TLS 1.2 is the floor whatever is asked; 1.3 may raise it.
    int floor = TLS1_2_VERSION;
    if (o.min_version == "tlsv1.3" || o.min_version == "tls1.3" || o.min_version == "1.3")
        floor = TLS1_3_VERSION;
    else if (!o.min_version.empty() && o.min_version != "tlsv1.2" && o.min_version != "tls1.2" &&
             o.min_version != "1.2")
        throw config_error("unsupported TLS version '" + o.min_version + "' (tlsv1.2 or tlsv1.3)");
    SSL_CTX_set_min_proto_version(native, floor);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::single_dh_use);

    const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
    if (o.cert_file.empty()) {
        const ephemeral_tls made = make_ephemeral_ca(o.ephemeral_ca_file);
        ctx->use_certificate_chain(asio::buffer(made.cert_chain_pem), ec);
        if (!ec) ctx->use_private_key(asio::buffer(made.key_pem), ssl::context::pem, ec);
        if (ec) bad_file("ephemeral certificate for", o.ephemeral_ca_file, ec);
    } else {
        ctx->use_certificate_chain_file(o.cert_file, ec);
        if (ec) bad_file("certificate file", o.cert_file, ec);
        ctx->use_private_key_file(key, ssl::context::pem, ec);
        if (ec) bad_file("private key file", key, ec);
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        throw config_error("private key '" + key + "' does not match certificate '" + o.cert_file + "'");
    }
    if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(native, o.ciphers.c_str()) != 1) {
        ERR_clear_error();
        throw config_error("no usable cipher in '" + o.ciphers + "'");
    }
    if (!o.ca_file.empty()) {
        ctx->load_verify_file(o.ca_file, ec);
        if (ec) bad_file("CA file", o.ca_file, ec);
        // Ask for a certificate; without require_client_cert a client may still go without one.
        ssl::verify_mode mode = ssl::verify_peer;
        if (o.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
        ctx->set_verify_mode(mode);
        // Session resumption needs a context id once clients are verified.
        static const unsigned char sid[] = "mq-broker";
        SSL_CTX_set_session_id_context(native, sid, sizeof sid - 1);
    } else if (o.require_client_cert) {
        throw config_error("--require-client-cert needs --tls-cafile");
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
    return ctx;
}

}  // namespace mqtt::net::detail
