// SPDX-License-Identifier: MIT
// encode -> decode -> equal -> encode again gives the same bytes, for every
// packet type in both versions and for seeded random packets.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <mqtt/codec/decode.hpp>
#include <mqtt/codec/encode.hpp>

#include "codec_test_util.hpp"
#include "packet_gen_util.hpp"

namespace {

using mqtt::protocol_version;
using mqtt::reason;
using bytes_t = std::vector<std::uint8_t>;

template <class Ack>
void strip_ack(Ack& a) {
    a.reason_code = reason::success;
    a.props = {};
}

/// What a 3.1.1 peer can receive of `p`: no properties, acks succeed, UNSUBACK
/// has no codes, SUBACK failures are 0x80, CONNACK uses the six 3.1.1 return
/// codes (others become Server unavailable), no v5 subscription options.
mqtt::packet strip_v5(mqtt::packet p) {
    std::visit(
        [](auto& x) {
            using t = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<t, mqtt::connect>) {
                x.version = protocol_version::v311;
                x.props = {};
                if (x.will_msg) x.will_msg->props = {};
            } else if constexpr (std::is_same_v<t, mqtt::connack>) {
                x.props = {};
                switch (x.reason_code) {
                    case reason::success:
                    case reason::unsupported_protocol_version:
                    case reason::client_identifier_not_valid:
                    case reason::server_unavailable:
                    case reason::bad_user_name_or_password:
                    case reason::not_authorized:
                        break;
                    default:
                        x.reason_code = reason::server_unavailable;
                }
            } else if constexpr (std::is_same_v<t, mqtt::puback> || std::is_same_v<t, mqtt::pubrec> ||
                                 std::is_same_v<t, mqtt::pubrel> || std::is_same_v<t, mqtt::pubcomp>) {
                strip_ack(x);
            } else if constexpr (std::is_same_v<t, mqtt::suback>) {
                x.props = {};
                for (auto& r : x.reason_codes)
                    if (mqtt::is_failure(r)) r = reason::unspecified_error;
            } else if constexpr (std::is_same_v<t, mqtt::unsuback>) {
                x.props = {};
                x.reason_codes.clear();
            } else if constexpr (std::is_same_v<t, mqtt::subscribe>) {
                x.props = {};
                for (auto& e : x.entries) {
                    e.no_local = false;
                    e.retain_as_published = false;
                    e.retain_handling = 0;
                }
            } else if constexpr (std::is_same_v<t, mqtt::disconnect>) {
                x.reason_code = reason::normal_disconnection;
                x.props = {};
            } else if constexpr (std::is_same_v<t, mqtt::publish> || std::is_same_v<t, mqtt::unsubscribe> ||
                                 std::is_same_v<t, mqtt::auth>) {
                x.props = {};
            }
        },
        p);
    return p;
}

/// encode -> next_frame -> decode_frame -> compare -> encode again.
void round_trip(const mqtt::packet& p, protocol_version v) {
    INFO("packet: " << mq_test::describe(p));
    std::error_code ec;
    const auto wire = mq_test::encode_bytes(p, v, ec);
    REQUIRE_MESSAGE(!ec, "encode: " << ec.message());
    INFO("wire: " << mq_test::hex(wire));
    CHECK(mqtt::encoded_size(p, v) == wire.size());

    const mqtt::limits lim;
    const auto frame = mqtt::next_frame(wire, lim, ec);
    REQUIRE_MESSAGE(!ec, "next_frame: " << ec.message());
    REQUIRE(frame.has_value());
    CHECK(frame->total == wire.size());
    const auto decoded = mqtt::decode_frame(*frame, v, lim, ec);
    REQUIRE_MESSAGE(!ec, "decode: " << ec.message());
    const auto want = v == protocol_version::v5 ? p : strip_v5(p);
    INFO("decoded: " << mq_test::describe(decoded));
    CHECK(decoded == want);

    const auto again = mq_test::encode_bytes(decoded, v, ec);
    REQUIRE_MESSAGE(!ec, "re-encode: " << ec.message());
    CHECK(again == wire);
}

