// SPDX-License-Identifier: MIT
#pragma once
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <mqtt/net/bench_connection.hpp>

namespace mqtt::net {

struct bench_loop::impl {
    // One thread runs it: the concurrency hint lets Asio skip internal locking.
    boost::asio::io_context io{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
        boost::asio::make_work_guard(io)};
};

}  // namespace mqtt::net
