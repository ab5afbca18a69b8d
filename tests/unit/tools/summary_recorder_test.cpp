// SPDX-License-Identifier: MIT
// How a run's end is classified in the summary (cli-contract.md §5.6): the
// recorder as main() drives it, written to a --summary-file.
#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <mqtt/codec/reason.hpp>
#include <mqtt/net/errors.hpp>

#include "common/exit_codes.hpp"
#include "common/summary_recorder.hpp"

using namespace mq::tools;
namespace fs = std::filesystem;

namespace {

struct summary_file {
    summary_file() {
        std::random_device rd;
        opts.file = (fs::temp_directory_path() / ("mq-summary-unit-" + std::to_string(rd()))).string();
    }
    ~summary_file() {
        std::error_code ec;
        fs::remove(opts.file, ec);
    }
    summary_file(const summary_file&) = delete;
    summary_file& operator=(const summary_file&) = delete;
    std::string read() const {
        std::ifstream in(opts.file);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    summary_options opts;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

mqtt::connack accepted() {
    mqtt::connack ack;
    ack.props.set_int(mqtt::property_id::receive_maximum, 20);
    ack.props.set_string(mqtt::property_id::assigned_client_identifier, "auto-1");
    return ack;
}

}  // namespace

TEST_CASE("summary recorder: a refused CONNACK fills connect.reason_code and the error's reason") {
    summary_file f;
    auto& rec = begin_summary(f.opts, "sub");
    rec.connect_started();
    summary_note_error(mqtt::make_error_code(mqtt::reason::bad_user_name_or_password), "connection refused", 77);
    CHECK(finish_summary(77) == 77);
    const std::string s = f.read();
    CHECK(has(s, R"("exit_code":77,"ended_by":"error")"));
    CHECK(has(s, R"("session_present":false,"reason_code":134,"assigned_client_id":null,"limits":{}})"));
    CHECK(has(s, R"("error":{"kind":"not_authorized","reason_code":134,"reason":"Bad User Name or Password",)"));
}

TEST_CASE("summary recorder: losing an established connection is connection_lost, with CONNACK details") {
    summary_file f;
    auto& rec = begin_summary(f.opts, "sub");
    rec.connect_started();
    rec.connected(accepted());
    summary_note_error(mqtt::net::make_error_code(mqtt::net::net_error::connection_lost), "connection lost", 69);
    CHECK(finish_summary(69) == 69);
    const std::string s = f.read();
    CHECK(has(s, R"("ended_by":"connection_lost")"));
    CHECK(has(s, R"("assigned_client_id":"auto-1","limits":{"receive_maximum":20}})"));
    CHECK(has(s, R"("error":{"kind":"unavailable","reason_code":null,"reason":null,"message":"connection lost"})"));
}

TEST_CASE("summary recorder: EPIPE is stdout_closed with exit 0; a failure noted first stays the error") {
    {
        summary_file f;
        auto& rec = begin_summary(f.opts, "sub");
        rec.connected(accepted());
        summary_note_error(std::make_error_code(std::errc::broken_pipe), "stdout", 0);
        CHECK(finish_summary(0) == 0);
        CHECK(has(f.read(), R"("exit_code":0,"ended_by":"stdout_closed")"));
        CHECK(has(f.read(), R"("error":null)"));
    }
    {
        summary_file f;
        auto& rec = begin_summary(f.opts, "pub");
        rec.publish_acked(0x00, false);
        rec.publish_acked(0x10, true);  // --require-subscribers: 0x10 is a failure
        rec.failure(1, 0x10, "no subscribers for 'a'");
        rec.failure(76, 0x80, "later");
        CHECK(finish_summary(1) == 1);
        const std::string s = f.read();
        CHECK(has(s, R"("error":{"kind":"check_failed","reason_code":16,)"));
        CHECK(has(s, R"("acked":1,"failed":[{"reason_code":16,"reason":"No matching subscribers","count":1}])"));
    }
}

TEST_CASE("summary recorder: an unwritable summary file turns the exit status into 74") {
    summary_options opts;
    opts.file = "/nonexistent-dir/summary.json";
    (void)begin_summary(opts, "rr");
    CHECK(finish_summary(0) == exit_status::io);
    opts.format = "yaml";
    CHECK_THROWS_AS(begin_summary(opts, "rr"), std::system_error);
}
