// SPDX-License-Identifier: MIT
// Helpers for net::client integration tests: run a coroutine test body on an
// io_context with a hard time limit, build options and messages.
#pragma once
#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mqtt/net/client.hpp>
#include <mqtt/net/errors.hpp>

namespace mq::test::client_it {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Runs `body(executor)` to completion; fails the test if it takes longer than
/// `limit` and rethrows whatever it threw.
inline void run_async(const std::function<asio::awaitable<void>(asio::any_io_executor)>& body,
                      std::chrono::milliseconds limit = 20s) {
    asio::io_context io;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
        error = e;
        done = true;
        io.stop();  // helpers such as fake brokers may still be waiting
    });
    io.run_for(limit);
    REQUIRE_MESSAGE(done, "test coroutine did not finish in time");
    if (error) std::rethrow_exception(error);
}

inline mqtt::net::client_options options(std::uint16_t port, mqtt::protocol_version v, std::string id) {
    mqtt::net::client_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.connect.version = v;
    o.connect.client_id = std::move(id);
    o.connect.keep_alive = 30;
    o.connect_timeout = 5s;
    return o;
}

inline mqtt::publish message(std::string topic, std::string_view payload, mqtt::qos q = mqtt::qos::at_most_once,
                             bool retain = false) {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.payload.assign(payload.begin(), payload.end());
    p.level = q;
    p.retain = retain;
    return p;
}

inline std::string text(const mqtt::publish& p) { return std::string(p.payload.begin(), p.payload.end()); }

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

/// Awaits `op`, returning the std::system_error code it threw (none if it did not throw).
template <class Awaitable>
asio::awaitable<std::error_code> error_of(Awaitable op, std::string* what = nullptr) {
    try {
        co_await std::move(op);
    } catch (const std::system_error& e) {
        if (what) *what = e.what();
        co_return e.code();
    }
    co_return std::error_code{};
}

}  // namespace mq::test::client_it
