// SPDX-License-Identifier: MIT
// Broker authentication (password file, anonymous policy) and authorisation
// (ACL file) asserted on the wire, for both protocol versions.
#include <doctest/doctest.h>

#include <thread>

#include <mqtt/codec/encode.hpp>

#include "broker_fixture.hpp"
#include "mosquitto_fixture.hpp"
#include "secure_broker_fixture.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;

namespace {

constexpr auto v311 = protocol_version::v311;

struct auth_setup {
    temp_dir dir;
    std::string passwords = dir.file("passwd");
    std::string acl = dir.file("acl");

    mqtt::net::server_options options(bool with_acl, std::optional<bool> anonymous = std::nullopt) {
        mqtt::net::server_options o;
        o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
        o.password_file = passwords;
        if (with_acl) o.acl_file = acl;
        o.allow_anonymous = anonymous;
        o.sys_interval = std::chrono::milliseconds(0);
        return o;
    }
};

// A connected client (asserts CONNACK success).
std::unique_ptr<raw_client> login(std::uint16_t port, const std::string& id, const std::string& user,
                                  const std::string& pw, protocol_version v = protocol_version::v5) {
    auto c = std::make_unique<raw_client>(port, v);
    auto ack = c->connect(connect_packet(id, user, pw, v));
    REQUIRE(ack);
    REQUIRE(ack->reason_code == reason::success);
    return c;
}

// Nothing more arrives for `quiet`, frames already buffered included, and the
// connection stays open.
bool nothing_for(raw_client& c, std::chrono::milliseconds quiet) {
    return !c.receive(quiet).has_value() && !c.peer_closed();
}

}  // namespace

TEST_CASE("MQTT-3.1.4-2 J01 v5 right password connects; wrong password, unknown user, no password get 0x86") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "secret"}, {"bob", "hunter2"}}));
    secure_broker b(s.options(false));
    {
        raw_client c(b.port());
        CHECK(connack_hex(c, connect_packet("a1", "alice", "secret")).starts_with("20"));
        CHECK(as<mqtt::pingresp>((c.send(mqtt::packet{mqtt::pingreq{}}), c.receive())));
    }
    for (const auto& [user, pw] : std::vector<std::pair<std::string, std::optional<std::string>>>{
             {"alice", "Secret"}, {"carol", "secret"}, {"alice", std::nullopt}, {"bob", ""}}) {
        CAPTURE(user);
        raw_client c(b.port());
        CHECK(connack_hex(c, connect_packet("x", user, pw)) == "20 03 00 86 00");
        CHECK(c.wait_closed());  // [MQTT-3.2.2-7] closed after a failing CONNACK
    }
    // A second login hits the credential cache and still answers correctly.
    raw_client again(b.port());
    auto ack = again.connect(connect_packet("a2", "alice", "secret"));
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::success);
}

TEST_CASE("MQTT-3.1.4-2 J01 v3.1.1 wrong password gets CONNACK 0x04") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "secret"}}));
    secure_broker b(s.options(false));
    raw_client bad(b.port(), v311);
    CHECK(connack_hex(bad, connect_packet("x", "alice", "nope", v311)) == "20 02 00 04");
    raw_client good(b.port(), v311);
    CHECK(connack_hex(good, connect_packet("y", "alice", "secret", v311)) == "20 02 00 00");
}

TEST_CASE("J02 anonymous clients are refused with a password file: 0x87 on v5, 0x05 on v3.1.1") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "secret"}}));
    secure_broker b(s.options(false));
    raw_client c5(b.port());
    CHECK(connack_hex(c5, connect_packet("anon5")) == "20 03 00 87 00");
    raw_client c3(b.port(), v311);
    CHECK(connack_hex(c3, connect_packet("anon3", std::nullopt, std::nullopt, v311)) == "20 02 00 05");
}

