// SPDX-License-Identifier: MIT
// Persistence journal records: round trip, CRC mismatch, torn and corrupt tails;
// and the replay of records into store::model.
#include <mqtt/core/store_model.hpp>
#include <mqtt/core/store_record.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace mqtt::core::store;
using mqtt::qos;

namespace {

std::shared_ptr<const mqtt::publish> msg(std::string topic, std::string payload, qos q) {
    auto p = std::make_shared<mqtt::publish>();
    p->topic = std::move(topic);
    p->payload.assign(payload.begin(), payload.end());
    p->level = q;
    p->retain = true;
    p->props.set_int(mqtt::property_id::message_expiry_interval, 60);
    p->props.add_user_property("k", "v");
    return p;
}

std::vector<std::uint8_t> journal(const std::vector<record>& rs) {
    std::vector<std::uint8_t> out(journal_magic.begin(), journal_magic.end());
    for (const auto& r : rs) REQUIRE(encode_record(r, out));
    return out;
}

std::vector<record> sample() {
    std::vector<record> rs;
    record a;
    a.type = record_type::retained;
    a.msg = msg("r/1", "on", qos::at_least_once);
    a.time_ms = 1'700'000'000'123;
    rs.push_back(a);
    record s;
    s.type = record_type::session;
    s.client_id = "c1";
    s.expiry = 3600;
    s.username = "alice";
    rs.push_back(s);
    record b;
    b.type = record_type::subscribe;
    b.client_id = "c1";
    b.text = "a/+";
    b.level = qos::exactly_once;
    b.flags = 0b1011;
    b.sub_id = 7;
    rs.push_back(b);
    record e;
    e.type = record_type::enqueue;
    e.client_id = "c1";
    e.tag = 42;
    e.level = qos::at_least_once;
    e.flags = 1;
    e.sub_ids = {7, 9};
    rs.push_back(e);
    record d;
    d.type = record_type::sent;
    d.client_id = "c1";
    d.tag = 42;
    d.packet_id = 65535;
    rs.push_back(d);
    return rs;
}

}  // namespace

TEST_CASE("store record: every field survives encode and read") {
    const auto rs = sample();
    const auto bytes = journal(rs);
    std::vector<record> got;
    const auto res = scan_journal(bytes, [&](const record& r) { got.push_back(r); });
    CHECK(res.status == scan_status::clean);
    CHECK(res.good_bytes == bytes.size());
    REQUIRE(got.size() == rs.size());
    CHECK(got[0].type == record_type::retained);
    REQUIRE(got[0].msg);
    CHECK(got[0].msg->topic == "r/1");
    CHECK(got[0].msg->level == qos::at_least_once);
    CHECK(got[0].msg->retain);
    CHECK(got[0].msg->packet_id == 0);
    CHECK(got[0].msg->props == rs[0].msg->props);
    CHECK(got[0].msg->payload == rs[0].msg->payload);
    CHECK(got[0].time_ms == 1'700'000'000'123);
    CHECK(got[1].client_id == "c1");
    CHECK(got[1].expiry == 3600);
    CHECK(got[1].username == std::optional<std::string>("alice"));
    CHECK(got[2].text == "a/+");
    CHECK(got[2].level == qos::exactly_once);
    CHECK(got[2].flags == 0b1011);
    CHECK(got[2].sub_id == 7);
    CHECK(got[3].tag == 42);
    CHECK(got[3].sub_ids == std::vector<std::uint32_t>{7, 9});
    CHECK(got[4].packet_id == 65535);
}

TEST_CASE("store record: a flipped byte fails the CRC") {
    auto bytes = journal({sample()[1]});
    bytes.back() ^= 0x01;
    record r;
    const auto res = read_record(std::span<const std::uint8_t>(bytes).subspan(journal_magic.size()), r);
    CHECK(res.status == read_status::corrupt);
    const auto scan = scan_journal(bytes, [](const record&) { FAIL("no record expected"); });
    CHECK(scan.status == scan_status::corrupt_tail);
    CHECK(scan.good_bytes == journal_magic.size());
}

TEST_CASE("store record: a truncated frame is a torn tail, the records before it are kept") {
    const auto full = journal(sample());
    const auto four = journal({sample()[0], sample()[1], sample()[2], sample()[3]});
    // Every cut inside the last frame, header included.
    for (std::size_t cut = four.size(); cut < full.size(); ++cut) {
        std::vector<std::uint8_t> part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
        std::size_t n = 0;
        const auto res = scan_journal(part, [&](const record&) { ++n; });
        CAPTURE(cut);
        CHECK(res.status == (cut == four.size() ? scan_status::clean : scan_status::torn_tail));
        CHECK(res.good_bytes == four.size());
        CHECK(n == 4);
    }
}

