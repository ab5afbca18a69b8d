// SPDX-License-Identifier: MIT
#include "common/stdin_messages.hpp"

#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/ndjson.hpp"
#include "common/stdio.hpp"

namespace mq::tools {
namespace {

void report_bad_line(std::uint64_t n, std::string_view why) { print_error(fmt::format("line {}: {}", n, why)); }

}  // namespace

void read_stdin(std::shared_ptr<batch_queue> q, reader_config cfg) {
    constexpr std::size_t max_batch_msgs = 1024;
    constexpr std::size_t max_batch_bytes = std::size_t{1} << 20;
    std::uint64_t bad = 0;
    int status = 0;
    try {
        line_reader reader(0, cfg.max_line);
        ndjson_parser parser;
        const publish_defaults defaults{cfg.default_topic, cfg.level, cfg.retain};
        batch current;
        bool stopped = false;
        // Hand over what we have before a read that may block (interactive input).
        auto flush = [&] {
            if (current.msgs.empty() || stopped) return;
            if (!q->push(std::move(current))) stopped = true;
            current = batch{};
        };
        reader.set_before_read(flush);
        std::string error;
        mqtt::publish msg;
        while (!stopped) {
            auto line = reader.next();
            if (!line) break;
            if (line->too_long) {
                ++bad;
                report_bad_line(line->number, fmt::format("longer than --max-line ({} bytes)", cfg.max_line));
                if (cfg.strict) {
                    status = exit_status::data;
                    break;
                }
                continue;
            }
            std::string_view text = line->text;
            if (line->number == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // BOM
            if (cfg.mode == line_mode::lines) {
                if (text.empty() && !cfg.allow_empty) continue;
                msg.topic = cfg.default_topic;
                msg.payload.assign(text.begin(), text.end());
                msg.level = cfg.level;
                msg.retain = cfg.retain;
            } else {
                // `text` ends where the line ends, so the padding after it is the same.
                const auto st = parser.parse(text, defaults, msg, error);
                if (st == ndjson_status::skip) continue;
                if (st == ndjson_status::bad) {
                    ++bad;
                    report_bad_line(line->number, error);
                    if (cfg.strict) {
                        status = exit_status::data;
                        break;
                    }
                    continue;
                }
            }
            current.bytes += msg.payload.size() + msg.topic.size();
            current.msgs.push_back(std::move(msg));
            msg = mqtt::publish{};
            if (current.msgs.size() >= max_batch_msgs || current.bytes >= max_batch_bytes) flush();
        }
        flush();
    } catch (const std::system_error& e) {
        q->set_error_text(e.what());
        status = exit_status::io;
    }
    q->finish(status, bad);
}

}  // namespace mq::tools
