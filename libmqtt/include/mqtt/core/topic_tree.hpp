// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mqtt/core/router.hpp>

// Internal to libmqtt core: the subscription trie used by `router`.
//
// One node per filter level. Exact levels live in a hash map; '+' and '#' have
// their own child pointers so matching never hashes a wildcard:
//
//   (root)                        filters: a/b, a/b/#, a/+, +/b, #
//    |-- "a"          exact children: hash map keyed by level
//    |    |-- "b"
//    |    |    `-- '#'
//    |    `-- '+'
//    |-- '+'          dedicated wildcard children
//    |    `-- "b"
//    `-- '#'
//
// Subscribers of filter F hang off the node reached by F's levels. Matching a
// topic walks exact, '+' and '#' children with an explicit stack (no recursion,
// so any depth is safe); a '#' child matches its parent level too ("a/#"
// matches "a").
//
// The '$' rule [MQTT-4.7.2-1]: when the topic's first level starts with '$',
// the root's '+' and '#' children are not followed, so "#" and "+/x" never
// match "$SYS/x", while "$SYS/#" does.
namespace mqtt::core::detail {

/// Splits `topic` at '/' into `out` (cleared first); views point into `topic`.
/// "a/" gives {"a", ""}, "" gives {""}.
void split_levels(std::string_view topic, std::vector<std::string_view>& out);

/// Transparent hash so maps keyed by std::string are searched with string_view.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

struct subscriber {
    session_ref session = 0;
    subscriber_options options;
};

/// `$share/{name}/{filter}` members of one filter; round-robin over `members`.
struct shared_group {
    std::string name;
    std::vector<subscriber> members;  // sorted by session
    std::size_t next = 0;             // next member to pick, < members.size()
    std::shared_ptr<const std::string> filter;  // "$share/{name}/{filter}", for delivery::share
};

struct topic_node {
    std::vector<subscriber> subscribers;  // non-shared, sorted by session
    std::vector<shared_group> groups;     // few per node: searched linearly

    std::unordered_map<std::string, std::unique_ptr<topic_node>, string_hash, std::equal_to<>>
        children;
    std::unique_ptr<topic_node> plus;
    std::unique_ptr<topic_node> hash;
    topic_node* parent = nullptr;
    std::string_view key;  // this node's key in parent->children (map keys never move)

    /// No subscribers, groups or children: may be pruned.
    bool unused() const noexcept {
        return subscribers.empty() && groups.empty() && children.empty() && !plus && !hash;
    }
};

class topic_tree {
public:
    topic_tree();
    ~topic_tree();  // iterative teardown: deep trees cannot overflow the stack
    topic_tree(topic_tree&&) noexcept;
    topic_tree& operator=(topic_tree&&) noexcept;
    topic_tree(const topic_tree&) = delete;
    topic_tree& operator=(const topic_tree&) = delete;

    /// The node of `filter` (valid, not shared), created with its path if missing.
    topic_node& insert(std::string_view filter);
    /// The node of `filter`, or nullptr. Never creates nodes.
    topic_node* find(std::string_view filter) noexcept;
    /// Removes `n` and then each ancestor that became unused. `n` may be
    /// dangling afterwards. The root is never removed.
    void prune(topic_node& n) noexcept;

    /// Appends every node whose filter matches `topic` (a valid name), each at
    /// most once, honouring the '$' rule. Uses internal scratch buffers: no
    /// allocation once they have grown.
    void match(std::string_view topic, std::vector<topic_node*>& out);

    /// Nodes besides the root; 0 when no subscription is left.
    std::size_t node_count() const noexcept { return nodes_; }
    bool empty() const noexcept { return nodes_ == 0; }

private:
    struct frame {
        topic_node* node;
        std::size_t level;
    };
    std::unique_ptr<topic_node> root_;
    std::size_t nodes_ = 0;
    std::vector<std::string_view> levels_;  // scratch for match/insert/find
    std::vector<frame> stack_;              // scratch for match
};

}  // namespace mqtt::core::detail
