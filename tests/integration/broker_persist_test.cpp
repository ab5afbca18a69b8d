// SPDX-License-Identifier: MIT
// Broker persistence (--persistence-dir, hardening S02): retained messages,
// persistent sessions, subscriptions and queued QoS 1/2 messages survive a
// restart; torn and corrupt journal tails; compaction.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "broker_fixture.hpp"
#include "persist_fixture.hpp"

using namespace mq::test;
using mqtt::qos;
using mqtt::reason;

namespace {

std::filesystem::path journal_of(const temp_dir& d) {
    return d.file("journal");
}

std::vector<char> read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& p, const std::vector<char>& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// PUBLISH then its PUBACK (asserted): accepted, whether or not a subscriber
/// is there to get it (0x10, sec-3.4.2.1).
void publish1(raw_client& c, const std::string& topic, const std::string& payload, std::uint16_t id,
              bool retain = false) {
    c.send(make_publish(topic, payload, qos::at_least_once, id, retain));
    auto ack = as<mqtt::puback>(c.receive());
    REQUIRE(ack);
    CHECK(ack->packet_id == id);
    CHECK((ack->reason_code == reason::success || ack->reason_code == reason::no_matching_subscribers));
}

/// Payloads of the retained messages `filter` gets on a fresh subscription.
std::set<std::string> retained_of(persist_broker& b, const std::string& filter) {
    auto c = b.client("retained-reader");
    std::set<std::string> got;
    if (!b.ok || !c->subscribe(filter, qos::at_most_once)) return got;
    while (auto m = as<mqtt::publish>(c->receive(300ms))) got.insert(payload_of(*m));
    return got;
}

std::string fmt_list(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += s.substr(0, 20) + ",";
    return out;
}

}  // namespace

TEST_CASE("persist S02 MQTT-3.3.1-5 a retained message survives a restart, a cleared one stays cleared") {
    temp_dir dir;
    persist_broker b(dir.path());
    {
        auto p = b.client("p");
        REQUIRE(b.ok);
        publish1(*p, "r/1", "one", 1, true);
        publish1(*p, "r/2", "two", 2, true);
        publish1(*p, "r/2", "", 3, true);  // [MQTT-3.3.1-6] cleared
        publish1(*p, "r/3", "three-old", 4, true);
        publish1(*p, "r/3", "three", 5, true);  // replaced
    }
    b.restart();
    CHECK(b.log().contains("restored 2 retained messages"));
    CHECK(retained_of(b, "r/#") == std::set<std::string>{"one", "three"});
}

TEST_CASE("persist S02 MQTT-3.1.2-4 MQTT-3.1.2-23 a persistent session, its subscription and queued QoS 1 "
          "messages survive a restart") {
    temp_dir dir;
    persist_broker b(dir.path());
    {
        auto s = b.client("sub", false, 3600);
        REQUIRE(b.ok);
        REQUIRE(s->subscribe("q/#", qos::at_least_once));
        s->send(mqtt::disconnect{});  // offline, session kept for an hour
    }
    {
        auto p = b.client("pub");
        REQUIRE(b.ok);
        for (std::uint16_t i = 1; i <= 3; ++i) publish1(*p, "q/a", "m" + std::to_string(i), i);
    }
    b.restart();
    {
        // The subscription is live again before the client returns: queued too.
        auto p = b.client("pub");
        REQUIRE(b.ok);
        publish1(*p, "q/b", "m4", 1);
        publish1(*p, "other", "not for sub", 2);
    }
    {
        bool present = false;
        auto s = b.client("sub", false, 3600, &present);
        REQUIRE(b.ok);
        CHECK(present);  // [MQTT-3.2.2-3]
        std::vector<std::string> got;
        while (auto m = as<mqtt::publish>(s->receive(500ms))) {
            got.push_back(payload_of(*m));
            CHECK(m->level == qos::at_least_once);
            s->send(mqtt::puback{m->packet_id, reason::success, {}});
        }
        // [MQTT-4.6.0-6] in order.
        CHECK(got == std::vector<std::string>{"m1", "m2", "m3", "m4"});
        s->send(mqtt::disconnect{});
    }
    b.restart();
    {
        // The PUBACKs were journaled too: nothing is sent again.
        bool present = false;
        auto s = b.client("sub", false, 3600, &present);
        REQUIRE(b.ok);
        CHECK(present);
        CHECK(s->silent_for(300ms));
        // Clean start discards it [MQTT-3.1.2-4] (expiry 0: the new one ends
        // with the connection), and that survives a restart too.
    }
    {
        auto s = b.client("sub", true, 0);
        REQUIRE(b.ok);
        s->send(mqtt::disconnect{});
    }
    b.restart();
    {
        auto p = b.client("pub");
        REQUIRE(b.ok);
        publish1(*p, "q/c", "after clean start", 1);
        bool present = true;
        auto s = b.client("sub", false, 3600, &present);
        REQUIRE(b.ok);
        CHECK_FALSE(present);
        CHECK(s->silent_for(300ms));
    }
}

