// SPDX-License-Identifier: MIT
// `--source-ip LIST|CIDR` of mq bench (bench-method.md §6): the local addresses
// clients are bound to round-robin, to pass one address's ephemeral port range.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools::bench {

/// "127.0.0.2,127.0.0.3", "::1" or an IPv4 block "10.0.0.0/28" (its host
/// addresses: without the network and broadcast address below /31). nullopt and
/// `err` set for anything that is not an address, or a block over 65,536 addresses.
std::optional<std::vector<std::string>> parse_source_ips(std::string_view text, std::string& err);

}  // namespace mq::tools::bench
