// SPDX-License-Identifier: MIT
#include "common/message_output.hpp"

#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include "common/exit_codes.hpp"

namespace mq::tools {

void output_options::add_to(CLI::App& app) {
    app.add_flag("-v,--verbose", verbose, "Print 'topic payload'");
    format_opt = app.add_option("-F,--format", format, "Output format (%t %p %l %q %r %x %b %j ...)");
    app.add_flag("--json", json, "One NDJSON record per message");
    app.add_option("--payload-encoding", payload_encoding, "--json payload: base64, hex or json");
    app.add_flag("-N,--no-delimiter", no_delim, "No delimiter after each message");
    app.add_flag("-0,--print0", print0, "NUL instead of newline after each message");
    app.add_flag("--raw", raw, "Do not escape control bytes on a terminal");
}

message_printer::message_printer(const output_options& o) : opts_(o), tty_(isatty(1) != 0) {
    if (o.format_opt != nullptr && o.format_opt->count() > 0) {
        std::string err;
        format_ = format_string::compile(o.format, err);
        if (!format_) throw std::system_error(tool_error::usage, "-F: " + err);
    }
    if ((o.json ? 1 : 0) + (o.verbose ? 1 : 0) + (format_ ? 1 : 0) > 1) {
        throw std::system_error(tool_error::usage, "-v, -F and --json are mutually exclusive");
    }
    const auto& pe = o.payload_encoding;
    if (pe == "base64") encoding_ = payload_encoding::base64;
    else if (pe == "hex") encoding_ = payload_encoding::hex;
    else if (pe == "json") encoding_ = payload_encoding::json;
    else if (!pe.empty() && pe != "utf8" && pe != "auto")
        throw std::system_error(tool_error::usage, "--payload-encoding must be utf8, base64, hex or json");
}

void message_printer::render(const received_message& m, std::string& record) const {
    record.clear();
    append(m, record);
}

void message_printer::append(const received_message& m, std::string& out) const {
    if (tty_ && !opts_.raw && !opts_.json) {
        // A terminal gets control characters escaped: render apart, then escape.
        std::string record;
        if (format_) format_->render(m, record);
        else append_plain(m, opts_.verbose, record);
        out.append(escape_controls(record));
    } else if (opts_.json) {
        append_ndjson(m, encoding_, out);
    } else if (format_) {
        format_->render(m, out);
    } else {
        append_plain(m, opts_.verbose, out);
    }
    if (!opts_.no_delim) out.push_back(opts_.print0 ? '\0' : '\n');
}

boost::asio::awaitable<stdout_writer::state> push_record(stdout_writer& writer, async_event& space,
                                                         std::string& record) {
    while (!writer.try_push_reusing(record)) {
        if (writer.status() != stdout_writer::state::ok) break;
        co_await space.wait();
    }
    co_return writer.status();
}

std::vector<predicate> parse_expect_options(const std::vector<std::string>& texts, const char* option) {
    std::vector<predicate> out;
    for (const auto& e : texts) {
        std::string err;
        auto p = parse_predicate(e, err);
        if (!p) throw std::system_error(tool_error::usage, fmt::format("{} '{}': {}", option, e, err));
        out.push_back(std::move(*p));
    }
    return out;
}

}  // namespace mq::tools
