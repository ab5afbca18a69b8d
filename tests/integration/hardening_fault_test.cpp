// SPDX-License-Identifier: MIT
// Fault scenarios against the in-process broker (hardening.md §3 S01 S03 S04 and
// connection storms), with tests/support/fault_proxy between a client and the
// broker. Each test is time-bounded. Suite "fault": run by `ctest -L fault`.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "fault_proxy.hpp"
#include "hardening_util.hpp"

using namespace mq::test;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason;
using mode = fault_proxy::mode;
using dir = fault_proxy::direction;
using std::chrono::steady_clock;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

// Reads PUBLISH packets on its own thread, acknowledging QoS 1, until `want`
// arrived or the deadline passed; counts them and checks the order of the
// sequence numbers carried in the payload.
class counting_reader {
public:
    counting_reader(raw_client& c, std::size_t want, std::chrono::seconds bound)
        : thread_([this, &c, want, bound] {
              const auto deadline = steady_clock::now() + bound;
              while (count < want && steady_clock::now() < deadline) {
                  auto p = c.receive(std::chrono::milliseconds(500));
                  if (!p) continue;
                  auto* m = std::get_if<mqtt::publish>(&*p);
                  if (!m) continue;
                  if (m->level == qos::at_least_once) c.send(mqtt::puback{m->packet_id, reason::success, {}});
                  if (std::stoul(payload_of(*m).substr(0, 8)) != count) in_order = false;
                  ++count;
              }
          }) {}
    ~counting_reader() { join(); }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    std::atomic<std::size_t> count{0};
    std::atomic<bool> in_order{true};

private:
    std::thread thread_;
};

std::string numbered(std::size_t i, std::size_t size) {
    auto s = std::to_string(i);
    s.insert(0, 8 - s.size(), '0');
    s.resize(size, 'x');
    return s;
}

mqtt::connect persistent(const std::string& id, bool clean) {
    mqtt::connect c;
    c.client_id = id;
    c.clean_start = clean;
    c.keep_alive = 60;
    c.props.set_int(mqtt::property_id::session_expiry_interval, 300);  // ignored on 3.1.1
    return c;
}

}  // namespace