TEST_CASE("store record: corruption followed by good records is told apart from a bad tail") {
    auto bytes = journal(sample());
    // A payload byte of the second record (magic, then the first frame).
    record first;
    const auto r0 = read_record(std::span<const std::uint8_t>(bytes).subspan(journal_magic.size()), first);
    REQUIRE(r0.status == read_status::ok);
    bytes[journal_magic.size() + r0.size + frame_header_size + 3] ^= 0x40;
    std::size_t n = 0;
    const auto res = scan_journal(bytes, [&](const record&) { ++n; });
    CHECK(res.status == scan_status::corrupt_middle);
    CHECK(n == 1);
    CHECK(res.good_bytes == journal_magic.size() + r0.size);
}

TEST_CASE("store record: a huge length is corruption, bad magic is not a journal") {
    auto bytes = journal({sample()[1]});
    bytes[journal_magic.size() + 3] = 0xff;  // length > max_frame_length
    CHECK(scan_journal(bytes, [](const record&) {}).status == scan_status::corrupt_tail);
    std::vector<std::uint8_t> junk{'n', 'o', 't', ' ', 'a', ' ', 'j', 'o', 'u', 'r', 'n', 'a', 'l'};
    CHECK(scan_journal(junk, [](const record&) {}).status == scan_status::bad_magic);
    CHECK(scan_journal(std::span<const std::uint8_t>{}, [](const record&) {}).status == scan_status::clean);
    // A crash while the magic itself was written: a torn tail with nothing good.
    const std::vector<std::uint8_t> cut{'m', 'q', 'j'};
    const auto r = scan_journal(cut, [](const record&) {});
    CHECK(r.status == scan_status::torn_tail);
    CHECK(r.good_bytes == 0);
}

TEST_CASE("store record: crc32 matches the IEEE check value") {
    const std::string s = "123456789";
    CHECK(crc32(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())) ==
          0xCBF43926u);
}

// ---------------------------------------------------------------------------
// store::model: replaying records rebuilds the state they describe.


namespace {

record rec(record_type t, std::string client = {}, std::uint64_t tag = 0, std::uint16_t pid = 0) {
    record r;
    r.type = t;
    r.client_id = std::move(client);
    r.tag = tag;
    r.packet_id = pid;
    return r;
}

}  // namespace

TEST_CASE("store model: MQTT-3.1.2-4 sessions, subscriptions and deliveries follow their records") {
    model m;
    auto s = rec(record_type::session, "c");
    s.expiry = 60;
    m.apply(s);
    auto sub = rec(record_type::subscribe, "c");
    sub.text = "a/#";
    sub.level = qos::exactly_once;
    sub.flags = 0b0110;  // retain as published, retain handling 1
    sub.sub_id = 5;
    m.apply(sub);
    auto body = rec(record_type::message, {}, 7);
    body.msg = msg("a/b", "x", qos::exactly_once);
    m.apply(body);
    auto enq = rec(record_type::enqueue, "c", 7);
    enq.level = qos::exactly_once;
    m.apply(enq);
    m.apply(rec(record_type::sent, "c", 7, 3));
    m.apply(rec(record_type::released, "c", 7));
    m.apply(rec(record_type::inbound_add, "c", 0, 9));
    REQUIRE(m.sessions.count("c") == 1);
    const auto& st = m.sessions.at("c");
    CHECK(st.expiry == 60);
    REQUIRE(st.subscriptions.count("a/#") == 1);
    const auto& o = st.subscriptions.at("a/#");
    CHECK(o.max_qos == qos::exactly_once);
    CHECK(o.retain_as_published);
    CHECK_FALSE(o.no_local);
    CHECK(o.retain_handling == 1);
    CHECK(o.subscription_id == std::optional<std::uint32_t>(5));
    REQUIRE(st.pending.count(7) == 1);
    CHECK(st.pending.at(7).packet_id == 3);
    CHECK(st.pending.at(7).released);
    CHECK(st.inbound_qos2 == std::set<std::uint16_t>{9});
    CHECK(m.max_tag == 7);

    m.apply(rec(record_type::done, "c", 7));
    m.apply(rec(record_type::inbound_del, "c", 0, 9));
    auto un = rec(record_type::unsubscribe, "c");
    un.text = "a/#";
    m.apply(un);
    CHECK(m.sessions.at("c").pending.empty());
    CHECK(m.sessions.at("c").inbound_qos2.empty());
    CHECK(m.sessions.at("c").subscriptions.empty());

    // A clean start ends it; records for an unknown session change nothing.
    m.apply(rec(record_type::session_end, "c"));
    m.apply(enq);
    CHECK(m.sessions.empty());
}

TEST_CASE("store model: MQTT-3.3.1-6 a retained record with an empty payload clears the topic") {
    model m;
    auto set = rec(record_type::retained);
    set.msg = msg("r", "v", qos::at_most_once);
    m.apply(set);
    CHECK(m.retained.count("r") == 1);
    auto clear = rec(record_type::retained);
    clear.msg = msg("r", "", qos::at_most_once);
    m.apply(clear);
    CHECK(m.retained.empty());
}