TEST_CASE("J02 allow_anonymous with a password file accepts clients without a username") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "secret"}}));
    secure_broker b(s.options(false, true));
    raw_client c(b.port());
    CHECK(connack_hex(c, connect_packet("anon")).starts_with("20 "));
    raw_client bad(b.port());
    CHECK(connack_hex(bad, connect_packet("x", "alice", "wrong")) == "20 03 00 86 00");
}

TEST_CASE(
    "J05 v5 publish denied by the ACL: PUBACK/PUBREC 0x87, QoS 0 dropped and counted, nothing delivered") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}, {"eve", "e"}}));
    write_text(s.acl,
               "allow user:alice readwrite t/#\nallow user:eve read t/#\nallow user:eve write other\n");
    secure_broker b(s.options(true));
    auto sub = login(b.port(), "sub", "alice", "a");
    REQUIRE(sub->subscribe("t/#", qos::exactly_once));
    auto eve = login(b.port(), "eve", "eve", "e");
    eve->send(mqtt::packet{make_publish("t/x", "q1", qos::at_least_once, 7)});
    auto ack1 = as<mqtt::puback>(eve->receive());
    REQUIRE(ack1);
    CHECK(ack1->packet_id == 7);
    CHECK(ack1->reason_code == reason::not_authorized);
    eve->send(mqtt::packet{make_publish("t/x", "q2", qos::exactly_once, 8)});
    auto rec = as<mqtt::pubrec>(eve->receive());
    REQUIRE(rec);
    CHECK(rec->reason_code == reason::not_authorized);
    eve->send(mqtt::packet{make_publish("t/x", "q0")});
    CHECK(nothing_for(*eve, std::chrono::milliseconds(200)));  // connection kept, nothing else sent
    CHECK(nothing_for(*sub, std::chrono::milliseconds(200)));
    CHECK(b.server().stats().dropped_not_authorized == 1);
    // Alice may write there: delivered.
    auto alice = login(b.port(), "alice", "alice", "a");
    alice->send(mqtt::packet{make_publish("t/ok", "yes", qos::at_least_once, 1)});
    auto okack = as<mqtt::puback>(alice->receive());
    REQUIRE(okack);
    CHECK(okack->reason_code == reason::success);
    auto got = as<mqtt::publish>(sub->receive());
    REQUIRE(got);
    CHECK(payload_of(*got) == "yes");
}

TEST_CASE("J05 v3.1.1 publish denied by the ACL is acknowledged as usual, dropped and counted") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}, {"eve", "e"}}));
    write_text(s.acl, "allow user:alice read #\n");
    secure_broker b(s.options(true));
    auto sub = login(b.port(), "sub", "alice", "a", v311);
    REQUIRE(sub->subscribe("#", qos::at_least_once));
    auto eve = login(b.port(), "eve", "eve", "e", v311);
    eve->send(mqtt::packet{make_publish("t/x", "no", qos::at_least_once, 3)});
    auto f = eve->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "40 02 00 03");
    eve->send(mqtt::packet{make_publish("t/y", "no", qos::exactly_once, 4)});
    f = eve->receive_frame();
    REQUIRE(f);
    CHECK(to_hex(*f) == "50 02 00 04");
    CHECK(nothing_for(*sub, std::chrono::milliseconds(200)));
    CHECK(b.server().stats().dropped_not_authorized == 2);
}

TEST_CASE("MQTT-3.9.3-1 J05 subscriptions no rule allows get 0x87 on v5 and 0x80 on v3.1.1; others granted") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}}));
    write_text(s.acl, "deny * read private/#\nallow * read public/#\nallow * read private/+/open\n");
    secure_broker b(s.options(true));
    for (auto v : {protocol_version::v5, v311}) {
        CAPTURE(static_cast<int>(v));
        auto c = login(b.port(), "s", "alice", "a", v);
        mqtt::subscribe req;
        req.packet_id = 9;
        for (const char* f : {"public/#", "private/#", "#", "public/a/b", "private/x/open"}) {
            mqtt::subscription e;
            e.filter = f;
            e.max_qos = qos::at_least_once;
            req.entries.push_back(e);
        }
        c->send(mqtt::packet{req});
        auto frame = c->receive_frame();
        REQUIRE(frame);
        // private/x/open: the deny rule covers it first.
        if (v == protocol_version::v5)
            CHECK(to_hex(*frame) == "90 08 00 09 00 01 87 87 01 87");
        else
            CHECK(to_hex(*frame) == "90 07 00 09 01 80 80 01 80");
    }
}

