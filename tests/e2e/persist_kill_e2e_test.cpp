// SPDX-License-Identifier: MIT
// `mq broker --persistence-dir` as a child process killed with SIGKILL
// (hardening S02) and run out of file space (S15): nothing acknowledged to a
// publisher is lost, nothing is acknowledged that was not stored.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "e2e_broker.hpp"
#include "mosquitto_fixture.hpp"
#include "process.hpp"
#include "raw_client.hpp"

using namespace mq::test;
using mqtt::qos;
using mqtt::reason;

namespace {

/// `mq broker` on 127.0.0.1:0 with a persistence directory, optionally under
/// a soft `ulimit -f BLOCKS` (the shell applies it, then execs the broker; the
/// test raises it again with prlimit(2), which a soft limit allows).
struct broker_process {
    std::unique_ptr<process> proc;
    std::uint16_t port = 0;

    broker_process(const std::string& dir, const std::string& fsync, int fsize_blocks = 0) {
        std::vector<std::string> args = mq_cmd({"broker", "--listen", "mqtt://127.0.0.1:0", "--sys-interval", "0",
                                                "--persistence-dir", dir, "--fsync", fsync,
                                                // the offline queue must hold the whole stream
                                                "--max-queued", "100000"});
        if (fsize_blocks > 0) {
            args.insert(args.begin(), {"/bin/sh", "-c", "ulimit -S -f " + std::to_string(fsize_blocks) + " && exec \"$@\"",
                                       "sh"});
        }
        proc = std::make_unique<process>(args);
        const auto line = proc->read_line(std::chrono::seconds(10));
        const auto key = line ? line->find("\"port\":") : std::string::npos;
        if (line && key != std::string::npos) port = static_cast<std::uint16_t>(std::stoul(line->substr(key + 7)));
    }
    /// SIGKILL by PID; returns what the broker wrote to stderr.
    process_result kill() {
        proc->signal(SIGKILL);
        return proc->wait(std::chrono::seconds(5));
    }
};

std::unique_ptr<raw_client> connect(std::uint16_t port, const std::string& id, bool clean, std::uint32_t expiry,
                                    bool& ok) {
    auto c = std::make_unique<raw_client>(port);
    mqtt::connect cn;
    cn.client_id = id;
    cn.clean_start = clean;
    if (expiry) cn.props.set_int(mqtt::property_id::session_expiry_interval, expiry);
    auto ack = c->connect(std::move(cn));
    ok = ack && ack->reason_code == reason::success;
    return c;
}

mqtt::publish make_msg(const std::string& payload, qos q, std::uint16_t id) {
    mqtt::publish p;
    p.topic = "k/data";
    p.payload.assign(payload.begin(), payload.end());
    p.level = q;
    p.packet_id = id;
    return p;
}

/// The receiving side of the persistent subscriber "ksub", across
/// connections: QoS 2 as a client does it [MQTT-4.3.3-8]: a message is
/// delivered on PUBLISH and its packet id kept until PUBREL, so a DUP of it is
/// not delivered twice.
struct receiver {
    std::map<std::string, int> got;  // payload -> deliveries
    std::set<std::uint16_t> awaiting_rel;

    /// Handles what arrives; false on timeout or close.
    bool pump(raw_client& s, std::chrono::milliseconds wait) {
        auto pkt = s.receive(wait);
        if (!pkt) return false;
        if (auto* m = std::get_if<mqtt::publish>(&*pkt)) {
            const std::string payload(m->payload.begin(), m->payload.end());
            if (m->level == qos::at_least_once) {
                ++got[payload];
                s.send(mqtt::puback{m->packet_id, reason::success, {}});
            } else if (m->level == qos::exactly_once) {
                if (awaiting_rel.insert(m->packet_id).second) ++got[payload];
                s.send(mqtt::pubrec{m->packet_id, reason::success, {}});
            }
        } else if (auto* rel = std::get_if<mqtt::pubrel>(&*pkt)) {
            awaiting_rel.erase(rel->packet_id);
            s.send(mqtt::pubcomp{rel->packet_id, reason::success, {}});
        }
        return true;
    }
    /// Reconnects (session resumed) and takes everything until quiet.
    void drain(std::uint16_t port) {
        bool ok = false;
        auto s = connect(port, "ksub", false, 3600, ok);
        REQUIRE(ok);
        for (int i = 0; i < 100000 && pump(*s, std::chrono::milliseconds(1000)); ++i) {
        }
    }
};

std::map<std::string, int> drain_subscriber(std::uint16_t port) {
    receiver r;
    r.drain(port);
    return r.got;
}

void make_subscriber(std::uint16_t port) {
    bool ok = false;
    auto s = connect(port, "ksub", false, 3600, ok);
    REQUIRE(ok);
    REQUIRE(s->subscribe("k/#", qos::exactly_once));
    s->send(mqtt::disconnect{});
}

}  // namespace

