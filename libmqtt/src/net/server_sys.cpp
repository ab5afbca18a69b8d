// SPDX-License-Identifier: MIT
// $SYS/broker/... topics (cli-contract.md §9): retained, republished every
// --sys-interval. Clients cannot publish under $SYS/ (the session refuses it).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server_impl.hpp"

#ifndef MQ_VERSION
#define MQ_VERSION "0.1.0"
#endif

namespace mqtt::net::detail {

asio::awaitable<void> server_state::sys_loop() {
    state_lock lk(mu);
    while (!stopping) {
        publish_sys(core::clock::now());
        sys_timer.expires_after(opts.sys_interval);
        lk.unlock();
        co_await sys_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        lk.lock();
    }
}

void server_state::publish_sys(core::time_point now) {
    std::size_t connected = 0;
    for (const auto& [id, c] : conns)
        if (c->attached) ++connected;
    const auto load = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started_at).count();
    const auto cause = [this](drop_cause c) {
        return drops_by_cause[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
    };
    nlohmann::ordered_json stats;
    stats["uptime"] = uptime;
    stats["clients_connected"] = connected;
    stats["clients_total"] = sessions.size();
    stats["connections_accepted"] = load(accepted);
    stats["messages_received"] = load(received);
    stats["messages_sent"] = load(sent);
    stats["messages_dropped"] = load(dropped);
    stats["dropped"] = {{"queue_full", cause(drop_cause::queue_full)},
                        {"packet_too_large", cause(drop_cause::packet_too_large)},
                        {"expired", cause(drop_cause::expired)},
                        {"write_buffer", cause(drop_cause::write_buffer)},
                        {"retained_limit", cause(drop_cause::retained_limit)},
                        {"not_authorized", cause(drop_cause::not_authorized)}};
    stats["bytes_received"] = load(bytes_received);
    stats["bytes_sent"] = load(bytes_sent);
    stats["subscriptions_count"] = router.subscription_count();
    stats["retained_count"] = retained.size();
    const std::pair<const char*, std::string> topics[] = {
        {"version", MQ_VERSION},
        {"uptime", std::to_string(uptime)},
        {"clients/connected", std::to_string(connected)},
        {"clients/total", std::to_string(sessions.size())},
        {"messages/received", std::to_string(load(received))},
        {"messages/sent", std::to_string(load(sent))},
        {"messages/dropped", std::to_string(load(dropped))},
        {"bytes/received", std::to_string(load(bytes_received))},
        {"bytes/sent", std::to_string(load(bytes_sent))},
        {"subscriptions/count", std::to_string(router.subscription_count())},
        {"retained/count", std::to_string(retained.size())},
        {"stats", stats.dump()},
    };
    for (const auto& [name, value] : topics) {
        auto m = std::make_shared<mqtt::publish>();
        m->topic = std::string("$SYS/broker/") + name;
        m->payload.assign(value.begin(), value.end());
        m->retain = true;
        // Not client traffic: not counted in messages/received.
        route(0, m, false);
    }
}

}  // namespace mqtt::net::detail
