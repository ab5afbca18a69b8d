// SPDX-License-Identifier: MIT
// Roll-call bookkeeping (cli-contract.md §5.5).
#include <doctest/doctest.h>

#include <system_error>

#include "common/exit_codes.hpp"
#include "common/rollcall.hpp"

using namespace mq::tools;

namespace {

int error_code_of(auto fn) {
    try {
        fn();
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}

}  // namespace

TEST_CASE("roll-call of topics: comments, blanks and duplicates skipped; missing listed in file order") {
    auto r = rollcall::from_topics("# fleet\n\ndev/a\n  dev/b  \r\ndev/a\ndev/c\n", "list");
    CHECK(r.expected() == 3);
    CHECK(r.filters() == std::vector<std::string>{"dev/a", "dev/b", "dev/c"});
    CHECK(r.report_json() == R"({"type":"rollcall","expected":3,"seen":0,"missing":["dev/a","dev/b","dev/c"]})");
    CHECK(r.record("dev/b"));
    CHECK_FALSE(r.record("dev/b"));  // once is enough
    CHECK_FALSE(r.record("dev/x"));  // not on the list
    CHECK_FALSE(r.complete());
    CHECK(r.report_json() == R"({"type":"rollcall","expected":3,"seen":1,"missing":["dev/a","dev/c"]})");
    CHECK(r.record("dev/a"));
    CHECK(r.record("dev/c"));
    CHECK(r.complete());
    CHECK(r.report_json() == R"({"type":"rollcall","expected":3,"seen":3,"missing":[]})");
}

TEST_CASE("roll-call of ids through a template subscribes with + and reports ids") {
    auto r = rollcall::from_ids("d1\nd2\n", "ids", "devices/{id}/status");
    CHECK(r.filters() == std::vector<std::string>{"devices/+/status"});
    CHECK_FALSE(r.record("devices/d1/other"));
    CHECK(r.record("devices/d1/status"));
    CHECK(r.report_json() == R"({"type":"rollcall","expected":2,"seen":1,"missing":["d2"]})");
    auto first_level = rollcall::from_ids("x\n", "ids", "{id}");
    CHECK(first_level.filters() == std::vector<std::string>{"+"});
    CHECK(first_level.record("x"));
}

TEST_CASE("roll-call errors: bad topics and ids are data errors, bad templates usage errors") {
    const int data = static_cast<int>(tool_error::data), usage = static_cast<int>(tool_error::usage);
    CHECK(error_code_of([] { (void)rollcall::from_topics("dev/+\n", "f"); }) == data);
    CHECK(error_code_of([] { (void)rollcall::from_topics("# nothing\n\n", "f"); }) == data);
    CHECK(error_code_of([] { (void)rollcall::from_ids("a/b\n", "f", "d/{id}"); }) == data);
    CHECK(error_code_of([] { (void)rollcall::from_ids("#x\n+\n", "f", "d/{id}"); }) == data);
    CHECK(error_code_of([] { (void)rollcall::from_ids("a\n", "f", "d/x{id}"); }) == usage);
    CHECK(error_code_of([] { (void)rollcall::from_ids("a\n", "f", "d/{id}/{id}"); }) == usage);
    CHECK(error_code_of([] { (void)rollcall::from_ids("a\n", "f", "d/status"); }) == usage);
    CHECK(error_code_of([] { (void)rollcall::from_topics_file("/nonexistent/list"); }) ==
          static_cast<int>(tool_error::no_input));
    try {
        (void)rollcall::from_topics("ok/a\nbad/#\n", "fleet.txt");
        FAIL("no error");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).starts_with("fleet.txt:2: invalid topic 'bad/#'"));
    }
}
