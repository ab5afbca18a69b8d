// SPDX-License-Identifier: MIT
// net::client reconnection: when to retry, the backoff loop, and making the
// subscriptions again when the broker kept no session.
#include <algorithm>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client_impl.hpp"

namespace mqtt::net {

using asio::as_tuple;
using asio::use_awaitable;

namespace {

// Refusals a new attempt cannot fix: credentials, authorisation, identity,
// version. 0x8E (taken over) too: another client now owns our id, and
// reconnecting would take it back in a loop.
bool permanent(std::error_code ec) noexcept {
    if (ec.category() != reason_category()) return false;
    switch (static_cast<reason>(ec.value())) {
        case reason::unsupported_protocol_version:
        case reason::client_identifier_not_valid:
        case reason::bad_user_name_or_password:
        case reason::not_authorized:
        case reason::banned:
        case reason::bad_authentication_method:
        case reason::session_taken_over: return true;
        default: return false;
    }
}

}  // namespace

bool client::impl::should_reconnect() const noexcept {
    return opts_.reconnect.enabled && ever_connected_ && !stop_requested_ && !orderly_ && !permanent(err_);
}

void client::impl::resubscribe() {
    for (const auto& s : subscriptions_) {
        std::error_code ec;
        (void)session_.subscribe(s, now(), ec);  // the SUBACK has no waiter: apply() ignores it
        if (ec) MQ_LOG(log_, log_level::warn, "client", session_.client_id(), "cannot subscribe again: {}", ec.message());
    }
    apply();
}

void client::impl::remember_subscription(const mqtt::subscribe& s, const mqtt::suback& ack) {
    mqtt::subscribe granted{0, {}, s.props};
    for (std::size_t i = 0; i < s.entries.size() && i < ack.reason_codes.size(); ++i) {
        if (static_cast<std::uint8_t>(ack.reason_codes[i]) < 0x80) granted.entries.push_back(s.entries[i]);
    }
    if (!granted.entries.empty()) subscriptions_.push_back(std::move(granted));
}

void client::impl::forget_subscriptions(const std::vector<std::string>& filters) {
    for (auto& s : subscriptions_) {
        std::erase_if(s.entries, [&](const mqtt::subscription& x) {
            return std::find(filters.begin(), filters.end(), x.filter) != filters.end();
        });
    }
    std::erase_if(subscriptions_, [](const mqtt::subscribe& s) { return s.entries.empty(); });
}

asio::awaitable<void> client::impl::reconnector(std::shared_ptr<impl> self) {
    impl& s = *self;
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    auto delay = std::max(s.opts_.reconnect.initial, std::chrono::milliseconds(1));
    const auto maximum = std::max(s.opts_.reconnect.maximum, delay);
    MQ_LOG(s.log_, log_level::warn, "client", s.session_.client_id(), "{}; reconnecting", s.err_msg_);
    for (int attempt = 1; s.phase_ == phase::reconnecting; ++attempt) {
        const auto wait = std::chrono::milliseconds(
            std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(delay.count()) * jitter(rng))));
        MQ_LOG(s.log_, log_level::info, "client", s.session_.client_id(), "reconnect attempt {} in {} ms", attempt,
               wait.count());
        s.backoff_timer_.expires_after(wait);
        (void)co_await s.backoff_timer_.async_wait(as_tuple(use_awaitable));
        if (s.phase_ != phase::reconnecting) break;  // closed by the application
        delay = std::min(maximum, delay * 2);
        try {
            const mqtt::connack ack = co_await s.connect_once();
            MQ_LOG(s.log_, log_level::warn, "client", s.session_.client_id(), "reconnected to {} (session present {})",
                   s.peer(), ack.session_present);
            if (!ack.session_present) s.resubscribe();
            s.flow_ev_.notify();
            break;
        } catch (const std::system_error& e) {
            if (!s.should_reconnect()) {
                s.end_for_good();
                break;
            }
            s.phase_ = phase::reconnecting;
            MQ_LOG(s.log_, log_level::info, "client", s.session_.client_id(), "reconnect attempt {} failed: {}",
                   attempt, e.what());
        }
    }
    s.reconnector_running_ = false;
    s.state_ev_.notify();
}

}  // namespace mqtt::net
