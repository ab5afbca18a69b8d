// SPDX-License-Identifier: MIT
// build_subscriptions: per-filter QoS and v5 options of `mq sub` (cli-contract.md §5).
#include <doctest/doctest.h>

#include <system_error>

#include "common/exit_codes.hpp"
#include "common/sub_filters.hpp"

using namespace mq::tools;

TEST_CASE("sub filters: no option gives QoS 0 and default options on every filter") {
    const auto subs = build_subscriptions({"a", "b"}, {});
    REQUIRE(subs.size() == 2);
    CHECK(subs[1].filter == "b");
    CHECK(subs[1].max_qos == mqtt::qos::at_most_once);
    CHECK_FALSE(subs[0].no_local);
    CHECK(subs[0].retain_handling == 0);
}

TEST_CASE("sub filters: a value given once applies to all, once per filter pairs in order") {
    sub_filter_options o;
    o.qos = {"1", "2"};
    o.no_local = {"true"};
    o.retain_as_published = {"false", "true"};
    o.retain_handling = {"2"};
    const auto subs = build_subscriptions({"a/#", "b"}, o);
    CHECK(subs[0].max_qos == mqtt::qos::at_least_once);
    CHECK(subs[1].max_qos == mqtt::qos::exactly_once);
    CHECK(subs[0].no_local);
    CHECK(subs[1].no_local);
    CHECK_FALSE(subs[0].retain_as_published);
    CHECK(subs[1].retain_as_published);
    CHECK(subs[0].retain_handling == 2);
    CHECK(subs[1].retain_handling == 2);
    CHECK(o.uses_v5_options());
    sub_filter_options q;
    q.qos = {"1"};
    q.no_local = {"false"};
    CHECK_FALSE(q.uses_v5_options());
}

TEST_CASE("sub filters: wrong counts and bad values are usage errors") {
    auto usage = [](const sub_filter_options& o) {
        try {
            (void)build_subscriptions({"a", "b", "c"}, o);
        } catch (const std::system_error& e) {
            return e.code() == make_error_code(tool_error::usage);
        }
        return false;
    };
    sub_filter_options o;
    o.qos = {"1", "2"};
    CHECK(usage(o));
    o.qos = {"3"};
    CHECK(usage(o));
    o = {};
    o.retain_handling = {"0", "1", "3"};
    CHECK(usage(o));
    o = {};
    o.no_local = {"yes"};
    CHECK(usage(o));
}
