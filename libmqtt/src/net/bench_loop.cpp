// SPDX-License-Identifier: MIT
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench_loop_impl.hpp"

namespace mqtt::net {

bench_loop::bench_loop() : impl_(std::make_unique<impl>()) {}
bench_loop::~bench_loop() = default;

void bench_loop::run() {
    impl_->io.run();
}

void bench_loop::stop() {
    impl_->io.stop();
}

void bench_loop::post(std::function<void()> fn) {
    boost::asio::post(impl_->io, std::move(fn));
}

struct bench_timer::impl {
    explicit impl(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
};

bench_timer::bench_timer(bench_loop& loop) : impl_(std::make_unique<impl>(loop.get().io)) {}
bench_timer::~bench_timer() = default;

void bench_timer::wait_until(bench_loop::clock::time_point deadline, std::function<void(bool)> fn) {
    // Absolute deadline: a late wake-up does not shift the following ones.
    impl_->timer.expires_at(deadline);
    impl_->timer.async_wait([fn = std::move(fn)](const boost::system::error_code& ec) { fn(!ec); });
}

void bench_timer::cancel() {
    impl_->timer.cancel();
}

}  // namespace mqtt::net
