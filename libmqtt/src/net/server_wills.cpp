// SPDX-License-Identifier: MIT
// Delayed Will messages: the v5 Will Delay Interval [MQTT-3.1.3-9].
#include "server_impl.hpp"

namespace mqtt::net::detail {

void server_state::schedule_will(const std::string& client_id, core::session_ref from,
                                 std::shared_ptr<const mqtt::publish> will, std::uint32_t delay_s) {
    // A newer Will for the same id replaces an older pending one; the older
    // session is gone, so its Will goes out first.
    settle_will(client_id, true);
    delayed_will d;
    d.msg = std::move(will);
    d.from = from;
    d.timer = std::make_unique<asio::steady_timer>(ioc, std::chrono::seconds(delay_s));
    d.timer->async_wait([this, client_id, timer = d.timer.get()](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: settled or stopping
        const state_lock lk(mu);
        auto it = delayed_wills.find(client_id);
        // A cancel that comes after the timer fired does not change `ec`: a
        // newer Will of the same client id has its own timer.
        if (it == delayed_wills.end() || it->second.timer.get() != timer) return;
        auto msg = std::move(it->second.msg);
        const auto from_ref = it->second.from;
        delayed_wills.erase(it);
        MQ_LOG(log, log_level::debug, "broker", client_id, "Will Delay passed: publishing the Will");
        route(from_ref, msg);
    });
    delayed_wills.emplace(client_id, std::move(d));
}

void server_state::settle_will(const std::string& client_id, bool session_ended) {
    auto it = delayed_wills.find(client_id);
    if (it == delayed_wills.end()) return;
    auto msg = std::move(it->second.msg);
    const auto from_ref = it->second.from;
    it->second.timer->cancel();
    delayed_wills.erase(it);
    if (session_ended) route(from_ref, msg);
}

void server_state::cancel_all_wills() {
    for (auto& [id, d] : delayed_wills) d.timer->cancel();
    delayed_wills.clear();
}

}  // namespace mqtt::net::detail
