// SPDX-License-Identifier: MIT
// The end-of-run summary (cli-contract.md §5.6): exact renderings of fixed input.
#include <doctest/doctest.h>

#include <string>

#include "common/exit_codes.hpp"
#include "common/summary.hpp"

using namespace mq::tools;

namespace {

run_summary sub_run() {
    run_summary s;
    s.command = "sub";
    s.exit_code = 124;
    s.ended_by = summary_end::idle;
    s.elapsed_s = 1.2345678;
    connect_summary c;
    c.connack_ms = 2.5;
    c.session_present = true;
    c.assigned_client_id = "auto-7";
    c.limits = {{"receive_maximum", 100}, {"maximum_qos", 1}};
    s.connect = c;
    s.subscriptions = {{"fleet/+/status", 0x01}, {"secret/#", 0x87}};
    s.messages = {5, 3, 2, 1, 3};
    s.rollcall = rollcall_summary{3, 2, {"fleet/c/status"}};
    return s;
}

}  // namespace

TEST_CASE("summary JSON of a sub run: keys in contract order, limits as advertised, null error") {
    CHECK(render_summary_json(sub_run()) ==
          R"({"type":"summary","command":"sub","exit_code":124,"ended_by":"idle","elapsed_s":1.234568,)"
          R"("connect":{"timings":{"connack_ms":2.5},"session_present":true,"reason_code":0,)"
          R"("assigned_client_id":"auto-7","limits":{"receive_maximum":100,"maximum_qos":1}},)"
          R"("subscriptions":[{"filter":"fleet/+/status","reason_code":1},{"filter":"secret/#","reason_code":135}],)"
          R"("messages":{"received":5,"printed":3,"retained":2,"excluded":1,"matched":3},)"
          R"("rollcall":{"expected":3,"seen":2,"missing":["fleet/c/status"]},"error":null})"
          "\n");
}

TEST_CASE("summary JSON of a failed pub run: no CONNACK is null, failures per reason code, error object") {
    run_summary s;
    s.command = "pub";
    s.exit_code = 77;
    s.ended_by = summary_end::error;
    s.elapsed_s = 0.25;
    s.publishing = publish_counts{4, 2, {{0x87, 1}, {0x97, 1}}};
    s.error = error_summary{"not_authorized", 0x87, "publish to 'x' failed: 0x87 Not authorized"};
    CHECK(render_summary_json(s) ==
          R"({"type":"summary","command":"pub","exit_code":77,"ended_by":"error","elapsed_s":0.25,"connect":null,)"
          R"("subscriptions":[],"messages":{"received":0,"printed":0,"retained":0,"excluded":0,"matched":0},)"
          R"("rollcall":null,"error":{"kind":"not_authorized","reason_code":135,"reason":"Not authorized",)"
          R"("message":"publish to 'x' failed: 0x87 Not authorized"},"published":4,"acked":2,)"
          R"("failed":[{"reason_code":135,"reason":"Not authorized","count":1},)"
          R"({"reason_code":151,"reason":"Quota exceeded","count":1}]})"
          "\n");
}

TEST_CASE("summary JSON of an rr run with --latency; an error without a reason code has null reason") {
    run_summary s;
    s.command = "rr";
    s.exit_code = 69;
    s.ended_by = summary_end::connection_lost;
    s.publishing = publish_counts{1, 1, {}};
    s.latency_ms = std::vector<double>{1.0000004, 12.5};
    s.error = error_summary{"unavailable", std::nullopt, "connection lost"};
    const std::string j = render_summary_json(s);
    CHECK(j.find(R"("ended_by":"connection_lost")") != std::string::npos);
    CHECK(j.find(R"("error":{"kind":"unavailable","reason_code":null,"reason":null,"message":"connection lost"})") !=
          std::string::npos);
    CHECK(j.ends_with(R"("published":1,"acked":1,"failed":[],"latency_ms":[1.0,12.5]})"
                      "\n"));
}

TEST_CASE("summary text: one line per part, reason codes in hex with names") {
    CHECK(render_summary_text(sub_run()) ==
          "mq sub summary: exit 124 (idle) after 1.235 s\n"
          "  connect: CONNACK 0x00 Success after 2.500 ms, session present: yes, assigned client id: auto-7\n"
          "  broker limits: receive_maximum=100 maximum_qos=1\n"
          "  subscription: fleet/+/status -> 0x01 Granted QoS 1\n"
          "  subscription: secret/# -> 0x87 Not authorized\n"
          "  messages: received 5, printed 3, retained 2, excluded 1, matched 3\n"
          "  rollcall: 2 of 3 seen, missing: fleet/c/status\n");
}

TEST_CASE("summary: every ended_by value and exit kind has its contract name") {
    CHECK(summary_end_name(summary_end::wait_first) == "wait_first");
    CHECK(summary_end_name(summary_end::stdout_closed) == "stdout_closed");
    CHECK(summary_end_name(summary_end::fail_on) == "fail_on");
    CHECK(exit_kind_name(exit_status::no_host) == "no_host");
    CHECK(exit_kind_name(exit_status::protocol) == "protocol");
    CHECK(exit_kind_name(exit_status::io) == "io");
    CHECK(exit_kind_name(3) == "internal");
}
