// SPDX-License-Identifier: MIT
#include "common/sub_filters.hpp"

#include <fmt/format.h>

#include <system_error>

#include "common/connection_options.hpp"
#include "common/exit_codes.hpp"

namespace mq::tools {
namespace {

[[noreturn]] void usage(const std::string& why) { throw std::system_error(tool_error::usage, why); }

// The value of option `name` for filter `i`: the only one, or the i-th.
const std::string* value_for(const std::vector<std::string>& values, std::size_t i, std::size_t filters,
                             std::string_view name) {
    if (values.empty()) return nullptr;
    if (values.size() == 1) return &values[0];
    if (values.size() != filters) {
        usage(fmt::format("{} given {} times for {} filters: give it once (all filters) or once per -t", name,
                          values.size(), filters));
    }
    return &values[i];
}

bool parse_bool(const std::string& v, std::string_view name) {
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    usage(fmt::format("{} takes true or false, not '{}'", name, v));
}

bool any_true(const std::vector<std::string>& values, std::string_view name) {
    bool any = false;
    for (const auto& v : values) any = parse_bool(v, name) || any;
    return any;
}

}  // namespace

bool sub_filter_options::uses_v5_options() const {
    return any_true(no_local, "--no-local") || any_true(retain_as_published, "--retain-as-published") ||
           !retain_handling.empty();
}

std::vector<mqtt::subscription> build_subscriptions(const std::vector<std::string>& filters,
                                                    const sub_filter_options& o) {
    std::vector<mqtt::subscription> subs;
    subs.reserve(filters.size());
    const std::size_t n = filters.size();
    for (std::size_t i = 0; i < n; ++i) {
        mqtt::subscription s;
        s.filter = filters[i];
        if (const auto* v = value_for(o.qos, i, n, "-q")) s.max_qos = parse_qos(*v, "-q");
        if (const auto* v = value_for(o.no_local, i, n, "--no-local")) s.no_local = parse_bool(*v, "--no-local");
        if (const auto* v = value_for(o.retain_as_published, i, n, "--retain-as-published"))
            s.retain_as_published = parse_bool(*v, "--retain-as-published");
        if (const auto* v = value_for(o.retain_handling, i, n, "--retain-handling")) {
            if (*v != "0" && *v != "1" && *v != "2") usage("--retain-handling must be 0, 1 or 2");
            s.retain_handling = static_cast<std::uint8_t>((*v)[0] - '0');
        }
        subs.push_back(std::move(s));
    }
    return subs;
}

}  // namespace mq::tools
