// SPDX-License-Identifier: MIT
#pragma once
// OpenSSL at the byte level for the TLS hardening rows (hardening.md T02 T05
// S05): a real ClientHello as bytes, and a blocking TLS peer whose records can
// be cut in half before the TCP connection is dropped without close_notify.
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/packets.hpp>

namespace mq::test {

struct ssl_ctx_free {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct ssl_free {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

/// The bytes of a genuine TLS ClientHello (what `openssl s_client` would send first).
inline std::vector<std::uint8_t> client_hello_bytes() {
    std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx(SSL_CTX_new(TLS_client_method()));
    std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx.get()));
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl.get(), rbio, wbio);  // ssl owns both
    SSL_set_tlsext_host_name(ssl.get(), "localhost");
    (void)SSL_connect(ssl.get());  // wants to read the ServerHello: returns -1, hello written
    std::vector<std::uint8_t> out(static_cast<std::size_t>(BIO_ctrl_pending(wbio)));
    if (out.empty() ||
        BIO_read(wbio, out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size()))
        throw std::runtime_error("no ClientHello produced");
    return out;
}

/// A blocking TLS client on a plain socket (no certificate verification: the
/// broker side is under test). After the handshake, `send_half_record` encrypts
/// a packet into memory and writes only the first half of the record.
class tls_raw_peer {
public:
    explicit tls_raw_peer(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        timeval tv{3, 0};  // every read and write is bounded
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("connect failed");
        ctx_.reset(SSL_CTX_new(TLS_client_method()));
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
        ssl_.reset(SSL_new(ctx_.get()));
        SSL_set_fd(ssl_.get(), fd_);
        if (SSL_connect(ssl_.get()) != 1) throw std::runtime_error("TLS handshake failed");
    }
    ~tls_raw_peer() { close(); }
    tls_raw_peer(const tls_raw_peer&) = delete;
    tls_raw_peer& operator=(const tls_raw_peer&) = delete;

    void send(const mqtt::packet& p, mqtt::protocol_version v = mqtt::protocol_version::v5) {
        std::vector<std::uint8_t> out;
        if (mqtt::encode(p, v, out)) throw std::runtime_error("encode failed");
        if (SSL_write(ssl_.get(), out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size()))
            throw std::runtime_error("SSL_write failed");
    }

    /// Up to `n` decrypted bytes (fewer on timeout or close).
    std::vector<std::uint8_t> read_bytes(std::size_t n) {
        std::vector<std::uint8_t> out(n);
        std::size_t got = 0;
        while (got < n) {
            const int r = SSL_read(ssl_.get(), out.data() + got, static_cast<int>(n - got));
            if (r <= 0) break;
            got += static_cast<std::size_t>(r);
        }
        out.resize(got);
        return out;
    }

    /// Encrypts `p` as a TLS record and puts only its first half on the wire.
    /// Returns the size of the whole record.
    std::size_t send_half_record(const mqtt::packet& p) {
        std::vector<std::uint8_t> plain;
        if (mqtt::encode(p, mqtt::protocol_version::v5, plain)) throw std::runtime_error("encode failed");
        BIO* mem = BIO_new(BIO_s_mem());
        SSL_set0_wbio(ssl_.get(), mem);  // the socket BIO stays for reading; ssl owns `mem`
        if (SSL_write(ssl_.get(), plain.data(), static_cast<int>(plain.size())) !=
            static_cast<int>(plain.size()))
            throw std::runtime_error("SSL_write to memory failed");
        std::vector<std::uint8_t> record(static_cast<std::size_t>(BIO_ctrl_pending(mem)));
        BIO_read(mem, record.data(), static_cast<int>(record.size()));
        const std::size_t half = record.size() / 2;
        if (::send(fd_, record.data(), half, MSG_NOSIGNAL) != static_cast<ssize_t>(half))
            throw std::runtime_error("send failed");
        return record.size();
    }

    /// Drops TCP without close_notify: FIN, or RST when `reset`.
    void drop(bool reset) {
        if (fd_ < 0) return;
        if (reset) {
            linger l{1, 0};
            ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        ::close(fd_);
        fd_ = -1;
    }

private:
    void close() {
        ssl_.reset();
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    int fd_ = -1;
    std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx_;
    std::unique_ptr<SSL, ssl_free> ssl_;
};

}  // namespace mq::test