TEST_CASE("persist S02 MQTT-4.4.0-1 an in-flight QoS 2 message keeps its packet id across a restart") {
    temp_dir dir;
    persist_broker b(dir.path());
    std::uint16_t pid = 0;
    {
        auto s = b.client("sub2", false, 600);
        REQUIRE(b.ok);
        REQUIRE(s->subscribe("x", qos::exactly_once));
        auto p = b.client("pub2");
        REQUIRE(b.ok);
        p->send(make_publish("x", "exactly once", qos::exactly_once, 9));
        auto rec = as<mqtt::pubrec>(p->receive());
        REQUIRE(rec);
        CHECK(rec->reason_code == reason::success);
        auto m = as<mqtt::publish>(s->receive());
        REQUIRE(m);
        pid = m->packet_id;
        s->close();  // no PUBREC: still in flight
    }
    b.restart();
    bool present = false;
    auto s = b.client("sub2", false, 600, &present);
    REQUIRE(b.ok);
    CHECK(present);
    auto m = as<mqtt::publish>(s->receive());
    REQUIRE(m);
    CHECK(m->dup);  // [MQTT-3.3.1-1] a redelivery
    CHECK(m->packet_id == pid);
    CHECK(payload_of(*m) == "exactly once");
    s->send(mqtt::pubrec{pid, reason::success, {}});
    auto rel = as<mqtt::pubrel>(s->receive());
    REQUIRE(rel);
    s->close();  // PUBREL owed: also kept
    b.restart();
    auto s2 = b.client("sub2", false, 600, &present);
    REQUIRE(b.ok);
    auto rel2 = as<mqtt::pubrel>(s2->receive());  // [MQTT-4.4.0-1] PUBREL resent, no PUBLISH
    REQUIRE(rel2);
    CHECK(rel2->packet_id == pid);
    s2->send(mqtt::pubcomp{pid, reason::success, {}});
    CHECK(s2->silent_for(200ms));
}

TEST_CASE("persist MQTT-4.3.3-10 an inbound QoS 2 id awaiting PUBREL survives a restart: no second delivery") {
    temp_dir dir;
    persist_broker b(dir.path());
    {
        auto s = b.client("sub3", false, 600);
        REQUIRE(b.ok);
        REQUIRE(s->subscribe("y", qos::at_least_once));
        s->send(mqtt::disconnect{});
        auto p = b.client("pub3", false, 600);
        REQUIRE(b.ok);
        p->send(make_publish("y", "once", qos::exactly_once, 5));
        REQUIRE(as<mqtt::pubrec>(p->receive()));
        p->close();  // PUBREL not sent yet
    }
    b.restart();
    auto p = b.client("pub3", false, 600);
    REQUIRE(b.ok);
    auto again = make_publish("y", "once", qos::exactly_once, 5);
    again.dup = true;
    p->send(again);  // the retry of a publisher that never saw the PUBREC
    REQUIRE(as<mqtt::pubrec>(p->receive()));
    p->send(mqtt::pubrel{5, reason::success, {}});
    auto comp = as<mqtt::pubcomp>(p->receive());
    REQUIRE(comp);
    CHECK(comp->reason_code == reason::success);
    auto s = b.client("sub3", false, 600);
    REQUIRE(b.ok);
    auto m = as<mqtt::publish>(s->receive());
    REQUIRE(m);
    CHECK(payload_of(*m) == "once");
    s->send(mqtt::puback{m->packet_id, reason::success, {}});
    CHECK(s->silent_for(300ms));  // exactly once
}

TEST_CASE("persist a torn journal tail is cut off with a warning; the records before it are kept") {
    temp_dir dir;
    {
        persist_broker b(dir.path());
        auto p = b.client("p");
        REQUIRE(b.ok);
        publish1(*p, "t/1", "kept", 1, true);
        publish1(*p, "t/2", "torn", 2, true);
    }
    auto bytes = read_file(journal_of(dir));
    REQUIRE(bytes.size() > 20);
    bytes.resize(bytes.size() - 5);  // mid-record, as a crash during a write leaves it
    write_file(journal_of(dir), bytes);
    persist_broker b(dir.path());
    CHECK(b.log().contains("torn tail"));
    CHECK(retained_of(b, "t/#") == std::set<std::string>{"kept"});
    // The cut is durable: appending after it gives a clean journal.
    {
        auto p = b.client("p");
        REQUIRE(b.ok);
        publish1(*p, "t/3", "after", 1, true);
    }
    b.log().clear();
    b.restart();
    CHECK_FALSE(b.log().contains("tail"));
    CHECK(retained_of(b, "t/#") == std::set<std::string>{"kept", "after"});
}

