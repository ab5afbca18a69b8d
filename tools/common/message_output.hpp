// SPDX-License-Identifier: MIT
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/expect.hpp"
#include "common/output_format.hpp"
#include "common/session.hpp"
#include "common/stdio.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace mq::tools {

/// The output options of `mq sub` (cli-contract.md §5.1), shared with `mq rr`.
struct output_options {
    std::string format, payload_encoding;
    bool verbose = false, json = false, no_delim = false, print0 = false, raw = false;
    CLI::Option* format_opt = nullptr;

    /// Registers -v, -F, --json, --payload-encoding, -N, -0 and --raw.
    void add_to(CLI::App& app);
};

/// Turns messages into stdout records as the output options ask: raw payload,
/// `topic payload`, a -F format or an NDJSON record, escaped on a terminal,
/// with the delimiter appended.
class message_printer {
public:
    /// Validates the options; throws std::system_error(tool_error::usage) on a
    /// bad -F format, conflicting formats or a bad --payload-encoding.
    explicit message_printer(const output_options& o);

    /// Replaces `record` with the record for `m`.
    void render(const received_message& m, std::string& record) const;
    /// Appends the record for `m` to `out` (a batch of records).
    void append(const received_message& m, std::string& out) const;

private:
    const output_options& opts_;
    std::optional<format_string> format_;
    payload_encoding encoding_ = payload_encoding::automatic;
    bool tty_ = false;
};

/// Queues `record` on `writer`, waiting on `space` (notified by the writer)
/// while the queue is full. On success `record` is left empty (a recycled
/// buffer, see try_push_reusing). Returns the writer's state afterwards.
boost::asio::awaitable<stdout_writer::state> push_record(stdout_writer& writer, async_event& space,
                                                         std::string& record);

/// Parses every `--expect` text; throws std::system_error(tool_error::usage)
/// naming the bad one.
std::vector<predicate> parse_expect_options(const std::vector<std::string>& texts, const char* option = "--expect");

}  // namespace mq::tools
