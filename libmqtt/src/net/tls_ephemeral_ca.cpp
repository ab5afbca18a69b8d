// SPDX-License-Identifier: MIT
// --tls-ephemeral-ca: a throwaway CA and a server certificate for localhost,
// 127.0.0.1 and ::1 (P-256, SHA-256, valid one day), made in memory at start.
// Only the CA certificate is written out, for clients to trust.
#include "tls_ephemeral_ca.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <mqtt/net/server.hpp>

namespace mqtt::net::detail {
namespace {

struct key_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct cert_free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct bio_free {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;
using cert_ptr = std::unique_ptr<X509, cert_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

[[noreturn]] void fail(const char* what) {
    ERR_clear_error();
    throw config_error(std::string("cannot make the ephemeral CA: ") + what);
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "extension");
    const int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    check(ok == 1, "extension");
}

cert_ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    cert_ptr x(X509_new());
    check(x != nullptr, "X509_new");
    check(X509_set_version(x.get(), 2) == 1, "version");
    unsigned char serial[16];
    check(RAND_bytes(serial, sizeof serial) == 1, "serial");
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    check(bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get())) != nullptr, "serial");
    BN_free(bn);
    check(X509_gmtime_adj(X509_getm_notBefore(x.get()), -60) != nullptr, "validity");
    check(X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600) != nullptr, "validity");
    check(X509_set_pubkey(x.get(), key) == 1, "public key");
    X509_NAME* name = X509_get_subject_name(x.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1,
                                     -1, 0) == 1,
          "subject");
    X509* signer = issuer ? issuer : x.get();
    check(X509_set_issuer_name(x.get(), X509_get_subject_name(signer)) == 1, "issuer");
    if (ca) {
        add_ext(x.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x.get(), signer, NID_basic_constraints, "CA:FALSE");
        add_ext(x.get(), signer, NID_key_usage, "critical,digitalSignature");
        add_ext(x.get(), signer, NID_ext_key_usage, "serverAuth");
        add_ext(x.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    }
    add_ext(x.get(), signer, NID_subject_key_identifier, "hash");
    check(X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "signing");
    return x;
}

template <class Write>
std::string pem(Write&& write) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(bio != nullptr && write(bio.get()) == 1, "PEM encoding");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

ephemeral_tls make_ephemeral_ca(const std::string& ca_path) {
    key_ptr ca_key(EVP_EC_gen("P-256"));
    key_ptr server_key(EVP_EC_gen("P-256"));
    check(ca_key && server_key, "key generation");
    const cert_ptr ca = make_cert(ca_key.get(), "mq ephemeral CA", nullptr, nullptr, true);
    const cert_ptr server = make_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), false);
    ephemeral_tls out;
    const std::string ca_pem = pem([&](BIO* b) { return PEM_write_bio_X509(b, ca.get()); });
    out.cert_chain_pem = pem([&](BIO* b) { return PEM_write_bio_X509(b, server.get()); }) + ca_pem;
    out.key_pem = pem([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    // Written under a temporary name, then renamed: a client never reads half a file.
    const std::string tmp = ca_path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw config_error("cannot write " + tmp + ": " + std::strerror(errno));
    const bool written = ::write(fd, ca_pem.data(), ca_pem.size()) == static_cast<ssize_t>(ca_pem.size());
    ::close(fd);
    if (!written || ::rename(tmp.c_str(), ca_path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw config_error("cannot write " + ca_path + ": " + std::strerror(errno));
    }
    return out;
}

}  // namespace mqtt::net::detail
