// SPDX-License-Identifier: MIT
// libFuzzer target for the broker's socket-free side: three connection slots,
// each a core::server_session, sharing one core::router and a map of offline
// sessions, driven like net::server drives them. The input is a list of
// commands (first byte: low 3 bits the command, the next bits the slot):
//   0-3  [len][len bytes]  bytes from the slot's peer; complete frames are
//                          split, decoded and fed to on_packet (or on_decode_error)
//   4    [n]               time passes n * 250 ms; on_tick on every slot
//   5                      the slot's peer drops the TCP connection
//   6    [r]               r odd: later CONNECTs are refused (a code picked by r), even: accepted
//   7    [w]               server-initiated DISCONNECT 0x8B, Will published when w is odd
// A closed slot gets a fresh connection on its next bytes. Checked after every
// command: each packet the broker sends encodes, splits and decodes as the
// client would see it, and re-encodes to the same bytes; PUBLISH packet ids
// match their QoS; windows and queues stay within the configured caps; a
// closed session sends nothing.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>
#include <mqtt/codec/topic.hpp>
#include <mqtt/core/router.hpp>
#include <mqtt/core/server_session.hpp>

#include "fuzz_support.hpp"

namespace {

using mqtt::core::server_session;
using mqtt::core::session_ref;

constexpr std::size_t slots = 3;

mqtt::core::server_session_config small_config() {
    mqtt::core::server_session_config cfg;
    cfg.max_packet_size = 2048;
    cfg.receive_maximum = 4;
    cfg.max_inflight = 4;
    cfg.max_queued = 8;
    cfg.topic_alias_maximum = 4;
    cfg.max_keepalive = 120;
    cfg.max_session_expiry = 600;
    cfg.max_string_length = 256;
    return cfg;
}

struct slot {
    std::unique_ptr<server_session> session;
    std::vector<std::uint8_t> in;  // bytes received, not yet a whole frame
    std::optional<session_ref> ref;
    bool dead = true;  // no connection (a new one starts on the next bytes)
};

struct offline_record {
    session_ref ref = 0;
    std::unique_ptr<server_session> session;  // null while a connection holds it
    std::optional<std::size_t> owner;          // slot holding it
};

class broker {
public:
    void run(std::span<const std::uint8_t> in) {
        std::size_t pos = 0;
        auto next = [&]() -> std::uint8_t { return pos < in.size() ? in[pos++] : 0; };
        while (pos < in.size()) {
            const std::uint8_t cmd = next();
            const std::size_t i = (cmd >> 3) % slots;
            switch (cmd & 7) {
            case 4:
                now_ += std::chrono::milliseconds(250) * next();
                for (auto& s : slots_) {
                    if (!s.dead) s.session->on_tick(now_);
                }
                break;
            case 5:
                if (!slots_[i].dead) slots_[i].session->on_connection_lost(now_);
                break;
            case 6: {
                const std::uint8_t r = next();
                // Refusals the broker really sends (auth, limits, busy).
                static constexpr mqtt::reason refusals[] = {
                    mqtt::reason::unspecified_error,  mqtt::reason::client_identifier_not_valid,
                    mqtt::reason::bad_user_name_or_password, mqtt::reason::not_authorized,
                    mqtt::reason::server_unavailable, mqtt::reason::server_busy,
                    mqtt::reason::quota_exceeded,     mqtt::reason::bad_authentication_method};
                refuse_ = (r & 1) ? std::optional(refusals[(r >> 1) % std::size(refusals)]) : std::nullopt;
                break;
            }
            case 7:
                if (!slots_[i].dead) slots_[i].session->disconnect(mqtt::reason::server_shutting_down, next() & 1);
                break;
            default: {
                const std::size_t len = next();
                const std::size_t n = std::min(len, in.size() - pos);
                receive(i, in.subspan(pos, n));
                pos += n;
                break;
            }
            }
            settle();
        }
    }

private:
    void receive(std::size_t i, std::span<const std::uint8_t> bytes) {
        slot& s = slots_[i];
        if (s.dead) {
            s = slot{};
            s.session = std::make_unique<server_session>(small_config());
            s.dead = false;
        }
        s.in.insert(s.in.end(), bytes.begin(), bytes.end());
        mqtt::limits lim;
        lim.max_packet_size = small_config().max_packet_size;
        lim.max_string_length = small_config().max_string_length;
        lim.max_user_properties = 8;
        lim.max_topic_levels = 16;
        lim.from_client = true;
        std::size_t used = 0;
        while (!s.dead && !s.session->closed() && used < s.in.size()) {
            std::error_code ec;
            const auto frame = mqtt::next_frame(std::span(s.in).subspan(used), lim, ec);
            if (ec) {
                s.session->on_decode_error(ec, std::nullopt, now_);
                break;
            }
            if (!frame) break;
            auto pkt = mqtt::decode_frame(*frame, s.session->version(), lim, ec);
            if (ec) {
                const bool first = !s.session->connected();
                s.session->on_decode_error(ec, first ? mqtt::peek_connect_level(*frame) : std::nullopt, now_);
                break;
            }
            used += frame->total;
            s.session->on_packet(std::move(pkt), now_);
            settle();
        }
        if (!s.dead) s.in.erase(s.in.begin(), s.in.begin() + static_cast<std::ptrdiff_t>(used));
    }