TEST_CASE("persist a corrupt last record is skipped with a warning; damage before the tail refuses to start") {
    temp_dir dir;
    {
        persist_broker b(dir.path());
        auto p = b.client("p");
        REQUIRE(b.ok);
        publish1(*p, "c/1", "first", 1, true);
        publish1(*p, "c/2", "second", 2, true);
    }
    const auto good = read_file(journal_of(dir));
    auto bytes = good;
    bytes[bytes.size() - 3] ^= 0x20;  // inside the payload of the last record
    write_file(journal_of(dir), bytes);
    {
        persist_broker b(dir.path());
        CHECK(b.log().contains("corrupt tail"));
        CHECK(retained_of(b, "c/#") == std::set<std::string>{"first"});
        auto p = b.client("p");
        REQUIRE(b.ok);
        publish1(*p, "c/3", "third", 1, true);
    }
    // A flipped byte in the first record, followed by good ones: media damage,
    // not a crash. Refused (mq broker exits 65) rather than silently losing state.
    bytes = read_file(journal_of(dir));
    bytes[8 + 8 + 4] ^= 0x01;  // magic, frame header, into the body
    write_file(journal_of(dir), bytes);
    mqtt::net::server_options o;
    o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
    o.persistence_dir = dir.path();
    mqtt::net::server srv(std::move(o));
    CHECK_THROWS_AS(srv.start(), mqtt::net::persistence_error);
}

TEST_CASE("persist compaction rewrites the journal as a snapshot and keeps the state") {
    temp_dir dir;
    persist_broker b(dir.path(), 8 * 1024);
    {
        auto s = b.client("csub", false, 3600);
        REQUIRE(b.ok);
        REQUIRE(s->subscribe("k/q", qos::at_least_once, 1, 0, false, false, 42));
        s->send(mqtt::disconnect{});
    }
    auto p = b.client("cpub");
    REQUIRE(b.ok);
    const std::string filler(200, 'x');
    // Many replacements of one retained topic: the log grows, the state does not.
    for (std::uint16_t i = 1; i <= 200; ++i) publish1(*p, "k/r", filler + std::to_string(i), i, true);
    publish1(*p, "k/q", "queued-1", 201);
    publish1(*p, "k/q", "queued-2", 202);
    std::uintmax_t grown = std::filesystem::file_size(journal_of(dir));
    CHECK(grown > 40 * 1024);
    // Housekeeping compacts once a second; bounded wait.
    bool compacted = false;
    for (int i = 0; i < 40 && !compacted; ++i) {
        std::this_thread::sleep_for(100ms);
        compacted = b.log().contains("compacted");
    }
    REQUIRE(compacted);
    CHECK(std::filesystem::file_size(journal_of(dir)) < 8 * 1024);
    publish1(*p, "k/q", "queued-3", 203);  // appended after the snapshot
    p.reset();
    b.restart();
    CHECK(retained_of(b, "k/r") == std::set<std::string>{filler + "200"});
    auto s = b.client("csub", false, 3600);
    REQUIRE(b.ok);
    std::vector<std::string> got;
    while (auto m = as<mqtt::publish>(s->receive(500ms))) {
        got.push_back(payload_of(*m));
        // [MQTT-3.3.4-3] the subscription identifier was kept too.
        CHECK(m->props.get_int(mqtt::property_id::subscription_identifier) == 42u);
        s->send(mqtt::puback{m->packet_id, reason::success, {}});
    }
    INFO(fmt_list(got));
    CHECK(got == std::vector<std::string>{"queued-1", "queued-2", "queued-3"});
}

TEST_CASE("persist without a persistence directory nothing survives a restart") {
    // The documented default (hardening S02): purely in memory.
    std::uint16_t port = 0;
    {
        broker_fixture b;
        port = b.port();
        auto p = b.client("p");
        REQUIRE(b.ok);
        p->send(make_publish("m/1", "gone", qos::at_least_once, 1, true));
        REQUIRE(as<mqtt::puback>(p->receive()));
    }
    broker_fixture b;
    CHECK(b.port() != 0);
    (void)port;
    auto c = b.client("s");
    REQUIRE(b.ok);
    REQUIRE(c->subscribe("m/#", qos::at_most_once));
    CHECK(c->silent_for(200ms));
}

TEST_CASE("persist H08 the directory is made 0700, the journal 0600, and one broker at a time uses it") {
    temp_dir dir;
    const std::string pdir = dir.file("store");
    persist_broker b(pdir);
    namespace fs = std::filesystem;
    CHECK((fs::status(pdir).permissions() & fs::perms::all) == fs::perms::owner_all);
    CHECK((fs::status(pdir + "/journal").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    mqtt::net::server_options o;
    o.listeners = {mqtt::net::listener_options{"mqtt://127.0.0.1:0"}};
    o.persistence_dir = pdir;
    mqtt::net::server second(std::move(o));
    CHECK_THROWS_AS(second.start(), mqtt::net::persistence_error);  // mq broker: exit 65
}
