// SPDX-License-Identifier: MIT
#include <mqtt/core/retained_store.hpp>

#include <functional>
#include <unordered_map>
#include <utility>

#include <mqtt/core/topic_tree.hpp>

namespace mqtt::core {
namespace {

// One node per topic level; a node holds the message retained at the topic
// spelled by the path from the root. Wildcards only occur in match() filters.
struct rnode {
    std::shared_ptr<const mqtt::publish> msg;
    std::unordered_map<std::string, std::unique_ptr<rnode>, detail::string_hash, std::equal_to<>>
        children;
    rnode* parent = nullptr;
    std::string_view key;  // this node's key in parent->children (map keys never move)
};

std::size_t message_bytes(const mqtt::publish& m) noexcept {
    return m.topic.size() + m.payload.size();
}

// Iterates the '/'-separated levels of a topic without allocating.
class levels {
public:
    explicit levels(std::string_view s) noexcept : s_(s) {}
    bool done() const noexcept { return pos_ > s_.size(); }
    std::string_view next() noexcept {
        const std::size_t slash = s_.find('/', pos_);
        const std::size_t end = slash == std::string_view::npos ? s_.size() : slash;
        const std::string_view level = s_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return level;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

bool starts_with_dollar(std::string_view key) noexcept {
    return !key.empty() && key.front() == '$';
}

}  // namespace

struct retained_store::impl {
    rnode root;
    std::size_t count = 0;
    std::size_t bytes = 0;
    std::size_t nodes = 0;

    impl() = default;
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    // Level-by-level teardown: a deep topic must not recurse per level.
    ~impl() {
        std::vector<std::unique_ptr<rnode>> pending;
        const auto detach = [&pending](rnode& n) {
            for (auto& entry : n.children) pending.push_back(std::move(entry.second));
            n.children.clear();
        };
        detach(root);
        while (!pending.empty()) {
            std::unique_ptr<rnode> n = std::move(pending.back());
            pending.pop_back();
            detach(*n);
        }
    }

    rnode* find(std::string_view topic) noexcept {
        rnode* n = &root;
        for (levels it{topic}; !it.done() && n != nullptr;) {
            const auto child = n->children.find(it.next());
            n = child == n->children.end() ? nullptr : child->second.get();
        }
        return n;
    }

    rnode& insert(std::string_view topic) {
        rnode* n = &root;
        for (levels it{topic}; !it.done();) {
            const std::string_view level = it.next();
            auto child = n->children.find(level);
            if (child == n->children.end()) {
                auto fresh = std::make_unique<rnode>();
                child = n->children.emplace(std::string(level), std::move(fresh)).first;
                child->second->parent = n;
                child->second->key = child->first;
                ++nodes;
            }
            n = child->second.get();
        }
        return *n;
    }

    // Removes `n` and its ancestors while they hold nothing.
    void prune(rnode* n) noexcept {
        while (n != &root && !n->msg && n->children.empty()) {
            rnode* parent = n->parent;
            parent->children.erase(parent->children.find(n->key));
            --nodes;
            n = parent;
        }
    }
};

retained_store::retained_store() : impl_(std::make_unique<impl>()) {}
retained_store::~retained_store() = default;
retained_store::retained_store(retained_store&&) noexcept = default;
retained_store& retained_store::operator=(retained_store&&) noexcept = default;

bool retained_store::set(std::shared_ptr<const mqtt::publish> msg) {
    if (!msg || msg->topic.empty()) return false;
    // [MQTT-3.3.1-6] a zero-length retained payload removes the retained message;
    // [MQTT-3.3.1-7] and is itself not stored.
    if (msg->payload.empty()) {
        erase(msg->topic);
        return true;
    }
    impl& m = *impl_;
    rnode* existing = m.find(msg->topic);
    const std::size_t old_bytes = existing && existing->msg ? message_bytes(*existing->msg) : 0;
    const bool replaces = existing != nullptr && existing->msg != nullptr;
    const std::size_t new_total = m.bytes - old_bytes + message_bytes(*msg);
    if ((!replaces && m.count >= max_messages) || new_total > max_bytes) return false;
    // [MQTT-3.3.1-5] replace any retained message on this topic.
    rnode& n = existing != nullptr ? *existing : m.insert(msg->topic);
    n.msg = std::move(msg);
    if (!replaces) ++m.count;
    m.bytes = new_total;
    return true;
}

void retained_store::erase(std::string_view topic) {
    impl& m = *impl_;
    rnode* n = m.find(topic);
    if (n == nullptr || !n->msg) return;
    m.bytes -= message_bytes(*n->msg);
    --m.count;
    n->msg.reset();
    m.prune(n);
}

void retained_store::match(std::string_view filter,
                           std::vector<std::shared_ptr<const mqtt::publish>>& out) const {
    if (filter.empty()) return;
    std::vector<std::string_view> parts;
    detail::split_levels(filter, parts);
    const std::size_t depth = parts.size();
    struct frame {
        const rnode* node;
        std::size_t level;
    };
    // Iterative walk: only branches the filter can reach are visited.
    std::vector<frame> stack{{&impl_->root, 0}};
    std::vector<const rnode*> subtree;
    while (!stack.empty()) {
        const frame f = stack.back();
        stack.pop_back();
        if (f.level == depth) {
            if (f.node->msg) out.push_back(f.node->msg);
            continue;
        }
        const std::string_view level = parts[f.level];
        // [MQTT-4.7.2-1] a first-level wildcard skips topics starting with '$'.
        const bool skip_dollar = f.level == 0;
        if (level == "#") {
            // '#' matches the parent level and everything below [MQTT-4.7.1-1].
            if (f.node->msg) out.push_back(f.node->msg);
            subtree.clear();
            for (const auto& [key, child] : f.node->children) {
                if (!(skip_dollar && starts_with_dollar(key))) subtree.push_back(child.get());
            }
            while (!subtree.empty()) {
                const rnode* n = subtree.back();
                subtree.pop_back();
                if (n->msg) out.push_back(n->msg);
                for (const auto& entry : n->children) subtree.push_back(entry.second.get());
            }
        } else if (level == "+") {
            for (const auto& [key, child] : f.node->children) {
                if (!(skip_dollar && starts_with_dollar(key))) {
                    stack.push_back({child.get(), f.level + 1});
                }
            }
        } else {
            const auto child = f.node->children.find(level);
            if (child != f.node->children.end()) stack.push_back({child->second.get(), f.level + 1});
        }
    }
}

std::size_t retained_store::size() const noexcept { return impl_->count; }
std::size_t retained_store::bytes() const noexcept { return impl_->bytes; }
std::size_t retained_store::node_count() const noexcept { return impl_->nodes; }

}  // namespace mqtt::core
