// SPDX-License-Identifier: MIT
#include "bench/source_ips.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace mq::tools::bench {

namespace {

// AF_INET, AF_INET6, or 0 for text that is not an address literal.
int family_of(const std::string& s) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, s.c_str(), buf) == 1) return AF_INET;
    if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) return AF_INET6;
    return 0;
}

const char* family_name(int f) {
    return f == AF_INET6 ? "IPv6" : "IPv4";
}

std::string v4_text(std::uint32_t host_order) {
    return fmt::format("{}.{}.{}.{}", host_order >> 24, (host_order >> 16) & 0xFF, (host_order >> 8) & 0xFF,
                       host_order & 0xFF);
}

bool add_block(const std::string& item, std::vector<std::string>& out, std::string& err) {
    const auto slash = item.find('/');
    const std::string base = item.substr(0, slash);
    if (family_of(base) == AF_INET6) {
        err = fmt::format("--source-ip: '{}': blocks are IPv4 only (A/N); list IPv6 addresses one by one", item);
        return false;
    }
    in_addr a{};
    unsigned bits = 0;
    const auto* end = item.data() + item.size();
    const auto [ptr, ec] = std::from_chars(item.data() + slash + 1, end, bits);
    if (::inet_pton(AF_INET, base.c_str(), &a) != 1 || ec != std::errc{} || ptr != end || bits > 32) {
        err = fmt::format("--source-ip: '{}' is not an IPv4 block like 10.0.0.0/28", item);
        return false;
    }
    if (bits < 16) {
        err = fmt::format("--source-ip: '{}' has more than 65,536 addresses", item);
        return false;
    }
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    const std::uint32_t net = ntohl(a.s_addr) & mask;
    const std::uint64_t size = std::uint64_t{1} << (32 - bits);
    // Below /31 the first and last addresses are the network and broadcast addresses.
    const std::uint64_t first = size > 2 ? 1 : 0, last = size > 2 ? size - 2 : size - 1;
    for (std::uint64_t i = first; i <= last; ++i) out.push_back(v4_text(net + static_cast<std::uint32_t>(i)));
    return true;
}

}  // namespace

std::optional<std::vector<std::string>> parse_source_ips(std::string_view text, std::string& err) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const std::string item(text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        if (item.empty()) {
            err = "--source-ip: an empty address in the list";
            return std::nullopt;
        }
        if (item.find('/') != std::string::npos) {
            if (!add_block(item, out, err)) return std::nullopt;
        } else if (family_of(item) != 0) {
            out.push_back(item);
        } else {
            err = fmt::format("--source-ip: '{}' is not an IP address (IPv4 like 127.0.0.2, IPv6 like ::1, or an "
                              "IPv4 block like 10.0.0.0/28)",
                              item);
            return std::nullopt;
        }
        if (out.size() > 65536) {
            err = "--source-ip: more than 65,536 addresses";
            return std::nullopt;
        }
    }
    return out;
}

std::optional<std::string> match_source_family(const std::vector<std::string>& ips, std::string& host) {
    if (ips.empty()) return std::nullopt;
    const int family = family_of(ips.front());
    for (const auto& ip : ips) {
        if (family_of(ip) != family) {
            return fmt::format("--source-ip: {} and {} are of different families; the clients of one target "
                               "bind to one family",
                               ips.front(), ip);
        }
    }
    if (const int target = family_of(host); target != 0) {
        if (target == family) return std::nullopt;
        return fmt::format("--source-ip: {} is an {} address but the target {} is {}", ips.front(),
                           family_name(family), host, family_name(target));
    }
    // A host name: connect to its first address of the sources' family, as a
    // socket bound to an IPv6 address cannot reach an IPv4 one.
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
        return fmt::format("--source-ip: {} is an {} address but the target '{}' has no {} address",
                           ips.front(), family_name(family), host, family_name(family));
    }
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = family == AF_INET6
                           ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(res->ai_addr)->sin6_addr)
                           : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr);
    const bool ok = ::inet_ntop(family, addr, text, sizeof text) != nullptr;
    ::freeaddrinfo(res);
    if (ok) host = text;
    return std::nullopt;
}

}  // namespace mq::tools::bench
