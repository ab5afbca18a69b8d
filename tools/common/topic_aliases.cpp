// SPDX-License-Identifier: MIT
#include "common/topic_aliases.hpp"

namespace mq::tools {

bool outgoing_topic_aliases::apply(mqtt::publish& m) const {
    const auto alias = m.props.get_int(mqtt::property_id::topic_alias);
    if (!alias || m.topic.empty()) return false;
    const auto it = bound_.find(*alias);
    if (it == bound_.end() || it->second != m.topic) return false;
    m.topic.clear();
    return true;
}

void outgoing_topic_aliases::confirm(std::uint32_t alias, const std::string& topic) { bound_[alias] = topic; }

}  // namespace mq::tools
