// SPDX-License-Identifier: MIT
#include <mqtt/core/router.hpp>

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <mqtt/codec/reason.hpp>
#include <mqtt/codec/topic.hpp>
#include <mqtt/core/topic_tree.hpp>

namespace mqtt::core {
namespace {

using detail::shared_group;
using detail::subscriber;
using detail::topic_node;

qos min_qos(qos a, qos b) noexcept { return a < b ? a : b; }

std::vector<subscriber>::iterator find_session(std::vector<subscriber>& list, session_ref s) {
    return std::lower_bound(list.begin(), list.end(), s,
                            [](const subscriber& x, session_ref v) { return x.session < v; });
}

std::vector<shared_group>::iterator find_group(std::vector<shared_group>& groups,
                                               std::string_view name) {
    return std::find_if(groups.begin(), groups.end(),
                        [name](const shared_group& g) { return g.name == name; });
}

// Where a filter's subscriptions live: the node of the filter proper plus,
// for `$share/{group}/...`, the group name.
struct filter_parts {
    std::string_view body;
    std::optional<std::string_view> group;
};

std::optional<filter_parts> split_filter(std::string_view filter) noexcept {
    std::error_code ec;
    const auto shared = parse_shared(filter, ec);
    if (ec) return std::nullopt;
    if (shared) return filter_parts{shared->filter, shared->group};
    if (filter.empty()) return std::nullopt;
    return filter_parts{filter, std::nullopt};
}

// One matching non-shared subscription; `order` keeps the merge deterministic.
struct hit {
    session_ref session;
    std::size_t order;
    const subscriber_options* options;
};

}  // namespace

struct router::impl {
    detail::topic_tree tree;
    // Filters as the session wrote them, for unsubscribe_all.
    std::unordered_map<session_ref, std::vector<std::string>> filters;
    std::size_t count = 0;
    // Scratch reused by every route() call.
    std::vector<topic_node*> matched;
    std::vector<hit> hits;

    // Removes the trie entry only; false when absent.
    bool remove(session_ref s, std::string_view filter) {
        const auto parts = split_filter(filter);
        if (!parts) return false;
        topic_node* n = tree.find(parts->body);
        if (n == nullptr) return false;
        if (parts->group) {
            const auto g = find_group(n->groups, *parts->group);
            if (g == n->groups.end()) return false;
            const auto it = find_session(g->members, s);
            if (it == g->members.end() || it->session != s) return false;
            const auto index = static_cast<std::size_t>(it - g->members.begin());
            g->members.erase(it);
            // Keep pointing at the member that was next.
            if (index < g->next) --g->next;
            if (g->next >= g->members.size()) g->next = 0;
            if (g->members.empty()) n->groups.erase(g);
        } else {
            const auto it = find_session(n->subscribers, s);
            if (it == n->subscribers.end() || it->session != s) return false;
            n->subscribers.erase(it);
        }
        --count;
        tree.prune(*n);
        return true;
    }

    void forget_filter(session_ref s, std::string_view filter) {
        const auto entry = filters.find(s);
        if (entry == filters.end()) return;
        auto& list = entry->second;
        const auto it = std::find(list.begin(), list.end(), filter);
        if (it != list.end()) {
            *it = std::move(list.back());
            list.pop_back();
        }
        if (list.empty()) filters.erase(entry);
    }

    // Merges the non-shared hits of several nodes: one delivery per session.
    void merge_hits(qos level, std::vector<delivery>& out) {
        std::sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
            return a.session != b.session ? a.session < b.session : a.order < b.order;
        });
        for (std::size_t i = 0; i < hits.size();) {
            delivery d;
            d.session = hits[i].session;
            qos granted = qos::at_most_once;
            for (; i < hits.size() && hits[i].session == d.session; ++i) {
                const subscriber_options& o = *hits[i].options;
                // [MQTT-3.3.4-2] the highest QoS of the overlapping subscriptions.
                if (o.max_qos > granted) granted = o.max_qos;
                d.retain_as_published = d.retain_as_published || o.retain_as_published;
                // [MQTT-3.3.4-3] every matching subscription's identifier.
                if (o.subscription_id) d.subscription_ids.push_back(*o.subscription_id);
            }
            d.level = min_qos(level, granted);
            out.push_back(std::move(d));
        }
    }
};