TEST_SUITE("fault" * doctest::skip()) {
    TEST_CASE(
        "S03 slow consumer QoS 0: stalled reader's deliveries dropped and counted, memory bounded, others "
        "proceed") {
        broker_fixture b([](mqtt::net::broker_limits& l) { l.max_write_buffer = 256 * 1024; });
        bystander by(b.port(), "by");
        REQUIRE(by.connected());
        auto healthy = b.client("healthy");
        REQUIRE(b.ok);
        REQUIRE(healthy->subscribe("flood", qos::at_most_once));

        fault_proxy proxy(b.port());
        raw_client slow(proxy.port());
        REQUIRE(slow.connect("slow"));
        REQUIRE(slow.subscribe("flood", qos::at_most_once));
        proxy.set(dir::to_client, mode::stall);  // the subscriber stops reading

        // 40 MiB: far more than the kernel buffers on the path plus --max-write-buffer.
        constexpr std::size_t total = 40'000;
        constexpr std::size_t size = 1024;
        const auto rss0 = rss_bytes();
        counting_reader reader(*healthy, total, std::chrono::seconds(60));
        auto pub = b.client("pub");
        REQUIRE(b.ok);
        const auto t0 = steady_clock::now();
        for (std::size_t i = 0; i < total; ++i) {
            // The healthy reader may trail by at most 1 MiB (kernel buffers hold that), so
            // the broker's cap only ever bites on the stalled one, whatever the machine's speed.
            const auto wait_until = steady_clock::now() + std::chrono::seconds(10);
            while (i > reader.count + 1000 && steady_clock::now() < wait_until)
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            pub->send(make_publish("flood", numbered(i, size)));
        }
        pub->send_hex("c0 00");  // the broker read every PUBLISH before this PINGREQ
        auto pong = pub->receive_frame(std::chrono::milliseconds(20'000));
        const auto publish_time = steady_clock::now() - t0;
        REQUIRE(pong);
        CHECK(to_hex(*pong) == "d0 00");
        reader.join();
        const auto rss_growth = rss_bytes() > rss0 ? rss_bytes() - rss0 : 0;
        MESSAGE("published ", total, " x ", size, " B in ",
                std::chrono::duration_cast<std::chrono::milliseconds>(publish_time).count(),
                " ms; RSS growth ", rss_growth / 1024,
                " KiB; dropped for the stalled reader: ", b.server().stats().dropped_write_buffer);

        CHECK(reader.count == total);  // the healthy subscriber got everything, in order
        CHECK(reader.in_order);
        const auto st = b.server().stats();
        CHECK(st.dropped_write_buffer > 0);
        CHECK(st.messages_dropped >= st.dropped_write_buffer);
        if (!sanitized)
            CHECK(rss_growth < 24 * MiB);  // 40 MiB went through; only the capped write buffer stays
        CHECK(by.round_trip("during"));

        // The reader wakes up: what it gets are whole PUBLISH packets, and it is still served.
        proxy.set(mode::pass);
        std::size_t got = 0;
        while (auto p = slow.receive(std::chrono::milliseconds(1000))) {
            auto* m = std::get_if<mqtt::publish>(&*p);
            REQUIRE(m);
            CHECK(m->topic == "flood");
            CHECK(m->payload.size() == size);
            ++got;
        }
        CHECK(got > 0);
        CHECK(got < total);
        slow.send_hex("c0 00");
        auto f = slow.receive_frame();
        REQUIRE(f);
        CHECK(to_hex(*f) == "d0 00");
    }

    TEST_CASE(
        "S03 slow consumer QoS 1: a stalled subscriber does not hold the publisher; queue drops counted") {
        broker_fixture b([](mqtt::net::broker_limits& l) { l.max_queued = 100; });
        bystander by(b.port(), "by");
        REQUIRE(by.connected());
        auto healthy = b.client("healthy");
        REQUIRE(b.ok);
        REQUIRE(healthy->subscribe("q", qos::at_least_once));
        fault_proxy proxy(b.port());
        raw_client slow(proxy.port());
        REQUIRE(slow.connect("slow"));
        REQUIRE(slow.subscribe("q", qos::at_least_once));
        auto pub = b.client("pub");
        REQUIRE(b.ok);
        // A warm-up message the slow subscriber does acknowledge: it counts as live, so
        // the broker first applies publisher back-pressure, until it sees the stall.
        REQUIRE(slow.subscribe("warm", qos::at_least_once, 2));
        pub->send(make_publish("warm", "w", qos::at_least_once, 60002));
        REQUIRE(as<mqtt::puback>(pub->receive()));
        auto warm = as<mqtt::publish>(slow.receive());
        REQUIRE(warm);
        slow.send(mqtt::puback{warm->packet_id, reason::success, {}});
        REQUIRE(by.round_trip("warm"));
        proxy.set(mode::stall);  // from now on it neither reads nor acknowledges

        constexpr std::size_t total = 3'000;
        counting_reader reader(*healthy, total, std::chrono::seconds(60));
        const auto t0 = steady_clock::now();
        // A window of 20 in flight, like `mq pub -M 20`.
        std::size_t acked = 0;
        for (std::size_t i = 0; i < total; ++i) {
            pub->send(make_publish("q", numbered(i, 64), qos::at_least_once,
                                   static_cast<std::uint16_t>(i % 60000 + 1)));
            if (i >= 20) {
                auto a = as<mqtt::puback>(pub->receive(std::chrono::milliseconds(5000)));
                REQUIRE(a);
                ++acked;
            }
        }
        while (acked < total) {
            auto a = as<mqtt::puback>(pub->receive(std::chrono::milliseconds(5000)));
            REQUIRE(a);
            ++acked;
        }
        const auto elapsed = steady_clock::now() - t0;
        reader.join();
        MESSAGE("QoS 1 publisher: ", total, " acknowledged in ",
                std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(),
                " ms with a stalled subscriber");
        CHECK(elapsed < std::chrono::seconds(20));
        const auto st = b.server().stats();
        INFO("healthy got ", reader.count.load(), "; queue-full drops ", st.dropped_queue_full);
        CHECK(reader.count == total);
        CHECK(reader.in_order);
        CHECK(st.dropped_queue_full > 0);
        CHECK(st.dropped_queue_full <= total);
        CHECK(by.round_trip("after"));
    }

    TEST_CASE("S04 half-open peer: silent past 1.5x keepalive it is disconnected and its Will published") {
        broker_fixture b;
        bystander by(b.port(), "by");
        REQUIRE(by.connected());
        auto watcher = b.client("watcher");
        REQUIRE(b.ok);
        REQUIRE(watcher->subscribe("will/#", qos::at_most_once));
        const int baseline = fd_count();
        for (auto m : {mode::drop, mode::stall}) {
            const std::string name = m == mode::drop ? "blackhole" : "stalled";
            CAPTURE(name);
            {
                fault_proxy proxy(b.port());
                raw_client c(proxy.port());
                mqtt::connect conn;
                conn.client_id = name;
                conn.keep_alive = 1;
                conn.will_msg = mqtt::will{"will/" + name, {'x'}, qos::at_most_once, false, {}};
                auto ack = c.connect(conn);
                REQUIRE(ack);
                REQUIRE(ack->reason_code == reason::success);
                proxy.set(m);  // neither direction gets through any more
                const auto t0 = steady_clock::now();
                auto w = as<mqtt::publish>(watcher->receive(std::chrono::milliseconds(4000)));
                const auto elapsed = steady_clock::now() - t0;
                REQUIRE(w);
                CHECK(w->topic == "will/" + name);
                CHECK(elapsed >= std::chrono::milliseconds(1300));  // 1.5 x 1 s after the CONNECT
                CHECK(elapsed <= std::chrono::milliseconds(3000 * timing_scale));
                CHECK(c.silent_for(std::chrono::milliseconds(100)));  // the peer never heard about it
                if (m == mode::drop) CHECK(proxy.dropped(dir::to_client) >= 3);  // DISCONNECT 0x8D swallowed
                CHECK(by.round_trip(name));
            }
            CHECK(fds_back_to(baseline));
        }
    }

    TEST_CASE("S01 publisher cut mid QoS 2, resumed with clean start 0: delivered exactly once") {
        for (auto v : {protocol_version::v5, protocol_version::v311}) {
            const std::string vn = v == protocol_version::v5 ? "v5" : "v311";
            broker_fixture b;
            auto sub = b.client("sub");
            REQUIRE(b.ok);
            REQUIRE(sub->subscribe("x/#", qos::exactly_once));
            auto deliveries = [&](const std::string& payload) {
                int n = 0;
                while (auto p = as<mqtt::publish>(sub->receive(std::chrono::milliseconds(300)))) {
                    if (payload_of(*p) == payload) ++n;
                    sub->send(mqtt::pubrec{p->packet_id, reason::success, {}});
                    if (auto rel = as<mqtt::pubrel>(sub->receive()))
                        sub->send(mqtt::pubcomp{rel->packet_id, reason::success, {}});
                }
                return n;
            };
            // Where the cut happens: PUBREL lost (after PUBREC), PUBREC lost (after the
            // broker took the PUBLISH), or the PUBLISH itself lost.
            for (const std::string where : {"pubrel-lost", "pubrec-lost", "publish-lost"}) {
                CAPTURE(vn);
                CAPTURE(where);
                const std::string id = "p-" + vn + "-" + where;
                const std::string payload = "once-" + id;
                {
                    fault_proxy proxy(b.port());
                    raw_client c(proxy.port(), v);
                    // 3.1.1 keeps the session only with clean session 0; v5 by the expiry.
                    auto ack = c.connect(persistent(id, v == protocol_version::v5));
                    REQUIRE(ack);
                    REQUIRE(ack->reason_code == reason::success);
                    if (where == "publish-lost") proxy.set(dir::to_server, mode::drop);
                    if (where == "pubrec-lost") proxy.set(dir::to_client, mode::drop);
                    c.send(make_publish("x/" + where, payload, qos::exactly_once, 7));
                    if (where == "pubrel-lost") {
                        REQUIRE(as<mqtt::pubrec>(c.receive()));
                        proxy.set(dir::to_server, mode::drop);
                        c.send(mqtt::pubrel{7, reason::success, {}});
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    proxy.cut();
                }
                raw_client again(b.port(), v);
                auto ack = again.connect(persistent(id, false));
                REQUIRE(ack);
                CHECK(ack->session_present);
                if (where != "pubrel-lost") {
                    auto p = make_publish("x/" + where, payload, qos::exactly_once, 7);
                    p.dup = true;  // [MQTT-4.3.3-?] the resumed client resends the PUBLISH
                    again.send(p);
                    REQUIRE(as<mqtt::pubrec>(again.receive()));
                }
                again.send(mqtt::pubrel{7, reason::success, {}});
                auto comp = as<mqtt::pubcomp>(again.receive());
                REQUIRE(comp);
                CHECK(comp->packet_id == 7);
                CHECK(comp->reason_code == reason::success);
                CHECK(deliveries(payload) == 1);
            }
        }
    }

    TEST_CASE(
        "S01 subscriber cut mid QoS 2, resumed with clean start 0: the broker completes without a second "
        "delivery") {
        broker_fixture b;
        auto pub = b.client("pub");
        REQUIRE(b.ok);
        for (const std::string where : {"pubrel-lost", "pubrec-lost"}) {
            CAPTURE(where);
            const std::string id = "s-" + where;
            std::uint16_t first_id = 0;
            {
                fault_proxy proxy(b.port());
                raw_client c(proxy.port());
                REQUIRE(c.connect(persistent(id, true)));
                REQUIRE(c.subscribe("y/" + where, qos::exactly_once));
                pub->send(make_publish("y/" + where, "one", qos::exactly_once, 1));
                REQUIRE(as<mqtt::pubrec>(pub->receive()));
                pub->send(mqtt::pubrel{1, reason::success, {}});
                REQUIRE(as<mqtt::pubcomp>(pub->receive()));
                auto m = as<mqtt::publish>(c.receive());
                REQUIRE(m);
                CHECK(payload_of(*m) == "one");
                CHECK(m->level == qos::exactly_once);
                first_id = m->packet_id;
                if (where == "pubrel-lost") proxy.set(dir::to_client, mode::drop);
                if (where == "pubrec-lost") proxy.set(dir::to_server, mode::drop);
                c.send(mqtt::pubrec{m->packet_id, reason::success, {}});
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                proxy.cut();
            }
            raw_client again(b.port());
            auto ack = again.connect(persistent(id, false));
            REQUIRE(ack);
            CHECK(ack->session_present);
            auto p = again.receive();
            REQUIRE(p);
            INFO("packet type ", static_cast<int>(mqtt::type_of(*p)));
            if (where == "pubrel-lost") {
                // [MQTT-4.4.0-1] the PUBREC arrived: only PUBREL is resent, never the message.
                auto rel = as<mqtt::pubrel>(p);
                REQUIRE(rel);
                CHECK(rel->packet_id == first_id);
                again.send(mqtt::pubcomp{rel->packet_id, reason::success, {}});
            } else {
                // The PUBREC was lost: the same packet id comes back with DUP, which a
                // receiver that kept the id (Method B) does not deliver again.
                auto m = as<mqtt::publish>(p);
                REQUIRE(m);
                CHECK(m->dup);
                CHECK(m->packet_id == first_id);
                CHECK(payload_of(*m) == "one");
                again.send(mqtt::pubrec{m->packet_id, reason::success, {}});
                auto rel = as<mqtt::pubrel>(again.receive());
                REQUIRE(rel);
                again.send(mqtt::pubcomp{rel->packet_id, reason::success, {}});
            }
            CHECK(again.silent_for(std::chrono::milliseconds(300)));
        }
    }

}  // TEST_SUITE("fault")

TEST_SUITE("fault" * doctest::skip()) {
    TEST_CASE(
        "S09 partition during a QoS 1 burst: the subscriber's session resumes with every message, none "
        "lost") {
        broker_fixture b;
        auto pub = b.client("pub");
        REQUIRE(b.ok);
        constexpr int total = 300;  // below --max-queued: nothing may be dropped
        {
            fault_proxy proxy(b.port());
            raw_client c(proxy.port());
            REQUIRE(c.connect(persistent("part", true)));
            REQUIRE(c.subscribe("burst", qos::at_least_once));
            proxy.set(mode::drop);  // the path goes dark both ways
            for (int i = 0; i < total; ++i) {
                pub->send(make_publish("burst", numbered(static_cast<std::size_t>(i), 16), qos::at_least_once,
                                       static_cast<std::uint16_t>(i + 1)));
                REQUIRE(as<mqtt::puback>(pub->receive()));  // the publisher is not held up
            }
            CHECK(proxy.dropped(dir::to_client) > 0);  // deliveries went into the void
            proxy.cut();
        }
        raw_client again(b.port());
        auto ack = again.connect(persistent("part", false));
        REQUIRE(ack);
        CHECK(ack->session_present);
        std::set<std::string> seen;
        int dups = 0;
        while (seen.size() < static_cast<std::size_t>(total)) {
            auto m = as<mqtt::publish>(again.receive(std::chrono::milliseconds(3000)));
            REQUIRE_MESSAGE(m, "only ", seen.size(), " of ", total, " arrived after the partition");
            if (m->dup) ++dups;  // [MQTT-4.4.0-1] unacknowledged ones come back with DUP
            seen.insert(payload_of(*m).substr(0, 8));
            again.send(mqtt::puback{m->packet_id, reason::success, {}});
        }
        MESSAGE("after the partition: ", seen.size(), " distinct messages, ", dups, " resent with DUP");
        CHECK(seen.size() == static_cast<std::size_t>(total));
        CHECK(dups > 0);
        CHECK(b.server().stats().messages_dropped == 0);
        CHECK(again.silent_for(std::chrono::milliseconds(200)));
    }

    TEST_CASE(
        "S13 stop with 1000 v5 clients: each gets DISCONNECT 0x8B and the close, within the drain bound") {
        constexpr int clients = 1000;
        auto b = std::make_unique<broker_fixture>();
        std::vector<std::unique_ptr<raw_client>> cs;
        for (int i = 0; i < clients; ++i) {
            cs.push_back(b->client("bye" + std::to_string(i)));
            REQUIRE(b->ok);
        }
        const auto t0 = steady_clock::now();
        b->server().stop(std::chrono::milliseconds(2000));
        b.reset();  // joins the broker thread: run() has returned
        const auto stop_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
        int got = 0, closed = 0;
        for (auto& c : cs) {
            auto d = as<mqtt::disconnect>(c->receive());
            if (d && d->reason_code == reason::server_shutting_down) ++got;
            if (c->wait_closed()) ++closed;
        }
        MESSAGE("stop() until run() returned, with ", clients, " clients: ", stop_ms, " ms");
        CHECK(got == clients);
        CHECK(closed == clients);
        CHECK(stop_ms <= 2500 * timing_scale);
    }

}  // TEST_SUITE("fault")
