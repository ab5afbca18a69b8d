// SPDX-License-Identifier: MIT
#include "interop_fixture.hpp"

#include <csignal>
#include <fstream>
#include <stdexcept>

namespace mq::test::interop {

namespace {

std::vector<std::string> prefixed(const char* program, std::vector<std::string> args) {
    args.insert(args.begin(), program);
    return args;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

}  // namespace

mq_broker::mq_broker(std::vector<std::string> extra) {
    std::vector<std::string> argv = {MQ_BINARY, "broker", "--listen", "mqtt://127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<process>(std::move(argv));
    // {"type":"ready",...,"listeners":[{...,"port":N}]}
    const auto line = proc_->read_line(std::chrono::seconds(10));
    const auto key = line ? line->find("\"port\":") : std::string::npos;
    if (!line || line->find("\"type\":\"ready\"") == std::string::npos || key == std::string::npos) {
        const auto r = stop();
        throw std::runtime_error("mq broker printed no ready line; exit " + std::to_string(r.exit_code) +
                                 ", stderr:\n" + r.err);
    }
    port_ = static_cast<std::uint16_t>(std::stoul(line->substr(key + 7)));
    if (port_ == 0) throw std::runtime_error("mq broker ready line has port 0: " + *line);
}

process_result mq_broker::stop() {
    if (stopped_) return {};
    stopped_ = true;
    proc_->signal(SIGTERM);
    return proc_->wait(std::chrono::seconds(10));
}

mq_broker::~mq_broker() {
    (void)stop();
}

std::vector<std::string> mq_cmd(std::vector<std::string> args) {
    return prefixed(MQ_BINARY, std::move(args));
}

std::vector<std::string> mosquitto_pub_cmd(std::vector<std::string> args) {
    return prefixed(mosquitto_pub_path, std::move(args));
}

std::vector<std::string> mosquitto_sub_cmd(std::vector<std::string> args) {
    return prefixed(mosquitto_sub_path, std::move(args));
}

process_result run(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
    return run_process_io(std::move(argv), {}, timeout);
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return out;
}

std::string expected_line(const std::string& topic, int qos, bool retain, std::string_view payload) {
    return topic + " " + std::to_string(qos) + " " + (retain ? "1" : "0") + " " + hex(payload);
}

bool sync_subscriber(process& sub, const std::vector<std::string>& publish_prefix,
                     const std::string& sync_topic, std::vector<std::string>* seen) {
    for (int attempt = 0; attempt < 40; ++attempt) {
        auto argv = publish_prefix;
        argv.insert(argv.end(), {"-t", sync_topic, "-m", "sync"});
        if (run(argv, std::chrono::seconds(10)).exit_code != 0) return false;
        // Drain everything printed so far; a sync line proves the subscription.
        while (auto line = sub.read_line(std::chrono::milliseconds(250))) {
            // "topic ..." lines, or mq sub --json records.
            if (starts_with(*line, sync_topic) ||
                line->find("\"topic\":\"" + sync_topic + "\"") != std::string::npos)
                return true;
            if (seen) seen->push_back(*line);
        }
    }
    return false;
}

std::vector<std::string> read_lines(process& sub, std::size_t n, const std::string& skip_prefix,
                                    std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::string> out;
    while (out.size() < n) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        auto line = sub.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
        if (!line) break;
        if (!skip_prefix.empty() && starts_with(*line, skip_prefix)) continue;
        out.push_back(*line);
    }
    return out;
}

void write_binary(const std::string& path, std::string_view bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

std::string binary_payload() {
    std::string p("\0\0bin\xff\r\n\0", 9);
    for (int b = 0; b < 256; ++b) p += static_cast<char>(b);
    return p;
}

std::vector<std::string> host_port(std::uint16_t port) {
    return {"-h", "127.0.0.1", "-p", std::to_string(port)};
}

}  // namespace mq::test::interop