router::router() : impl_(std::make_unique<impl>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

subscribe_result router::subscribe(session_ref s, std::string_view filter,
                                   const subscriber_options& o) {
    subscribe_result result;
    // [MQTT-4.7.1-1..3] [MQTT-4.8.2-1/2] filter and share syntax.
    if (auto ec = check_topic_filter(filter)) {
        result.ec = ec;
        return result;
    }
    const auto parts = split_filter(filter);
    if (!parts) {
        result.ec = make_error_code(codec_error::topic_filter_invalid);
        return result;
    }
    topic_node& n = impl_->tree.insert(parts->body);
    std::vector<subscriber>* list = &n.subscribers;
    shared_group* group = nullptr;
    if (parts->group) {
        auto g = find_group(n.groups, *parts->group);
        if (g == n.groups.end()) {
            n.groups.push_back(
                shared_group{std::string(*parts->group), {}, 0, std::make_shared<const std::string>(filter)});
            g = std::prev(n.groups.end());
        }
        group = &*g;
        list = &g->members;
    }
    const auto it = find_session(*list, s);
    if (it != list->end() && it->session == s) {
        // [MQTT-3.8.4-3] replace the existing subscription, keep one copy.
        it->options = o;
        result.existed = true;
        return result;
    }
    const auto index = static_cast<std::size_t>(it - list->begin());
    list->insert(it, subscriber{s, o});
    if (group != nullptr && index < group->next) ++group->next;
    ++impl_->count;
    impl_->filters[s].emplace_back(filter);
    return result;
}

bool router::unsubscribe(session_ref s, std::string_view filter) {
    if (!impl_->remove(s, filter)) return false;
    impl_->forget_filter(s, filter);
    return true;
}

std::size_t router::subscription_count(session_ref s) const noexcept {
    const auto entry = impl_->filters.find(s);
    return entry == impl_->filters.end() ? 0 : entry->second.size();
}

bool router::has_subscription(session_ref s, std::string_view filter) const noexcept {
    const auto entry = impl_->filters.find(s);
    if (entry == impl_->filters.end()) return false;
    return std::find(entry->second.begin(), entry->second.end(), filter) != entry->second.end();
}

void router::unsubscribe_all(session_ref s) {
    const auto entry = impl_->filters.find(s);
    if (entry == impl_->filters.end()) return;
    const std::vector<std::string> list = std::move(entry->second);
    impl_->filters.erase(entry);
    for (const std::string& filter : list) impl_->remove(s, filter);
}

void router::route(std::string_view topic, session_ref publisher, qos level,
                   std::vector<delivery>& out) {
    if (topic.empty()) return;  // [MQTT-4.7.3-1] never a valid name
    impl& m = *impl_;
    m.matched.clear();
    m.tree.match(topic, m.matched);
    if (m.matched.empty()) return;

    // Matched nodes with non-shared subscribers; with one, nothing needs merging.
    const topic_node* single = nullptr;
    std::size_t plain_nodes = 0;
    for (const topic_node* n : m.matched) {
        if (!n->subscribers.empty()) {
            single = n;
            ++plain_nodes;
        }
    }
    if (plain_nodes == 1) {
        // One filter: its subscribers are distinct sessions, nothing to merge.
        for (const subscriber& sub : single->subscribers) {
            // [MQTT-3.8.3-3] No Local: not back to the publishing session.
            if (sub.options.no_local && sub.session == publisher) continue;
            delivery d;
            d.session = sub.session;
            d.level = min_qos(level, sub.options.max_qos);
            d.retain_as_published = sub.options.retain_as_published;
            if (sub.options.subscription_id) d.subscription_ids.push_back(*sub.options.subscription_id);
            out.push_back(std::move(d));
        }
    } else if (plain_nodes > 1) {
        m.hits.clear();
        for (const topic_node* n : m.matched) {
            for (const subscriber& sub : n->subscribers) {
                if (sub.options.no_local && sub.session == publisher) continue;  // [MQTT-3.8.3-3]
                m.hits.push_back(hit{sub.session, m.hits.size(), &sub.options});
            }
        }
        m.merge_hits(level, out);
    }

    // [MQTT-4.8.2-3] each shared subscription (group + filter) delivers to one
    // member, round-robin. It is separate from the member's other
    // subscriptions, so a session may receive a second copy (MQTT 5 §4.8.2).
    // No Local does not apply: it is a protocol error on shared subscriptions.
    for (topic_node* n : m.matched) {
        for (shared_group& g : n->groups) {
            if (g.members.empty()) continue;
            const subscriber& sub = g.members[g.next];
            g.next = g.next + 1 == g.members.size() ? 0 : g.next + 1;
            delivery d;
            d.session = sub.session;
            d.level = min_qos(level, sub.options.max_qos);
            d.retain_as_published = sub.options.retain_as_published;
            if (sub.options.subscription_id) d.subscription_ids.push_back(*sub.options.subscription_id);
            d.shared = true;
            d.share = g.filter;
            out.push_back(std::move(d));
        }
    }
}

std::optional<session_ref> router::pick_shared_member(std::string_view shared_filter,
                                                      session_ref excluded) {
    const auto d = pick_shared(shared_filter, excluded, qos::at_most_once);
    if (!d) return std::nullopt;
    return d->session;
}

std::optional<delivery> router::pick_shared(std::string_view shared_filter, session_ref excluded, qos level,
                                            const std::function<bool(session_ref)>& eligible) {
    const auto parts = split_filter(shared_filter);
    if (!parts || !parts->group) return std::nullopt;
    topic_node* n = impl_->tree.find(parts->body);
    if (n == nullptr) return std::nullopt;
    const auto g = find_group(n->groups, *parts->group);
    if (g == n->groups.end()) return std::nullopt;
    for (std::size_t tries = 0; tries < g->members.size(); ++tries) {
        const subscriber& sub = g->members[g->next];
        g->next = g->next + 1 == g->members.size() ? 0 : g->next + 1;
        if (sub.session == excluded || (eligible && !eligible(sub.session))) continue;
        delivery d;
        d.session = sub.session;
        d.level = min_qos(level, sub.options.max_qos);  // [MQTT-4.8.2-3]
        d.retain_as_published = sub.options.retain_as_published;
        if (sub.options.subscription_id) d.subscription_ids.push_back(*sub.options.subscription_id);
        d.shared = true;
        d.share = g->filter;
        return d;
    }
    return std::nullopt;
}

std::size_t router::subscription_count() const noexcept { return impl_->count; }

std::size_t router::node_count() const noexcept { return impl_->tree.node_count(); }

}  // namespace mqtt::core
