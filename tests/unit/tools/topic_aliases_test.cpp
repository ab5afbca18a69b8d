// SPDX-License-Identifier: MIT
// Outgoing topic aliases of mq pub --topic-alias (MQTT 5.0 section 3.3.2.3.4).
#include <doctest/doctest.h>

#include "common/topic_aliases.hpp"

using namespace mq::tools;
using mqtt::property_id;

namespace {

std::string sent_topic(const outgoing_topic_aliases& a, std::string topic, std::uint32_t alias = 0) {
    mqtt::publish m;
    m.topic = std::move(topic);
    if (alias != 0) m.props.set_int(property_id::topic_alias, alias);
    const bool omitted = a.apply(m);
    CHECK(omitted == m.topic.empty());
    CHECK(m.props.get_int(property_id::topic_alias).value_or(0) == alias);  // the alias always stays
    return m.topic;
}

}  // namespace

TEST_CASE("topic alias: the topic is omitted only once the binding message is confirmed") {
    outgoing_topic_aliases a;
    // In flight, not yet confirmed: every message still carries the topic.
    CHECK(sent_topic(a, "plant/line1/temp", 1) == "plant/line1/temp");
    CHECK(sent_topic(a, "plant/line1/temp", 1) == "plant/line1/temp");
    a.confirm(1, "plant/line1/temp");
    CHECK(sent_topic(a, "plant/line1/temp", 1) == "");
    CHECK(sent_topic(a, "plant/line1/temp", 1) == "");
}

TEST_CASE("topic alias: other topics, other aliases and messages without one keep their topic") {
    outgoing_topic_aliases a;
    a.confirm(3, "a/1");
    CHECK(sent_topic(a, "a/2", 3) == "a/2");  // alias 3 means a/1
    CHECK(sent_topic(a, "a/1", 4) == "a/1");  // alias 4 is unbound
    CHECK(sent_topic(a, "a/1") == "a/1");     // no alias
    CHECK(sent_topic(a, "a/1", 3) == "");
    a.confirm(3, "a/2");                      // rebound
    CHECK(sent_topic(a, "a/1", 3) == "a/1");
    CHECK(sent_topic(a, "a/2", 3) == "");
}

TEST_CASE("topic alias: reset() starts a new connection with no bindings") {
    outgoing_topic_aliases a;
    a.confirm(1, "t");
    CHECK(sent_topic(a, "t", 1) == "");
    a.reset();
    CHECK(sent_topic(a, "t", 1) == "t");
}