TEST_CASE("J09 %u and %c rules give each client its own tree") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}, {"bob", "b"}}));
    write_text(s.acl, "allow * readwrite home/%u/#\nallow * write dev/%c/out\nallow * read dev/+/out\n");
    secure_broker b(s.options(true));
    auto alice = login(b.port(), "alice-dev", "alice", "a");
    auto bob = login(b.port(), "bob-dev", "bob", "b");
    CHECK(alice->subscribe("home/alice/#", qos::at_least_once)->reason_codes.at(0) == reason::granted_qos_1);
    CHECK(alice->subscribe("home/bob/#", qos::at_least_once, 2)->reason_codes.at(0) ==
          reason::not_authorized);
    CHECK(alice->subscribe("dev/+/out", qos::at_least_once, 3)->reason_codes.at(0) == reason::granted_qos_1);
    bob->send(mqtt::packet{make_publish("home/alice/x", "intrude", qos::at_least_once, 1)});
    CHECK(as<mqtt::puback>(bob->receive())->reason_code == reason::not_authorized);
    bob->send(mqtt::packet{make_publish("dev/alice-dev/out", "spoof", qos::at_least_once, 2)});
    CHECK(as<mqtt::puback>(bob->receive())->reason_code == reason::not_authorized);
    bob->send(mqtt::packet{make_publish("dev/bob-dev/out", "mine", qos::at_least_once, 3)});
    CHECK(as<mqtt::puback>(bob->receive())->reason_code == reason::success);
    auto got = as<mqtt::publish>(alice->receive());
    REQUIRE(got);
    CHECK(got->topic == "dev/bob-dev/out");
    CHECK(nothing_for(*alice, std::chrono::milliseconds(150)));
}

TEST_CASE("J06 a Will on a topic the client may not write refuses the CONNECT: 0x87 / 0x05") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}}));
    write_text(s.acl, "allow * readwrite ok/#\n");
    secure_broker b(s.options(true));
    for (auto v : {protocol_version::v5, v311}) {
        raw_client c(b.port(), v);
        auto cp = connect_packet("w", "alice", "a", v);
        cp.will_msg = mqtt::will{"forbidden/lwt", {'x'}, qos::at_most_once, false, {}};
        CHECK(connack_hex(c, cp) == (v == v311 ? "20 02 00 05" : "20 03 00 87 00"));
        raw_client fine(b.port(), v);
        cp.will_msg->topic = "ok/lwt";
        const std::string ok = connack_hex(fine, cp);
        CHECK(ok.substr(0, 2) == "20");
        CHECK(ok.substr(6, 5) == "00 00");  // flags, reason success
    }
}

TEST_CASE("J07 retained messages are checked for read access when sent on subscribe") {
    auth_setup s;
    write_text(s.passwords, password_text({{"admin", "x"}, {"guest", "g"}}));
    write_text(s.acl,
               "allow user:admin readwrite #\ndeny user:guest read r/secret\nallow user:guest read r/#\n");
    secure_broker b(s.options(true));
    auto admin = login(b.port(), "admin", "admin", "x");
    for (const char* t : {"r/public", "r/secret"}) {
        admin->send(mqtt::packet{make_publish(t, t, qos::at_least_once, 1, true)});
        REQUIRE(as<mqtt::puback>(admin->receive()));
    }
    auto guest = login(b.port(), "guest", "guest", "g");
    REQUIRE(guest->subscribe("r/#", qos::at_least_once)->reason_codes.at(0) == reason::granted_qos_1);
    auto m = as<mqtt::publish>(guest->receive());
    REQUIRE(m);
    CHECK(m->topic == "r/public");
    CHECK(nothing_for(*guest, std::chrono::milliseconds(200)));
    // Live messages on the denied topic are not delivered either.
    admin->send(mqtt::packet{make_publish("r/secret", "live")});
    CHECK(nothing_for(*guest, std::chrono::milliseconds(200)));
}

