// SPDX-License-Identifier: MIT
#include "bench/source_ips.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace mq::tools::bench {

namespace {

bool is_address(const std::string& s) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string v4_text(std::uint32_t host_order) {
    return fmt::format("{}.{}.{}.{}", host_order >> 24, (host_order >> 16) & 0xFF, (host_order >> 8) & 0xFF,
                       host_order & 0xFF);
}

bool add_block(const std::string& item, std::vector<std::string>& out, std::string& err) {
    const auto slash = item.find('/');
    const std::string base = item.substr(0, slash);
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
        } else if (is_address(item)) {
            out.push_back(item);
        } else {
            err = fmt::format("--source-ip: '{}' is not an IP address", item);
            return std::nullopt;
        }
        if (out.size() > 65536) {
            err = "--source-ip: more than 65,536 addresses";
            return std::nullopt;
        }
    }
    return out;
}

}  // namespace mq::tools::bench
