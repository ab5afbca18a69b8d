// SPDX-License-Identifier: MIT
#include "e2e_broker.hpp"

#include <csignal>
#include <cstdlib>
#include <stdexcept>

namespace mq::test {

std::vector<std::string> mq_cmd(std::vector<std::string> args) {
    args.insert(args.begin(), MQ_BINARY);
    return args;
}

process_result run_mq(std::vector<std::string> args, std::string_view input, std::chrono::milliseconds timeout) {
    return run_process_io(mq_cmd(std::move(args)), input, timeout);
}

e2e_broker::e2e_broker(std::vector<std::string> broker_args) {
    const char* choice = std::getenv("MQ_E2E_BROKER");
    const bool force_mosquitto = choice != nullptr && std::string(choice) == "mosquitto";
    if (!force_mosquitto) {
        // No silent fallback: if mq broker cannot start, the e2e suite must fail.
        if (!start_mq(std::move(broker_args))) throw std::runtime_error("mq broker did not start (set MQ_E2E_BROKER=mosquitto to test against mosquitto)");
        return;
    }
    if (!mosquitto_fixture::available()) throw std::runtime_error("MQ_E2E_BROKER=mosquitto but mosquitto is not installed");
    mosquitto_ = std::make_unique<mosquitto_fixture>();
    port_ = mosquitto_->port();
    kind_ = "mosquitto";
}

e2e_broker::~e2e_broker() {
    if (mq_) {
        mq_->signal(SIGTERM);
        (void)mq_->wait(std::chrono::seconds(5));
    }
}

int e2e_broker::terminate() {
    if (!mq_) return -1;
    mq_->signal(SIGTERM);
    const auto r = mq_->wait(std::chrono::seconds(10));
    mq_.reset();
    return r.timed_out ? -1 : r.exit_code;
}

bool e2e_broker::start_mq(std::vector<std::string> broker_args) {
    std::vector<std::string> args{"broker", "--listen", "mqtt://127.0.0.1:0"};
    args.insert(args.end(), broker_args.begin(), broker_args.end());
    mq_ = std::make_unique<process>(mq_cmd(std::move(args)));
    // {"type":"ready",...,"listeners":[{...,"port":N}]}
    const auto line = mq_->read_line(std::chrono::seconds(10));
    const auto key = line ? line->find("\"port\":") : std::string::npos;
    if (!line || line->find("\"type\":\"ready\"") == std::string::npos || key == std::string::npos) {
        mq_.reset();  // kills it
        return false;
    }
    port_ = static_cast<std::uint16_t>(std::stoul(line->substr(key + 7)));
    kind_ = "mq";
    return port_ != 0;
}

bool wait_subscribed(process& sub, const e2e_broker& broker, const std::string& topic) {
    for (int i = 0; i < 50; ++i) {
        const auto r = run_mq({"pub", "-p", broker.port_text(), "-t", topic, "-m", "sync"});
        if (r.exit_code != 0) return false;
        if (auto line = sub.read_line(std::chrono::milliseconds(200))) {
            if (line->find(topic) != std::string::npos || line->find("sync") != std::string::npos) return true;
        }
    }
    return false;
}

std::vector<std::string> read_data_lines(process& sub, std::size_t n, const std::string& sync,
                                         std::chrono::milliseconds timeout) {
    std::vector<std::string> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
        auto line = sub.read_line(std::chrono::milliseconds(100));
        if (line && !line->empty() && line->find(sync) == std::string::npos) out.push_back(*line);
    }
    return out;
}

}  // namespace mq::test