TEST_CASE("J08 reload() applies new files and keeps the old ones when a file is broken") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "one"}}));
    write_text(s.acl, "allow * readwrite a/#\n");
    secure_broker b(s.options(true));
    auto c = login(b.port(), "c1", "alice", "one");
    c->send(mqtt::packet{make_publish("b/x", "no", qos::at_least_once, 1)});
    CHECK(as<mqtt::puback>(c->receive())->reason_code == reason::not_authorized);

    write_text(s.acl, "allow * readwrite b/#\n");
    write_text(s.passwords, password_text({{"alice", "two"}}));
    CHECK(b.server().reload());
    // The live connection sees the new ACL at once.
    c->send(mqtt::packet{make_publish("b/x", "yes", qos::at_least_once, 2)});
    // Allowed now: accepted; nobody subscribes, hence 0x10 (sec-3.4.2.1).
    CHECK(as<mqtt::puback>(c->receive())->reason_code == reason::no_matching_subscribers);
    raw_client old_pw(b.port());
    CHECK(connack_hex(old_pw, connect_packet("c2", "alice", "one")) == "20 03 00 86 00");
    login(b.port(), "c3", "alice", "two");

    // Broken files: reload fails and the files in force stay (hardening S14).
    write_text(s.acl, "allow * readwrite #\nallow everyone read x\n");
    CHECK_FALSE(b.server().reload());
    c->send(mqtt::packet{make_publish("a/x", "still no", qos::at_least_once, 3)});
    CHECK(as<mqtt::puback>(c->receive())->reason_code == reason::not_authorized);
    write_text(s.acl, "allow * readwrite b/#\n");
    write_text(s.passwords, "alice:$md5$1$x$y\n");
    CHECK_FALSE(b.server().reload());
    login(b.port(), "c4", "alice", "two");
    ::unlink(s.passwords.c_str());
    CHECK_FALSE(b.server().reload());
    login(b.port(), "c5", "alice", "two");
}

TEST_CASE("J03 malformed files and the anonymous policy stop start() with the file and line named") {
    auth_setup s;
    const auto start_error = [](mqtt::net::server_options o) -> std::string {
        mqtt::net::server srv(std::move(o));
        try {
            srv.start();
        } catch (const mqtt::net::config_error& e) {
            return e.what();
        }
        return "started";
    };
    write_text(s.passwords, password_text({{"alice", "a"}}) + "bob:$pbkdf2-sha512$notanumber$x$y\n");
    CHECK(start_error(s.options(false)) == s.passwords + ":3: bad iteration count 'notanumber'");
    write_text(s.passwords, "carol:$sha1$abc\n");
    CHECK(start_error(s.options(false)) ==
          s.passwords + ":1: unknown hash scheme 'sha1' (only pbkdf2-sha512)");
    write_text(s.passwords, password_text({{"alice", "a"}}));
    write_text(s.acl, "allow * read ok\n\nallow * write a/#/b\n");
    CHECK(start_error(s.options(true)) == s.acl + ":3: invalid topic filter 'a/#/b'");
    auto missing = s.options(false);
    missing.password_file = s.dir.file("nope");
    CHECK(start_error(missing).starts_with("cannot read " + s.dir.file("nope")));

    mqtt::net::server_options open;
    open.listeners = {mqtt::net::listener_options{"mqtt://0.0.0.0:0"}};
    CHECK(start_error(open).find("is not loopback") != std::string::npos);
    open.allow_anonymous = true;
    CHECK(start_error(open) == "started");
}

