// SPDX-License-Identifier: MIT
#include "common/session.hpp"

#include <atomic>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <fmt/format.h>

#include "common/exit_codes.hpp"
#include "common/globals.hpp"

namespace mq::tools {
namespace asio = boost::asio;

struct command_runner::impl {
    asio::io_context ioc{1};
    asio::steady_timer deadline{ioc};
    asio::steady_timer grace{ioc};
    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    std::function<void()> on_stop;
    std::atomic<stop_reason> reason{stop_reason::none};
    bool body_done = false;

    void stop(stop_reason r) {
        stop_reason expected = stop_reason::none;
        if (!reason.compare_exchange_strong(expected, r)) return;
        if (body_done) return;
        if (on_stop) on_stop();
        // The body should end promptly; if it does not, give up on it.
        grace.expires_after(std::chrono::seconds(2));
        grace.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) ioc.stop();
        });
    }
};

command_runner::command_runner(std::optional<std::chrono::nanoseconds> timeout) : impl_(std::make_unique<impl>()) {
    if (timeout) {
        impl_->deadline.expires_after(*timeout);
        impl_->deadline.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) impl_->stop(stop_reason::timeout);
        });
    }
    impl_->signals.async_wait([this](const boost::system::error_code& ec, int) {
        if (!ec) impl_->stop(stop_reason::signal);
    });
}

command_runner::~command_runner() = default;

asio::any_io_executor command_runner::executor() const { return impl_->ioc.get_executor(); }

void command_runner::on_stop(std::function<void()> fn) { impl_->on_stop = std::move(fn); }

void command_runner::request_stop(stop_reason r) {
    asio::post(impl_->ioc, [this, r] { impl_->stop(r); });
}

stop_reason command_runner::stopped() const noexcept { return impl_->reason.load(); }

int command_runner::run(std::function<asio::awaitable<int>()> body, std::function<int(stop_reason)> stop_exit) {
    int result = 0;
    std::exception_ptr error;
    bool finished = false;
    asio::co_spawn(impl_->ioc, body(), [&](std::exception_ptr e, int r) {
        finished = true;
        impl_->body_done = true;
        error = e;
        result = r;
        boost::system::error_code ignored;
        impl_->deadline.cancel();
        impl_->grace.cancel();
        impl_->signals.cancel(ignored);
        // The body decides the outcome; connection internals still pending
        // (e.g. a read after DISCONNECT) must not keep the process alive.
        impl_->ioc.stop();
    });
    impl_->ioc.run();
    const stop_reason r = impl_->reason.load();
    if (r != stop_reason::none) return stop_exit(r);
    if (error) std::rethrow_exception(error);
    if (!finished) return 1;
    return result;
}

struct async_event::impl {
    explicit impl(asio::any_io_executor ex) : executor(ex) { timer.emplace(std::move(ex)); }
    asio::any_io_executor executor;
    // The timer lives only as long as the async_event: a notifier() copy on
    // another thread (the stdin reader) can keep this state alive past the
    // io_context, and a timer destroyed after its io_context is a
    // use-after-free. So ~async_event destroys it on the owning thread.
    std::optional<asio::steady_timer> timer;
    bool pending = false;  // notified while nobody waited
    bool waiting = false;
    std::mutex mu;         // guards `alive` for notifier() copies
    bool alive = true;
};

async_event::async_event(asio::any_io_executor ex) : impl_(std::make_shared<impl>(std::move(ex))) {}

async_event::~async_event() {
    std::lock_guard lk(impl_->mu);
    impl_->alive = false;
    impl_->timer.reset();
}

asio::awaitable<void> async_event::wait() {
    auto self = impl_;
    if (self->pending) {
        self->pending = false;
        co_return;
    }
    self->timer->expires_at(asio::steady_timer::time_point::max());
    self->waiting = true;
    auto [ec] = co_await self->timer->async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
    self->waiting = false;
    self->pending = false;
}

void async_event::notify() { notifier()(); }

std::function<void()> async_event::notifier() {
    std::weak_ptr<impl> weak = impl_;
    return [weak] {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lk(self->mu);
        if (!self->alive) return;
        // Only the owning thread touches the timer; the handler may run (or be
        // dropped at io_context shutdown) after ~async_event reset it.
        asio::post(self->executor, [self] {
            if (!self->timer) return;
            if (self->waiting) self->timer->cancel();
            else self->pending = true;
        });
    };
}

std::string describe_reason(mqtt::reason r) {
    const auto v = static_cast<std::uint8_t>(r);
    return fmt::format("0x{:02X} {}", v, mqtt::reason_name(v));
}

asio::awaitable<void> disconnect_quietly(mqtt::net::client* c, mqtt::properties props) {
    try {
        co_await c->disconnect(mqtt::disconnect{mqtt::reason::normal_disconnection, std::move(props)});
    } catch (...) {
        // Already gone; close() below is enough.
    }
    c->close();
}

int suback_exit_code(const mqtt::suback& ack, const std::vector<mqtt::subscription>& subs, bool strict) {
    std::size_t refused = 0;
    bool denied = false;
    for (std::size_t i = 0; i < ack.reason_codes.size(); ++i) {
        if (!mqtt::is_failure(ack.reason_codes[i])) continue;
        ++refused;
        denied = denied || ack.reason_codes[i] == mqtt::reason::not_authorized;
        print_warning(fmt::format("subscription to '{}' refused: {}", i < subs.size() ? subs[i].filter : "?",
                                  describe_reason(ack.reason_codes[i])));
    }
    if (refused == 0 || (refused < ack.reason_codes.size() && !strict)) return 0;
    return denied ? exit_status::not_authorized : exit_status::protocol;
}

asio::awaitable<std::unique_ptr<mqtt::net::client>> connect_client(asio::any_io_executor ex, resolved_connection& conn,
                                                                   mqtt::net::logger log) {
    auto c = std::make_unique<mqtt::net::client>(ex, conn.client, log);
    bool retry = false;
    try {
        co_await c->connect();
        co_return c;
    } catch (const std::system_error& e) {
        const bool v5_refused = e.code() == mqtt::make_error_code(mqtt::reason::unsupported_protocol_version);
        if (!v5_refused || conn.version_explicit || conn.client.connect.version != mqtt::protocol_version::v5) throw;
        retry = true;
    }
    if (retry) {
        MQ_LOG(log, mqtt::net::log_level::info, "client", conn.client.connect.client_id,
               "broker refused MQTT 5; retrying with 3.1.1");
        conn.client.connect.version = mqtt::protocol_version::v311;
        conn.client.connect.props = {};
        if (conn.client.connect.will_msg) conn.client.connect.will_msg->props = {};
        c = std::make_unique<mqtt::net::client>(ex, conn.client, log);
        co_await c->connect();
    }
    co_return c;
}

}  // namespace mq::tools