    // Applies actions until no session has any; bounded because every action
    // answers an input or a previous action.
    void settle() {
        for (int round = 0; round < 64; ++round) {
            bool any = false;
            for (std::size_t i = 0; i < slots; ++i) {
                if (slots_[i].dead || !slots_[i].session->has_actions()) continue;
                any = true;
                apply(i);
            }
            if (!any) break;
        }
        for (auto& [id, rec] : records_) {
            if (rec.session && rec.session->has_actions()) (void)rec.session->take_actions();
        }
        for (auto& s : slots_) {
            if (s.dead) continue;
            if (s.session->inflight() > small_config().max_inflight) mq_fuzz::fail("outbound window above the cap");
            if (s.session->queued() > small_config().max_queued) mq_fuzz::fail("queue above max_queued");
        }
    }

    void apply(std::size_t i) {
        slot& s = slots_[i];
        closing_ = false;
        for (auto& a : s.session->take_actions()) std::visit([&](auto& act) { handle(i, act); }, a);
        if (closing_) finish_close(i);
    }

    void check_outbound(const mqtt::packet& p, mqtt::protocol_version v) {
        std::vector<std::uint8_t> bytes;
        if (mqtt::encode(p, v, bytes)) mq_fuzz::fail("broker packet does not encode");
        mqtt::limits lim;  // the client's view: the protocol maximum
        std::error_code ec;
        const auto frame = mqtt::next_frame(bytes, lim, ec);
        if (!frame || ec || frame->total != bytes.size()) mq_fuzz::fail("broker packet does not split");
        const mqtt::packet q = mqtt::decode_frame(*frame, v, lim, ec);
        if (ec) {
            for (auto b : bytes) std::fprintf(stderr, "%02x ", b);  // the packet, for the report
            std::fprintf(stderr, "\n%s (protocol level %d)\n", ec.message().c_str(), static_cast<int>(v));
            mq_fuzz::fail("broker packet does not decode on the client");
        }
        if (v == mqtt::protocol_version::v5 && !(p == q)) mq_fuzz::fail("broker packet changed in a round trip");
        std::vector<std::uint8_t> again;
        if (mqtt::encode(q, v, again) || again != bytes) mq_fuzz::fail("broker packet re-encodes differently");
    }

    void handle(std::size_t i, mqtt::core::send_packet& a) {
        if (std::holds_alternative<mqtt::publish>(a.pkt)) mq_fuzz::fail("PUBLISH sent as a control packet");
        check_outbound(a.pkt, slots_[i].session->version());
    }

    void handle(std::size_t i, mqtt::core::send_publish& a) {
        if (!a.msg) mq_fuzz::fail("send_publish without a message");
        if ((a.level == mqtt::qos::at_most_once) != (a.packet_id == 0)) mq_fuzz::fail("packet id does not match QoS");
        const auto v = slots_[i].session->version();
        mqtt::publish p = *a.msg;
        p.level = a.level;
        p.packet_id = a.packet_id;
        p.dup = a.dup;
        p.retain = a.retain;
        if (v == mqtt::protocol_version::v5) {
            for (auto id : a.subscription_ids) p.props.add_int(mqtt::property_id::subscription_identifier, id);
        }
        check_outbound(mqtt::packet{std::move(p)}, v);
    }

    void handle(std::size_t i, mqtt::core::route_publish& a) { route(*slots_[i].ref, a.msg); }

