// SPDX-License-Identifier: MIT
// libFuzzer target for `--expect` predicates (cli-contract.md §5.5): the input
// is the predicate text. parse_predicate either fails with a reason or gives a
// predicate that evaluates, without throwing, against fixed messages: a JSON
// payload with properties, a non-JSON payload, and invalid UTF-8; `=~`
// never matches (nor recurses through) a value above max_regex_subject.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/packets.hpp>

#include "common/expect.hpp"
#include "fuzz_support.hpp"

namespace {

mqtt::publish make_message(std::string_view topic, std::string_view payload) {
    mqtt::publish m;
    m.topic = std::string(topic);
    m.payload.assign(payload.begin(), payload.end());
    m.level = mqtt::qos::at_least_once;
    m.packet_id = 7;
    m.retain = true;
    m.props.set_string(mqtt::property_id::content_type, "application/json");
    m.props.set_string(mqtt::property_id::response_topic, "reply/1");
    m.props.add_user_property("k", "v");
    m.props.add_user_property("k", "second");
    m.props.add_user_property("", "");
    return m;
}

const std::vector<mqtt::publish>& messages() {
    static const std::vector<mqtt::publish> all{
        make_message("sensors/room1/temp",
                     R"({"t":21.5,"ok":true,"n":null,"big":18446744073709551616,"neg":-9223372036854775809,)"
                     R"("s":"caf\u00e9","tags":["a","b"],"deep":{"x":[1,2,{"y":"z"}]}})"),
        make_message("plain", "not json at all"),
        make_message("bytes", std::string_view("\xff\xfe\x00\xc0\xaf", 5)),
        make_message("empty", ""),
    };
    return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto pred = mq::tools::parse_predicate(text, error);
    if (!pred) {
        if (error.empty()) mq_fuzz::fail("predicate refused without a reason");
        return 0;
    }
    if (pred->path.empty()) mq_fuzz::fail("predicate without a path");
    if (pred->oper == mq::tools::predicate::op::match && !pred->regex) mq_fuzz::fail("=~ without a regex");
    if (pred->oper != mq::tools::predicate::op::exists && pred->oper != mq::tools::predicate::op::match &&
        !pred->value) {
        mq_fuzz::fail("comparison without a value");
    }
    // A nested quantifier such as `(a?)++` makes std::regex backtrack
    // exponentially even on short text; that cost is the user's own pattern,
    // not the broker's input, so regexes are parsed here but not run on the
    // fixed messages.
    if (pred->oper != mq::tools::predicate::op::match) {
        for (const auto& m : messages()) (void)mq::tools::evaluate(*pred, m);
    }
    // A long value from the broker must not overflow the stack of =~.
    if (pred->oper == mq::tools::predicate::op::match) {
        static const mqtt::publish long_message = make_message(std::string(64 * 1024, 'a'), std::string(64 * 1024, 'a'));
        const bool matched = mq::tools::evaluate(*pred, long_message);
        if (matched && (pred->path == "topic" || pred->path == "payload")) {
            mq_fuzz::fail("=~ matched a value above max_regex_subject");
        }
    }
    return 0;
}
