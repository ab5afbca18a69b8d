// SPDX-License-Identifier: MIT
#include <mqtt/core/topic_tree.hpp>

#include <utility>

namespace mqtt::core::detail {
namespace {

// Tears the subtree down level by level. The default unique_ptr chain would
// recurse once per level, and a 30,000-level filter is valid.
void destroy_children(topic_node& root) noexcept {
    std::vector<std::unique_ptr<topic_node>> pending;
    const auto detach = [&pending](topic_node& n) {
        for (auto& entry : n.children) pending.push_back(std::move(entry.second));
        n.children.clear();
        if (n.plus) pending.push_back(std::move(n.plus));
        if (n.hash) pending.push_back(std::move(n.hash));
    };
    detach(root);
    while (!pending.empty()) {
        std::unique_ptr<topic_node> n = std::move(pending.back());
        pending.pop_back();
        detach(*n);
        // `n` has no children left: its destructor does not recurse.
    }
}

bool has_subscribers(const topic_node& n) noexcept {
    return !n.subscribers.empty() || !n.groups.empty();
}

}  // namespace

void split_levels(std::string_view topic, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = topic.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(topic.substr(start));
            return;
        }
        out.push_back(topic.substr(start, slash - start));
        start = slash + 1;
    }
}

topic_tree::topic_tree() : root_(std::make_unique<topic_node>()) {}

topic_tree::~topic_tree() {
    if (root_) destroy_children(*root_);
}

topic_tree::topic_tree(topic_tree&& other) noexcept
    : root_(std::move(other.root_)), nodes_(std::exchange(other.nodes_, 0)) {}

topic_tree& topic_tree::operator=(topic_tree&& other) noexcept {
    if (this != &other) {
        if (root_) destroy_children(*root_);
        root_ = std::move(other.root_);
        nodes_ = std::exchange(other.nodes_, 0);
    }
    return *this;
}

topic_node& topic_tree::insert(std::string_view filter) {
    split_levels(filter, levels_);
    topic_node* n = root_.get();
    for (const std::string_view level : levels_) {
        if (level == "+" || level == "#") {
            std::unique_ptr<topic_node>& child = level == "+" ? n->plus : n->hash;
            if (!child) {
                child = std::make_unique<topic_node>();
                child->parent = n;
                ++nodes_;
            }
            n = child.get();
            continue;
        }
        auto it = n->children.find(level);
        if (it == n->children.end()) {
            auto fresh = std::make_unique<topic_node>();
            it = n->children.emplace(std::string(level), std::move(fresh)).first;
            it->second->parent = n;
            it->second->key = it->first;
            ++nodes_;
        }
        n = it->second.get();
    }
    return *n;
}

topic_node* topic_tree::find(std::string_view filter) noexcept {
    topic_node* n = root_.get();
    std::size_t start = 0;
    // Walks the levels in place: find() must not allocate (it runs on unsubscribe).
    for (;;) {
        const std::size_t slash = filter.find('/', start);
        const std::string_view level = slash == std::string_view::npos
                                           ? filter.substr(start)
                                           : filter.substr(start, slash - start);
        if (level == "+") {
            n = n->plus.get();
        } else if (level == "#") {
            n = n->hash.get();
        } else {
            const auto it = n->children.find(level);
            n = it == n->children.end() ? nullptr : it->second.get();
        }
        if (n == nullptr || slash == std::string_view::npos) return n;
        start = slash + 1;
    }
}

void topic_tree::prune(topic_node& node) noexcept {
    topic_node* n = &node;
    while (n != root_.get() && n->unused()) {
        topic_node* parent = n->parent;
        // `n` has no children, so resetting or erasing it does not recurse.
        if (parent->plus.get() == n) {
            parent->plus.reset();
        } else if (parent->hash.get() == n) {
            parent->hash.reset();
        } else {
            const auto it = parent->children.find(n->key);
            parent->children.erase(it);
        }
        --nodes_;
        n = parent;
    }
}

void topic_tree::match(std::string_view topic, std::vector<topic_node*>& out) {
    split_levels(topic, levels_);
    const std::size_t depth = levels_.size();
    // [MQTT-4.7.2-1] wildcards at the first level do not match '$' topics.
    const bool dollar = !topic.empty() && topic.front() == '$';
    stack_.clear();
    stack_.push_back({root_.get(), 0});
    while (!stack_.empty()) {
        const frame f = stack_.back();
        stack_.pop_back();
        topic_node* n = f.node;
        if (f.level == depth) {
            if (has_subscribers(*n)) out.push_back(n);
            // "a/#" matches "a": '#' includes the parent level [MQTT-4.7.1-1].
            if (n->hash && has_subscribers(*n->hash)) out.push_back(n->hash.get());
            continue;
        }
        if (f.level != 0 || !dollar) {
            if (n->hash && has_subscribers(*n->hash)) out.push_back(n->hash.get());
            if (n->plus) stack_.push_back({n->plus.get(), f.level + 1});
        }
        if (!n->children.empty()) {
            const auto it = n->children.find(levels_[f.level]);
            if (it != n->children.end()) stack_.push_back({it->second.get(), f.level + 1});
        }
    }
}

}  // namespace mqtt::core::detail