TEST_CASE("persist S02 MQTT-4.3.2-2 MQTT-4.3.3-2 QoS 1 and QoS 2 messages acknowledged to the publisher survive "
          "kill -KILL of the broker") {
    for (const std::string fsync : {"interval", "always"}) {
        CAPTURE(fsync);
        temp_dir dir;
        const std::string pdir = dir.file("store");
        std::set<std::string> acked1, acked2;
        {
            broker_process b(pdir, fsync);
            REQUIRE(b.port != 0);
            make_subscriber(b.port);
            bool ok = false;
            auto p = connect(b.port, "kpub", true, 0, ok);
            REQUIRE(ok);
            // A pipelined stream, every third message QoS 2 (PUBREL sent on
            // PUBREC, so Receive Maximum is never reached), killed while
            // messages are still arriving: some are in the broker unacknowledged.
            std::map<std::uint16_t, std::string> sent;
            std::size_t acks = 0;
            std::uint16_t next = 1;
            const auto read_acks = [&](std::chrono::milliseconds wait) {
                while (auto pkt = p->receive(wait)) {
                    if (auto* a = std::get_if<mqtt::puback>(&*pkt)) {
                        CHECK(a->reason_code == reason::success);
                        acked1.insert(sent[a->packet_id]);
                        ++acks;
                    } else if (auto* r = std::get_if<mqtt::pubrec>(&*pkt)) {
                        CHECK(r->reason_code == reason::success);
                        acked2.insert(sent[r->packet_id]);
                        p->send(mqtt::pubrel{r->packet_id, reason::success, {}});
                        ++acks;
                    }
                    wait = std::chrono::milliseconds(0);
                }
            };
            while (acks < 1000 && next <= 20000) {
                for (int k = 0; k < 10; ++k, ++next) {
                    const qos q = next % 3 == 0 ? qos::exactly_once : qos::at_least_once;
                    const std::string payload = (q == qos::exactly_once ? "q2-" : "q1-") + std::to_string(next);
                    p->send(make_msg(payload, q, next));
                    sent[next] = payload;
                }
                read_acks(std::chrono::milliseconds(1));
            }
            REQUIRE(acks >= 1000);
            for (int k = 0; k < 50; ++k, ++next) p->send(make_msg("q1-" + std::to_string(next), qos::at_least_once, next));
            const auto res = b.kill();
            CHECK(res.exit_code == 128 + SIGKILL);
            MESSAGE(fsync << ": killed after " << next - 1 << " sent");
        }
        broker_process b(pdir, fsync);
        REQUIRE(b.port != 0);
        const auto got = drain_subscriber(b.port);
        std::size_t lost = 0;
        for (const auto& m : acked1) lost += got.count(m) == 0 ? 1 : 0;  // QoS 1: at least once
        for (const auto& m : acked2) {
            lost += got.count(m) == 0 ? 1 : 0;
            if (got.count(m)) CHECK(got.at(m) == 1);  // QoS 2: exactly once
        }
        MESSAGE(fsync << ": " << acked1.size() << " QoS 1 + " << acked2.size() << " QoS 2 acknowledged, "
                      << got.size() << " distinct delivered after SIGKILL, " << lost << " lost");
        CHECK(lost == 0);
        CHECK(acked2.size() > 100);
        b.kill();
    }
}