constexpr mqtt::packet_type all_types[] = {
    mqtt::packet_type::connect,     mqtt::packet_type::connack,    mqtt::packet_type::publish,
    mqtt::packet_type::puback,      mqtt::packet_type::pubrec,     mqtt::packet_type::pubrel,
    mqtt::packet_type::pubcomp,     mqtt::packet_type::subscribe,  mqtt::packet_type::suback,
    mqtt::packet_type::unsubscribe, mqtt::packet_type::unsuback,   mqtt::packet_type::pingreq,
    mqtt::packet_type::pingresp,    mqtt::packet_type::disconnect, mqtt::packet_type::auth,
};

void random_round_trips(protocol_version v, std::uint64_t seed, int count) {
    mq_test::packet_generator gen(seed, v);
    for (int i = 0; i < count; ++i) {
        CAPTURE(i);
        round_trip(gen.next(), v);
    }
}

/// Hex of the encoding, or "error: ..." so a failed CHECK shows the bytes.
std::string enc(const mqtt::packet& p, protocol_version v) {
    std::error_code ec;
    const auto out = mq_test::encode_bytes(p, v, ec);
    return ec ? "error: " + ec.message() : mq_test::hex(out);
}

}  // namespace

TEST_CASE("MQTT-2.1.2 every packet type round trips in v5") {
    for (auto t : all_types) {
        CAPTURE(mqtt::to_string(t));
        // Several samples per type so short and long forms both occur.
        mq_test::packet_generator gen(1000 + static_cast<unsigned>(t), protocol_version::v5);
        for (int i = 0; i < 20; ++i) {
            const auto p = gen.make(t);
            REQUIRE(mqtt::type_of(p) == t);
            round_trip(p, protocol_version::v5);
        }
    }
}

TEST_CASE("MQTT-2.1.2 every packet type except AUTH round trips in v311 without v5 content") {
    for (auto t : all_types) {
        if (t == mqtt::packet_type::auth) continue;
        CAPTURE(mqtt::to_string(t));
        mq_test::packet_generator gen(2000 + static_cast<unsigned>(t), protocol_version::v311);
        for (int i = 0; i < 20; ++i) round_trip(gen.make(t), protocol_version::v311);
    }
}

