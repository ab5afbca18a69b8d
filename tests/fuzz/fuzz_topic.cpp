// SPDX-License-Identifier: MIT
// libFuzzer target for utf8 and topic rules. Input: [split][a bytes][b bytes],
// where `split` is the length of a. a is used as a name (and filter), b as a
// filter; topic_matches is compared with a level-split reference.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/topic.hpp>
#include <mqtt/codec/utf8.hpp>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

void require(bool ok, const char* what) {
    if (!ok) fail(what);
}

std::vector<std::string_view> split_levels(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '/') {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

// Independent matcher, used only on valid inputs.
bool reference_match(std::string_view filter, std::string_view name) {
    const auto f = split_levels(filter);
    const auto n = split_levels(name);
    if (name[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;  // [MQTT-4.7.2-1]
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "#") return true;
        if (i >= n.size()) return false;
        if (f[i] != "+" && f[i] != n[i]) return false;
    }
    return f.size() == n.size();
}

void check_utf8_consistency(std::string_view s) {
    const auto lax = mqtt::check_utf8(s, false);
    const auto strict = mqtt::check_utf8(s, true);
    require(lax != mqtt::utf8_status::control, "control without the policy");
    if (lax == mqtt::utf8_status::ok) {
        require(strict == mqtt::utf8_status::ok || strict == mqtt::utf8_status::control,
                "policy changed a valid string into an error");
    } else {
        require(strict == lax, "policy changed an error");
    }
}

void check_name(std::string_view a) {
    const std::error_code ec = mqtt::check_topic_name(a);
    if (ec) {
        require(ec.category() == mqtt::codec_category(), "name error category");
        return;
    }
    require(!a.empty() && !mqtt::has_wildcard(a), "valid name with wildcard or empty");
    // A valid name is a valid filter (unless it happens to look shared) and
    // matches itself.
    std::error_code share_ec;
    if (!mqtt::parse_shared(a, share_ec)) {
        require(!mqtt::check_topic_filter(a), "valid name is not a valid filter");
    }
    require(mqtt::topic_matches(a, a), "a name does not match itself");
    // [MQTT-4.7.2-1] '#' matches every name not starting with '$'.
    require(mqtt::topic_matches("#", a) == (a[0] != '$'), "'#' and the dollar rule");
    // A filter of '+' levels matches exactly the names with as many levels.
    const auto levels = static_cast<std::size_t>(std::count(a.begin(), a.end(), '/')) + 1;
    if (levels <= 64) {
        std::string pluses = "+";
        for (std::size_t i = 1; i < levels; ++i) pluses += "/+";
        require(mqtt::topic_matches(pluses, a) == (a[0] != '$'), "'+' per level");
        require(!mqtt::topic_matches(pluses + "/+", a), "one '+' too many matched");
        require(mqtt::topic_matches(pluses + "/#", a) == (a[0] != '$'), "'x/#' parent match");
    }
}

void check_filter(std::string_view b) {
    require(mqtt::has_wildcard(b) == (b.find_first_of("+#") != std::string_view::npos),
            "has_wildcard");
    std::error_code share_ec;
    const auto shared = mqtt::parse_shared(b, share_ec);
    if (shared && !share_ec) {
        require(
            !shared->group.empty() && shared->group.find_first_of("/+#") == std::string_view::npos,
            "share group syntax");
        require(!shared->filter.empty(), "empty filter in a share");
        require(shared->filter.data() + shared->filter.size() == b.data() + b.size(),
                "share filter is not the tail");
    }
    const std::error_code ec = mqtt::check_topic_filter(b);
    if (!ec && shared) require(!share_ec, "valid filter with a bad share");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t split = std::min<std::size_t>(data[0], all.size());
    const std::string_view a = all.substr(0, split);
    const std::string_view b = all.substr(split);

    check_utf8_consistency(all);
    check_utf8_consistency(a);
    check_name(a);
    check_filter(b);
    check_filter(a);
    (void)mqtt::check_topic_name(b, 3);
    (void)mqtt::check_topic_filter(b, 3);

    // Differential matching on valid, non-shared filters.
    std::error_code share_ec;
    if (!mqtt::check_topic_name(a) && !mqtt::check_topic_filter(b) &&
        !mqtt::parse_shared(b, share_ec)) {
        require(mqtt::topic_matches(b, a) == reference_match(b, a), "topic_matches vs reference");
        if (!mqtt::has_wildcard(b)) require(mqtt::topic_matches(b, a) == (a == b), "exact filter");
    }
    // Arbitrary (invalid) inputs must not crash the matcher either.
    (void)mqtt::topic_matches(b, a);
    (void)mqtt::topic_matches(a, b);
    return 0;
}
