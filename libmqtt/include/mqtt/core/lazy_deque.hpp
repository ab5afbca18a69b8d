// SPDX-License-Identifier: MIT
// A std::deque that allocates nothing until its first element.
//
// Why: libstdc++'s std::deque allocates its map and a 512-byte node when it
// is constructed. The broker keeps four per connection (in flight, queued,
// retained backlog, write queue), about 2.3 KiB for a client that never
// receives anything; an idle connection should cost hundreds of bytes
// (issue 4, memory per connection). Once allocated the deque is kept, so a
// steady message flow does not allocate per message.
#pragma once
#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

namespace mqtt::core {

template <class T>
class lazy_deque {
public:
    using container = std::deque<T>;
    using iterator = typename container::iterator;
    using const_iterator = typename container::const_iterator;

    bool empty() const noexcept { return !d_ || d_->empty(); }
    std::size_t size() const noexcept { return d_ ? d_->size() : 0; }
    T& front() { return d_->front(); }
    const T& front() const { return d_->front(); }
    T& back() { return d_->back(); }
    const T& back() const { return d_->back(); }
    void push_back(T v) { get().push_back(std::move(v)); }
    void push_front(T v) { get().push_front(std::move(v)); }
    void pop_front() { d_->pop_front(); }
    iterator erase(const_iterator it) { return d_->erase(it); }
    /// Empties it and gives the memory back.
    void clear() noexcept { d_.reset(); }

    iterator begin() { return d_ ? d_->begin() : none().begin(); }
    iterator end() { return d_ ? d_->end() : none().end(); }
    const_iterator begin() const { return d_ ? d_->cbegin() : none().cbegin(); }
    const_iterator end() const { return d_ ? d_->cend() : none().cend(); }

    template <class Pred>
    friend std::size_t erase_if(lazy_deque& q, Pred pred) {
        return q.d_ ? std::erase_if(*q.d_, pred) : 0;
    }

private:
    container& get() {
        if (!d_) d_ = std::make_unique<container>();
        return *d_;
    }
    // Iterators of an empty lazy_deque: begin() == end() on a shared empty
    // deque that is never modified.
    static container& none() {
        static container empty;
        return empty;
    }
    std::unique_ptr<container> d_;
};

}  // namespace mqtt::core