TEST_CASE("MQTT-2.1.2 2000 seeded random v5 packets round trip") {
    random_round_trips(protocol_version::v5, 0x6d71'0005, 2000);
}

TEST_CASE("MQTT-2.1.2 2000 seeded random v311 packets round trip") {
    random_round_trips(protocol_version::v311, 0x6d71'0311, 2000);
}

TEST_CASE("MQTT-3.15 AUTH cannot be encoded for v311") {
    bytes_t out = {0xaa};
    const auto ec =
        mqtt::encode(mqtt::auth{reason::continue_authentication, {}}, protocol_version::v311, out);
    CHECK_MESSAGE((ec == mqtt::codec_error::auth_on_v311), ec.message());
    CHECK(out == bytes_t{0xaa});
}

TEST_CASE("MQTT-3.4.2.1 v5 acks and DISCONNECT use the shortest form") {
    mqtt::properties none;
    // Success without properties: packet id only [MQTT-3.4.2.1].
    CHECK(enc(mqtt::puback{7, reason::success, none}, protocol_version::v5) == "40 02 00 07");
    // A failure without properties: no property length.
    CHECK(enc(mqtt::pubrec{7, reason::unspecified_error, none}, protocol_version::v5) == "50 03 00 07 80");
    CHECK(enc(mqtt::pubrel{7, reason::success, none}, protocol_version::v5) == "62 02 00 07");
    CHECK(enc(mqtt::pubcomp{7, reason::packet_identifier_not_found, none}, protocol_version::v5) ==
          "70 03 00 07 92");
    // [MQTT-3.14.2.1] normal disconnection without properties has remaining length 0.
    CHECK(enc(mqtt::disconnect{}, protocol_version::v5) == "e0 00");
    CHECK(enc(mqtt::disconnect{reason::session_taken_over, none}, protocol_version::v5) == "e0 01 8e");
    CHECK(enc(mqtt::auth{}, protocol_version::v5) == "f0 00");
}

TEST_CASE("MQTT-3.15.2.1 AUTH with a reason other than success keeps its property length") {
    // Unlike PUBACK (3.4.2.2.1) and DISCONNECT (3.14.2.2.1), AUTH has no rule that
    // lets the Property Length go when the Remaining Length is below 2: only the
    // pair Reason Code + Property Length may be omitted, and only for Success.
    CHECK(enc(mqtt::auth{reason::continue_authentication, {}}, protocol_version::v5) == "f0 02 18 00");
    CHECK(mqtt::encoded_size(mqtt::auth{reason::re_authenticate, {}}, protocol_version::v5) == 4);
}

TEST_CASE("MQTT-3.4 v5 content is dropped when encoding for v311") {
    mqtt::properties rs;
    rs.set_string(mqtt::property_id::reason_string, "quota");
    CHECK(enc(mqtt::puback{3, reason::quota_exceeded, rs}, protocol_version::v311) == "40 02 00 03");
    CHECK(enc(mqtt::disconnect{reason::server_shutting_down, rs}, protocol_version::v311) == "e0 00");
    CHECK(enc(mqtt::unsuback{9, {reason::success, reason::not_authorized}, rs}, protocol_version::v311) ==
          "b0 02 00 09");
    // [MQTT-3.9.3] 3.1.1 SUBACK knows only 0x00..0x02 and 0x80.
    CHECK(enc(mqtt::suback{9, {reason::granted_qos_1, reason::quota_exceeded}, rs}, protocol_version::v311) ==
          "90 04 00 09 01 80");
    // [MQTT-3.2.2.3] CONNACK reasons map to 3.1.1 return codes.
    CHECK(enc(mqtt::connack{false, reason::bad_user_name_or_password, rs}, protocol_version::v311) ==
          "20 02 00 04");
    CHECK(enc(mqtt::connack{false, reason::banned, {}}, protocol_version::v311) == "20 02 00 03");
    mqtt::subscribe s{4, {mqtt::subscription{"a/+", mqtt::qos::exactly_once, true, true, 2}}, {}};
    CHECK(enc(s, protocol_version::v311) == "82 08 00 04 00 03 61 2f 2b 02");
}

TEST_CASE("MQTT-3.1.2-2 a 3.1.1 refusal 20 02 00 01 read by a v5 client is Unsupported Protocol Version") {
    // A 3.1.1 server answers a level-5 CONNECT in 3.1.1 format (no property
    // length); the v5 client reads it as 0x84 so it can retry with 3.1.1.
    const bytes_t in{0x20, 0x02, 0x00, 0x01};
    std::error_code ec;
    const auto frame = mqtt::next_frame(in, mqtt::limits{}, ec);
    REQUIRE(frame);
    const mqtt::packet p = mqtt::decode_frame(*frame, protocol_version::v5, mqtt::limits{}, ec);
    REQUIRE_FALSE(ec);
    const auto* a = std::get_if<mqtt::connack>(&p);
    REQUIRE(a != nullptr);
    CHECK(a->reason_code == reason::unsupported_protocol_version);
    // With a property length it is a v5 CONNACK, and 0x01 is not a v5 code (CK03).
    const bytes_t v5{0x20, 0x03, 0x00, 0x01, 0x00};
    const auto f5 = mqtt::next_frame(v5, mqtt::limits{}, ec);
    REQUIRE(f5);
    (void)mqtt::decode_frame(*f5, protocol_version::v5, mqtt::limits{}, ec);
    CHECK(ec == mqtt::make_error_code(mqtt::codec_error::invalid_reason_code));
}