    void route(session_ref from, const std::shared_ptr<const mqtt::publish>& msg) {
        if (!msg) mq_fuzz::fail("route without a message");
        if (mqtt::check_topic_name(msg->topic)) mq_fuzz::fail("routed a message with an invalid topic");
        std::vector<mqtt::core::delivery> out;
        router_.route(msg->topic, from, msg->level, out);
        for (auto& d : out) {
            if (server_session* target = session_of(d.session)) {
                target->deliver(msg, d.level, d.retain_as_published && msg->retain, d.subscription_ids, now_);
            }
        }
    }

    server_session* session_of(session_ref ref) {
        for (auto& [id, rec] : records_) {
            if (rec.ref != ref) continue;
            if (rec.session) return rec.session.get();
            if (rec.owner && !slots_[*rec.owner].dead) return slots_[*rec.owner].session.get();
        }
        return nullptr;
    }

    void handle(std::size_t i, mqtt::core::connect_request& r) {
        server_session& s = *slots_[i].session;
        if (refuse_) {
            s.reject(*refuse_);
            return;
        }
        auto [it, fresh] = records_.try_emplace(r.client_id);
        offline_record& rec = it->second;
        if (fresh) rec.ref = next_ref_++;
        bool present = false;
        std::optional<std::size_t> old = rec.owner;
        if (old && (*old == i || slots_[*old].dead)) old.reset();
        if (!r.clean_start) {
            if (old) {
                s.resume(std::move(*slots_[*old].session));
                present = true;
            } else if (rec.session) {
                s.resume(std::move(*rec.session));
                present = true;
            }
        } else {
            router_.unsubscribe_all(rec.ref);
        }
        rec.session.reset();
        rec.owner = i;
        slots_[i].ref = rec.ref;
        if (old) {
            slots_[*old].ref.reset();  // its close no longer touches the record
            slots_[*old].session->disconnect(mqtt::reason::session_taken_over, true);
        }
        s.accept(present, now_);
    }

    void handle(std::size_t i, mqtt::core::subscribe_request& r) {
        std::vector<mqtt::reason> codes;
        for (const auto& e : r.entries) {
            mqtt::core::subscriber_options o;
            o.max_qos = e.max_qos;
            o.no_local = e.no_local;
            o.retain_as_published = e.retain_as_published;
            o.retain_handling = e.retain_handling;
            o.subscription_id = r.subscription_id;
            const auto res = router_.subscribe(*slots_[i].ref, e.filter, o);
            codes.push_back(res.ec ? mqtt::reason::topic_filter_invalid : static_cast<mqtt::reason>(e.max_qos));
        }
        slots_[i].session->complete_subscribe(r.packet_id, std::move(codes));
    }

    void handle(std::size_t i, mqtt::core::unsubscribe_request& r) {
        std::vector<mqtt::reason> codes;
        for (const auto& f : r.filters) {
            codes.push_back(router_.unsubscribe(*slots_[i].ref, f) ? mqtt::reason::success
                                                                   : mqtt::reason::no_subscription_existed);
        }
        slots_[i].session->complete_unsubscribe(r.packet_id, std::move(codes));
    }

    void handle(std::size_t i, mqtt::core::close_connection& c) {
        if (closing_) mq_fuzz::fail("close_connection twice in one batch");
        closing_ = true;
        if (c.will) route(slots_[i].ref.value_or(0), c.will);
    }

    // After the closing batch: the session goes offline (expiry > 0) or away,
    // and the slot waits for a new connection.
    void finish_close(std::size_t i) {
        slot& s = slots_[i];
        if (s.ref) {
            for (auto it = records_.begin(); it != records_.end(); ++it) {
                offline_record& rec = it->second;
                if (rec.ref != *s.ref || rec.owner != i) continue;
                rec.owner.reset();
                if (s.session->session_expiry() > 0) {
                    rec.session = std::move(s.session);  // offline: keeps queueing QoS 1/2
                } else {
                    router_.unsubscribe_all(rec.ref);
                    records_.erase(it);
                }
                break;
            }
        }
        s = slot{};
    }

    std::array<slot, slots> slots_{};
    bool closing_ = false;
    std::map<std::string, offline_record> records_;
    mqtt::core::router router_;
    session_ref next_ref_ = 1;
    std::optional<mqtt::reason> refuse_;
    mqtt::core::time_point now_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    broker b;
    b.run(std::span<const std::uint8_t>(data, size));
    return 0;
}