TEST_CASE("J07 messages queued for an offline session are re-checked against a reloaded ACL on resume") {
    auth_setup s;
    write_text(s.passwords, password_text({{"admin", "x"}, {"guest", "g"}}));
    write_text(s.acl, "allow user:admin readwrite #\nallow user:guest read r/#\n");
    secure_broker b(s.options(true));
    auto persistent = connect_packet("guest-dev", "guest", "g");
    persistent.clean_start = false;
    persistent.props.set_int(mqtt::property_id::session_expiry_interval, 300);
    {
        raw_client guest(b.port());
        auto ack = guest.connect(persistent);
        REQUIRE(ack);
        REQUIRE(ack->reason_code == reason::success);
        REQUIRE(guest.subscribe("r/#", qos::at_least_once)->reason_codes.at(0) == reason::granted_qos_1);
        guest.send(mqtt::packet{mqtt::disconnect{}});
        CHECK(guest.wait_closed());
    }
    auto admin = login(b.port(), "admin", "admin", "x");
    for (const char* t : {"r/public", "r/secret"}) {
        admin->send(mqtt::packet{make_publish(t, t, qos::at_least_once, 1)});
        REQUIRE(as<mqtt::puback>(admin->receive()));
    }
    write_text(s.acl,
               "allow user:admin readwrite #\ndeny user:guest read r/secret\nallow user:guest read r/#\n");
    REQUIRE(b.server().reload());
    raw_client guest(b.port());
    auto ack = guest.connect(persistent);
    REQUIRE(ack);
    CHECK(ack->session_present);
    auto m = as<mqtt::publish>(guest.receive());
    REQUIRE(m);
    CHECK(m->topic == "r/public");
    CHECK(nothing_for(guest, std::chrono::milliseconds(200)));
}

TEST_CASE("MQTT-3.1.4-5 packets sent with the CONNECT wait for the password check, then run in order") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}}));
    secure_broker b(s.options(false));
    raw_client c(b.port());
    std::vector<std::uint8_t> burst;
    REQUIRE_FALSE(
        mqtt::encode(mqtt::packet{connect_packet("eager", "alice", "a")}, protocol_version::v5, burst));
    mqtt::subscribe sub;
    sub.packet_id = 5;
    mqtt::subscription entry;
    entry.filter = "e/#";
    entry.max_qos = qos::at_least_once;
    sub.entries.push_back(entry);
    REQUIRE_FALSE(mqtt::encode(mqtt::packet{sub}, protocol_version::v5, burst));
    REQUIRE_FALSE(mqtt::encode(mqtt::packet{make_publish("e/1", "early", qos::at_least_once, 6)},
                               protocol_version::v5, burst));
    c.send_bytes(burst);
    auto ack = as<mqtt::connack>(c.receive());
    REQUIRE(ack);
    CHECK(ack->reason_code == reason::success);
    CHECK(as<mqtt::suback>(c.receive()));
    // Our own message comes back (no No Local) and is acknowledged.
    int got = 0;
    for (int i = 0; i < 2; ++i) {
        auto p = c.receive();
        REQUIRE(p);
        if (auto m = as<mqtt::publish>(p)) got += payload_of(*m) == "early";
        if (auto a = as<mqtt::puback>(p)) got += a->packet_id == 6;
    }
    CHECK(got == 2);
}

TEST_CASE("a storm of abandoned bad logins does not delay a good one") {
    auth_setup s;
    write_text(s.passwords, password_text({{"alice", "a"}}));
    secure_broker b(s.options(false));
    // Unknown users are hashed with the default 50,000 iterations (tens of ms
    // each): 200 of them would take seconds if every one were still hashed.
    for (int i = 0; i < 200; ++i) {
        raw_client bad(b.port());
        bad.send(mqtt::packet{connect_packet("x", "nobody" + std::to_string(i), "pw")});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto t0 = std::chrono::steady_clock::now();
    login(b.port(), "good", "alice", "a");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500));
}
