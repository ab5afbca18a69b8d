// SPDX-License-Identifier: MIT
// `--source-ip LIST|CIDR` of mq bench (bench-method.md §6): the local addresses
// clients are bound to round-robin, to pass one address's ephemeral port range.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::tools::bench {

/// "127.0.0.2,127.0.0.3", "::1,::2" or an IPv4 block "10.0.0.0/28" (its host
/// addresses: without the network and broadcast address below /31). nullopt and
/// `err` set for anything that is not an address, or a block over 65,536 addresses.
std::optional<std::vector<std::string>> parse_source_ips(std::string_view text, std::string& err);

/// Checks that `ips` are of one family and that the target `host` can be
/// reached from it: an address literal of the other family is an error; a host
/// name is replaced by its first address of the sources' family (an error when
/// it has none). Returns the error text.
std::optional<std::string> match_source_family(const std::vector<std::string>& ips, std::string& host);

}  // namespace mq::tools::bench
