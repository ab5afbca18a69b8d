// SPDX-License-Identifier: MIT
// The password file format: parsing with line-numbered errors, editing that
// keeps comments, and the base64 it uses.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <mqtt/core/password_file.hpp>

using namespace mqtt::core;

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::string b64(std::size_t n, std::uint8_t fill) {
    return base64_encode(std::vector<std::uint8_t>(n, fill));
}

std::string good_line(const std::string& user, const std::string& iterations = "1000") {
    return user + ":$pbkdf2-sha512$" + iterations + "$" + b64(16, 1) + "$" + b64(64, 2);
}

// The error for a one-entry file after two comment lines (so the line is 3).
file_error error_of(const std::string& entry) {
    file_error err;
    const auto f = password_file::parse("# users\n\n" + entry + "\n", err);
    CHECK_FALSE(f.has_value());
    return err;
}

}  // namespace

TEST_CASE("base64 matches the RFC 4648 test vectors and round trips") {
    const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                      {"f", "Zg=="},
                                                                      {"fo", "Zm8="},
                                                                      {"foo", "Zm9v"},
                                                                      {"foob", "Zm9vYg=="},
                                                                      {"fooba", "Zm9vYmE="},
                                                                      {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, coded] : vectors) {
        CAPTURE(plain);
        CHECK(base64_encode(bytes(plain)) == coded);
        const auto back = base64_decode(coded);
        REQUIRE(back);
        CHECK(*back == bytes(plain));
    }
    std::vector<std::uint8_t> all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
    CHECK(base64_decode(base64_encode(all)) == all);
}

TEST_CASE("base64 rejects bad characters, lengths and padding") {
    for (const char* bad : {"Zg=", "Zg", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9", "=Zm9"}) {
        CAPTURE(bad);
        CHECK_FALSE(base64_decode(bad).has_value());
    }
}

TEST_CASE("J03 a valid password file parses with comments, CRLF and lookups") {
    file_error err;
    const auto f =
        password_file::parse("# comment\r\n" + good_line("alice") + "\r\n\n" + good_line("bob", "7"), err);
    REQUIRE(f);
    CHECK(f->size() == 2);
    const auto* a = f->find("alice");
    REQUIRE(a);
    CHECK(a->iterations == 1000);
    CHECK(a->salt == std::vector<std::uint8_t>(16, 1));
    CHECK(a->hash == std::vector<std::uint8_t>(64, 2));
    REQUIRE(f->find("bob"));
    CHECK(f->find("bob")->iterations == 7);
    CHECK(f->find("carol") == nullptr);
    CHECK(f->find("Alice") == nullptr);  // usernames are case-sensitive
}

TEST_CASE("J03 a malformed password file line names the line and the problem") {
    struct row {
        std::string line;
        std::string says;
    };
    const std::vector<row> rows = {
        {"alice", "expected 'username:"},
        {":$pbkdf2-sha512$1000$" + b64(16, 1) + "$" + b64(64, 2), "empty username"},
        {"alice:$bcrypt$10$xyz", "unknown hash scheme 'bcrypt'"},
        {"alice:pbkdf2-sha512$1000$a$b", "must start with '$pbkdf2-sha512$'"},
        {"alice:$pbkdf2-sha512$1000$" + b64(16, 1), "expected $pbkdf2-sha512$ITERATIONS$SALT$HASH"},
        {good_line("alice", "0"), "bad iteration count '0'"},
        {good_line("alice", "12x"), "bad iteration count '12x'"},
        {good_line("alice", "-5"), "bad iteration count '-5'"},
        {good_line("alice", "999999999999"), "bad iteration count"},
        {"alice:$pbkdf2-sha512$1000$" + b64(8, 1) + "$" + b64(64, 2), "salt must be 16 bytes"},
        {"alice:$pbkdf2-sha512$1000$" + b64(16, 1) + "$" + b64(32, 2), "hash must be 64 bytes"},
        {"alice:$pbkdf2-sha512$1000$" + b64(16, 1) + "$not*base64", "hash must be 64 bytes"},
        {"ali\x01"
         "ce:$pbkdf2-sha512$1000$" +
             b64(16, 1) + "$" + b64(64, 2),
         "control characters"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.line);
        const auto err = error_of(r.line);
        CHECK(err.line == 3);
        CHECK(err.message.find(r.says) != std::string::npos);
    }
}

TEST_CASE("J03 a duplicate user is refused at its second line") {
    file_error err;
    const auto f =
        password_file::parse(good_line("alice") + "\n" + good_line("bob") + "\n" + good_line("alice"), err);
    CHECK_FALSE(f);
    CHECK(err.line == 3);
    CHECK(err.message == "duplicate user 'alice'");
}

TEST_CASE("editing keeps comments and order, replaces in place and removes") {
    file_error err;
    auto f = password_file::parse(
        "# header\n" + good_line("alice") + "\n# middle\n" + good_line("bob") + "\n", err);
    REQUIRE(f);
    password_entry carol{"carol", 5, std::vector<std::uint8_t>(16, 9), std::vector<std::uint8_t>(64, 8)};
    f->set(carol);
    password_entry alice2{"alice", 42, std::vector<std::uint8_t>(16, 3), std::vector<std::uint8_t>(64, 4)};
    f->set(alice2);
    CHECK(f->remove("bob"));
    CHECK_FALSE(f->remove("bob"));
    const std::string text = f->text();
    CHECK(text == "# header\n" + format_password_entry(alice2) + "\n# middle\n" +
                      format_password_entry(carol) + "\n");
    // What we print parses back to the same entries.
    const auto again = password_file::parse(text, err);
    REQUIRE(again);
    REQUIRE(again->find("alice"));
    CHECK(again->find("alice")->iterations == 42);
    CHECK(again->find("carol")->hash == carol.hash);
    CHECK(again->find("bob") == nullptr);
}