// Fast (about 3 s) and needs no privileges, so it runs with the e2e suite.
TEST_CASE("persist S15 a full disk refuses what cannot be stored and acknowledges nothing unwritten") {
    temp_dir dir;
    const std::string pdir = dir.file("store");
    std::set<std::string> acked, refused;
    std::string err;
    {
        // 48 blocks of 512 bytes: about two dozen 1 KiB messages fit.
        broker_process b(pdir, "always", 48);
        REQUIRE(b.port != 0);
        make_subscriber(b.port);
        bool ok = false;
        auto p = connect(b.port, "fpub", true, 0, ok);
        REQUIRE(ok);
        const std::string filler(1000, 'f');
        std::uint16_t held = 0;
        std::uint16_t id = 1;
        for (; id <= 200 && held == 0; ++id) {
            p->send(make_msg("m" + std::to_string(id) + filler, qos::at_least_once, id));
            auto a = as<mqtt::puback>(p->receive(std::chrono::milliseconds(1500)));
            if (!a) {
                held = id;  // not acknowledged: its record could not be written
            } else {
                REQUIRE(a->packet_id == id);
                (a->reason_code == reason::success ? acked : refused).insert("m" + std::to_string(id));
            }
        }
        REQUIRE(held != 0);
        CHECK(acked.size() > 5);
        // Another publisher is not held by the stuck records: its QoS 1 is
        // refused at once with 0x80, its QoS 0 still flows.
        auto q = connect(b.port, "fpub2", true, 0, ok);
        REQUIRE(ok);
        q->send(make_msg("refused", qos::at_least_once, 7));
        auto r = as<mqtt::puback>(q->receive(std::chrono::milliseconds(2000)));
        REQUIRE(r);
        CHECK(r->reason_code == reason::unspecified_error);
        // Space returns: the held acknowledgement goes out, writing resumes.
        rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
        REQUIRE(::prlimit(b.proc->pid(), RLIMIT_FSIZE, &unlimited, nullptr) == 0);
        auto late = as<mqtt::puback>(p->receive(std::chrono::milliseconds(3000)));
        REQUIRE(late);
        CHECK(late->packet_id == held);
        CHECK(late->reason_code == reason::success);
        acked.insert("m" + std::to_string(held));
        p->send(make_msg("after", qos::at_least_once, 900));
        auto after = as<mqtt::puback>(p->receive(std::chrono::milliseconds(3000)));
        REQUIRE(after);
        CHECK(after->reason_code == reason::success);
        acked.insert("after");
        err = b.kill().err;
    }
    CHECK(err.find("cannot write") != std::string::npos);
    broker_process b(pdir, "always");
    REQUIRE(b.port != 0);
    const auto got = drain_subscriber(b.port);
    std::size_t lost = 0;
    for (const auto& m : acked) {
        const auto key = m == "after" ? m : m + std::string(1000, 'f');
        lost += got.count(key) == 0 ? 1 : 0;
    }
    CHECK(lost == 0);
    CHECK(got.count("refused") == 0);
    b.kill();
}

TEST_CASE("persist S02 MQTT-4.3.3-8 an online persistent subscriber gets every acknowledged message exactly once "
          "at QoS 2 across kill -KILL") {
    temp_dir dir;
    const std::string pdir = dir.file("store");
    std::set<std::string> acked;
    receiver sub;
    {
        broker_process b(pdir, "interval");
        REQUIRE(b.port != 0);
        make_subscriber(b.port);
        bool ok = false;
        auto s = connect(b.port, "ksub", false, 3600, ok);  // online while the stream flows
        REQUIRE(ok);
        auto p = connect(b.port, "kpub", true, 0, ok);
        REQUIRE(ok);
        std::uint16_t next = 1;
        while (acked.size() < 600 && next <= 5000) {
            for (int k = 0; k < 10; ++k, ++next) p->send(make_msg("m" + std::to_string(next), qos::exactly_once, next));
            while (auto pkt = p->receive(std::chrono::milliseconds(1))) {
                if (auto* r = std::get_if<mqtt::pubrec>(&*pkt)) {
                    acked.insert("m" + std::to_string(r->packet_id));
                    p->send(mqtt::pubrel{r->packet_id, reason::success, {}});
                }
            }
            while (sub.pump(*s, std::chrono::milliseconds(1))) {
            }
        }
        REQUIRE(acked.size() >= 600);
        // One more burst, half read on both sides, then the kill: messages in
        // flight to the subscriber (PUBLISH seen, PUBREL not yet) and acked to
        // the publisher but not yet sent on.
        for (int k = 0; k < 100; ++k, ++next) p->send(make_msg("m" + std::to_string(next), qos::exactly_once, next));
        for (int k = 0; k < 40; ++k) {
            if (auto pkt = p->receive(std::chrono::milliseconds(1)); pkt) {
                if (auto* r = std::get_if<mqtt::pubrec>(&*pkt)) acked.insert("m" + std::to_string(r->packet_id));
            }
            (void)sub.pump(*s, std::chrono::milliseconds(1));
        }
        b.kill();
    }
    const std::size_t before = sub.got.size();
    broker_process b(pdir, "interval");
    REQUIRE(b.port != 0);
    sub.drain(b.port);
    std::size_t lost = 0, twice = 0;
    for (const auto& m : acked) lost += sub.got.count(m) == 0 ? 1 : 0;
    for (const auto& [m, n] : sub.got) twice += n > 1 ? 1 : 0;
    MESSAGE(acked.size() << " acknowledged, " << before << " delivered before SIGKILL, " << sub.got.size()
                         << " after; lost " << lost << ", duplicated " << twice);
    CHECK(lost == 0);
    CHECK(twice == 0);
    b.kill();
}
