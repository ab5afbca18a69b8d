// SPDX-License-Identifier: MIT
#pragma once
// Sans-I/O records of the broker's persistence journal (hardening.md §1.1,
// S02, S15). net::server appends them to a file and replays them at start;
// this module only turns records into bytes and back, so the framing and the
// detection of torn or corrupt data are unit-tested without a disk.
//
// A journal is an 8-byte magic followed by frames:
//
//   [u32 length][u32 crc32][type byte][payload ...]
//    little-endian; length counts type + payload; crc32 (IEEE) covers them too.
//
// A frame whose bytes run past the end of the data is a torn tail (a crash in
// the middle of a write); a frame whose CRC or payload is wrong is corrupt.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mqtt/codec/packets.hpp>

namespace mqtt::core::store {

inline constexpr std::string_view journal_magic = "mqjrnl01";
inline constexpr std::size_t frame_header_size = 8;  // length + crc
/// Larger frames are not believed: a flipped length byte must not make the
/// reader wait for (or allocate) gigabytes.
inline constexpr std::uint32_t max_frame_length = 300u * 1024u * 1024u;

/// What a record changes. Each is a logical operation on the broker state, so
/// replaying the journal in order rebuilds that state; a snapshot (compaction)
/// is the same records written for the state that is live.
enum class record_type : std::uint8_t {
    retained = 1,     // publish (empty payload clears), time_ms = arrival
    session = 2,      // client_id, expiry, username, time_ms = disconnected at (0: online)
    session_end = 3,  // client_id: the session state is discarded
    subscribe = 4,    // client_id, text = filter, level, flags, sub_id (0: none)
    unsubscribe = 5,  // client_id, text = filter
    message = 6,      // tag, publish, time_ms = arrival: a body shared by enqueue records
    enqueue = 7,      // client_id, tag, level, flags bit 0 = retain, sub_ids
    sent = 8,         // client_id, tag, packet_id: the message went in flight with this id
    released = 9,     // client_id, tag: PUBREC received, PUBREL owed
    done = 10,        // client_id, tag: acknowledged or dropped, forget it
    inbound_add = 11, // client_id, packet_id: inbound QoS 2 PUBREC sent, PUBREL awaited
    inbound_del = 12, // client_id, packet_id: PUBREL received
};

/// One journal record; which fields matter depends on `type` (see above).
struct record {
    record_type type = record_type::retained;
    std::string client_id;
    std::string text;                 // filter (subscribe/unsubscribe)
    std::optional<std::string> username;
    std::shared_ptr<const mqtt::publish> msg;  // retained, message
    std::uint64_t tag = 0;            // message identity, unique in a journal
    std::uint64_t time_ms = 0;        // system clock, ms since the epoch
    std::uint32_t expiry = 0;         // session expiry interval, seconds
    std::uint32_t sub_id = 0;         // subscription identifier, 0 = none
    std::uint16_t packet_id = 0;
    qos level = qos::at_most_once;
    /// subscribe: bit 0 no local, bit 1 retain as published, bits 2-3 retain
    /// handling; enqueue: bit 0 retain.
    std::uint8_t flags = 0;
    std::vector<std::uint32_t> sub_ids;  // enqueue
};

/// Appends one framed record. The PUBLISH is stored in its MQTT 5 wire form
/// (the codec's own encoder). False (nothing appended) when it cannot be
/// encoded, e.g. a string over 65,535 bytes.
bool encode_record(const record& r, std::vector<std::uint8_t>& out);

enum class read_status : std::uint8_t {
    ok,       // `rec` holds the record, `size` bytes consumed
    end,      // no bytes left
    torn,     // the frame runs past the end of the data
    corrupt,  // CRC mismatch, unknown type or bad payload
};

struct read_result {
    read_status status = read_status::end;
    std::size_t size = 0;  // bytes of the frame (ok; corrupt when its length was plausible)
};

/// Reads the frame at the start of `in`.
read_result read_record(std::span<const std::uint8_t> in, record& rec);

/// How a whole journal ended.
enum class scan_status : std::uint8_t {
    clean,           // every byte was a good record
    torn_tail,       // the last frame is incomplete: drop it
    corrupt_tail,    // the last readable frame is corrupt: drop it and what follows
    corrupt_middle,  // a corrupt frame is followed by a good one: data was damaged
    bad_magic,       // not a journal
};

struct scan_result {
    scan_status status = scan_status::clean;
    std::size_t good_bytes = 0;  // magic + the good records before the problem
    std::size_t records = 0;
};

/// Reads every record of a journal (magic included) in order and gives each to
/// `on_record`; stops at the first bad frame and classifies it. A corrupt frame
/// counts as the tail unless a good frame starts where its length says it ends.
template <class F>
scan_result scan_journal(std::span<const std::uint8_t> data, F&& on_record);

/// IEEE CRC-32 (the zlib one).
std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t seed = 0) noexcept;

// ---------------------------------------------------------------------------

template <class F>
scan_result scan_journal(std::span<const std::uint8_t> data, F&& on_record) {
    scan_result res;
    const std::string_view head(reinterpret_cast<const char*>(data.data()),
                                std::min(data.size(), journal_magic.size()));
    if (head != journal_magic) {
        // An empty file, or one cut inside the magic, is a journal that never
        // got its header: nothing in it (good_bytes 0).
        res.status = data.empty() ? scan_status::clean
                     : journal_magic.starts_with(head) ? scan_status::torn_tail
                                                       : scan_status::bad_magic;
        return res;
    }
    std::size_t pos = journal_magic.size();
    res.good_bytes = pos;
    record rec;
    for (;;) {
        const auto r = read_record(data.subspan(pos), rec);
        if (r.status == read_status::end) return res;
        if (r.status == read_status::torn) {
            res.status = scan_status::torn_tail;
            return res;
        }
        if (r.status == read_status::corrupt) {
            record next;
            const bool more = r.size != 0 && pos + r.size < data.size() &&
                              read_record(data.subspan(pos + r.size), next).status == read_status::ok;
            res.status = more ? scan_status::corrupt_middle : scan_status::corrupt_tail;
            return res;
        }
        on_record(rec);
        pos += r.size;
        res.good_bytes = pos;
        ++res.records;
    }
}

}  // namespace mqtt::core::store
