// SPDX-License-Identifier: MIT
#pragma once
#include <string>

namespace mqtt::net::detail {

/// Server certificate chain and key (PEM) made by make_ephemeral_ca().
struct ephemeral_tls {
    std::string cert_chain_pem;  // server certificate, then the CA
    std::string key_pem;
};

/// Makes a throwaway CA and a server certificate for localhost, 127.0.0.1 and
/// ::1; writes the CA certificate (PEM) to `ca_path`. Throws config_error.
ephemeral_tls make_ephemeral_ca(const std::string& ca_path);

}  // namespace mqtt::net::detail
