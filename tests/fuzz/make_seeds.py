#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora under tests/fuzz/corpus/<target>/.

Every decode seed is a valid MQTT packet (or stream of packets) assembled by
hand from the spec's field layout, for 3.1.1 and 5.0. The output is committed;
rerun after changing this script:  python3 tests/fuzz/make_seeds.py
Standard library only.
"""
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


# -- primitives (MQTT 5.0 section 1.5) ---------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def u8(n):
    return struct.pack(">B", n)


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def s(text):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return u16(len(raw)) + raw


def binary(raw):
    return u16(len(raw)) + raw


def packet(first_byte, body):
    return u8(first_byte) + varint(len(body)) + body


# -- properties (MQTT 5.0 section 2.2.2.2) ------------------------------------

def prop(pid, kind, value):
    enc = {"byte": u8, "u16": u16, "u32": u32, "var": varint, "str": s, "bin": binary}
    if kind == "pair":
        return u8(pid) + s(value[0]) + s(value[1])
    return u8(pid) + enc[kind](value)


def props(*items):
    block = b"".join(items)
    return varint(len(block)) + block


NO_PROPS = props()
USER = prop(0x26, "pair", ("k", "v"))
REASON_STRING = prop(0x1F, "str", "because")


# -- packets ------------------------------------------------------------------

def connect(version, client_id="c1", clean=True, keep_alive=60, will=None, username=None,
            password=None, connect_props=b"", will_props=b""):
    flags = 0x02 if clean else 0
    payload = s(client_id)
    if will is not None:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        if version == 5:
            payload += props(will_props) if will_props else NO_PROPS
        payload += s(topic) + binary(message)
    if username is not None:
        flags |= 0x80
        payload += s(username)
    if password is not None:
        flags |= 0x40
        payload += binary(password)
    header = s("MQTT") + u8(version) + u8(flags) + u16(keep_alive)
    if version == 5:
        header += props(connect_props) if connect_props else NO_PROPS
    return packet(0x10, header + payload)


def publish(version, topic, payload, qos=0, retain=False, dup=False, pid=1, publish_props=b""):
    first = 0x30 | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = s(topic)
    if qos:
        body += u16(pid)
    if version == 5:
        body += props(publish_props) if publish_props else NO_PROPS
    return packet(first, body + payload)


def ack(version, kind, pid=1, reason=None, ack_props=b""):
    first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[kind]
    body = u16(pid)
    if version == 5 and (reason is not None or ack_props):
        body += u8(reason or 0) + props(ack_props)
    return packet(first, body)


def subscribe(version, pid, entries, sub_props=b""):
    body = u16(pid)
    if version == 5:
        body += props(sub_props) if sub_props else NO_PROPS
    for topic_filter, options in entries:
        body += s(topic_filter) + u8(options)
    return packet(0x82, body)


def suback(version, pid, codes, ack_props=b""):
    body = u16(pid)
    if version == 5:
        body += props(ack_props) if ack_props else NO_PROPS
    return packet(0x90, body + bytes(codes))


def unsubscribe(version, pid, filters, unsub_props=b""):
    body = u16(pid)
    if version == 5:
        body += props(unsub_props) if unsub_props else NO_PROPS
    return packet(0xA2, body + b"".join(s(f) for f in filters))


def unsuback(version, pid, codes=(), ack_props=b""):
    body = u16(pid)
    if version == 5:
        body += (props(ack_props) if ack_props else NO_PROPS) + bytes(codes)
    return packet(0xB0, body)


def connack(version, session_present=False, code=0, ack_props=b""):
    body = u8(1 if session_present else 0) + u8(code)
    if version == 5:
        body += props(ack_props) if ack_props else NO_PROPS
    return packet(0x20, body)


def disconnect(version, reason=None, dis_props=b""):
    if version == 4 or reason is None:
        return packet(0xE0, b"")
    return packet(0xE0, u8(reason) + props(dis_props))


def decode_seeds():
    seeds = {}
    for v in (4, 5):
        tag = "v311" if v == 4 else "v5"
        seeds[f"{tag}_connect_min"] = connect(v, client_id="")
        seeds[f"{tag}_connect_full"] = connect(
            v, client_id="client-1", clean=False, keep_alive=30,
            will=("will/topic", b"gone", 1, True), username="user", password=b"secret",
            connect_props=prop(0x11, "u32", 3600) + prop(0x21, "u16", 20) + prop(0x27, "u32", 65536)
            + prop(0x22, "u16", 10) + prop(0x19, "byte", 1) + prop(0x17, "byte", 0) + USER,
            will_props=prop(0x18, "u32", 5) + prop(0x01, "byte", 1) + prop(0x02, "u32", 60)
            + prop(0x03, "str", "text/plain") + prop(0x08, "str", "reply/here")
            + prop(0x09, "bin", b"\x01\x02") + USER)
        seeds[f"{tag}_connack"] = connack(v)
        seeds[f"{tag}_connack_refused"] = connack(v, code=0x05 if v == 4 else 0x87)
        seeds[f"{tag}_publish_qos0"] = publish(v, "sport/tennis/player1", b"hello")
        seeds[f"{tag}_publish_qos1"] = publish(v, "a/b", b"\x00\xff", qos=1, pid=7)
        seeds[f"{tag}_publish_qos2_retain_dup"] = publish(v, "$SYS/x", b"", qos=2, retain=True,
                                                          dup=True, pid=0xFFFF)
        seeds[f"{tag}_publish_bom_topic"] = publish(v, "\ufeffa/\u00e9", b"x")
        for kind in ("puback", "pubrec", "pubrel", "pubcomp"):
            seeds[f"{tag}_{kind}"] = ack(v, kind, pid=0x1234)
        seeds[f"{tag}_subscribe"] = subscribe(v, 10, [("a/+/c", 0), ("sport/#", 1), ("$SYS/#", 2)])
        seeds[f"{tag}_subscribe_shared"] = subscribe(v, 11, [("$share/g/a/b", 1)])
        seeds[f"{tag}_suback"] = suback(v, 10, [0, 1, 2, 0x80])
        seeds[f"{tag}_unsubscribe"] = unsubscribe(v, 12, ["a/+/c", "$share/g/a/b"])
        seeds[f"{tag}_unsuback"] = unsuback(v, 12, [0x00, 0x11] if v == 5 else ())
        seeds[f"{tag}_pingreq"] = packet(0xC0, b"")
        seeds[f"{tag}_pingresp"] = packet(0xD0, b"")
        seeds[f"{tag}_disconnect"] = disconnect(v)
        seeds[f"{tag}_stream"] = (connect(v, client_id="s") + publish(v, "t", b"1", qos=1, pid=1)
                                  + ack(v, "puback", pid=1) + packet(0xC0, b"") + disconnect(v))

    # MQTT 5.0 only: properties and reason codes everywhere.
    seeds["v5_connect_auth"] = connect(5, connect_props=prop(0x15, "str", "SCRAM-SHA-1")
                                       + prop(0x16, "bin", b"client-first"))
    seeds["v5_connack_props"] = connack(
        5, session_present=True, ack_props=prop(0x11, "u32", 60) + prop(0x21, "u16", 100)
        + prop(0x24, "byte", 1) + prop(0x25, "byte", 0) + prop(0x27, "u32", 1 << 20)
        + prop(0x12, "str", "auto-1") + prop(0x22, "u16", 5) + REASON_STRING + USER
        + prop(0x28, "byte", 1) + prop(0x29, "byte", 1) + prop(0x2A, "byte", 0)
        + prop(0x13, "u16", 30) + prop(0x1A, "str", "info") + prop(0x1C, "str", "other:1883"))
    seeds["v5_publish_props"] = publish(
        5, "req/1", b'{"x":1}', qos=1, pid=2,
        publish_props=prop(0x01, "byte", 1) + prop(0x02, "u32", 30) + prop(0x23, "u16", 3)
        + prop(0x08, "str", "resp/1") + prop(0x09, "bin", b"corr") + USER + USER
        + prop(0x0B, "var", 300) + prop(0x03, "str", "application/json"))
    seeds["v5_publish_alias_only"] = publish(5, "", b"x", publish_props=prop(0x23, "u16", 3))
    seeds["v5_puback_reason"] = ack(5, "puback", pid=3, reason=0x10, ack_props=REASON_STRING)
    seeds["v5_pubrec_error"] = ack(5, "pubrec", pid=4, reason=0x80, ack_props=USER)
    seeds["v5_pubrel_not_found"] = ack(5, "pubrel", pid=5, reason=0x92)
    seeds["v5_pubcomp_reason"] = ack(5, "pubcomp", pid=6, reason=0x00, ack_props=REASON_STRING)
    seeds["v5_subscribe_options"] = subscribe(
        5, 20, [("a/b", 0x01 | 0x04 | 0x08 | 0x10), ("c/#", 0x02 | 0x20)],
        sub_props=prop(0x0B, "var", 42) + USER)
    seeds["v5_suback_props"] = suback(5, 20, [0x00, 0x8F, 0x97], ack_props=REASON_STRING)
    seeds["v5_unsubscribe_props"] = unsubscribe(5, 21, ["a/b"], unsub_props=USER)
    seeds["v5_disconnect_props"] = disconnect(5, 0x04, prop(0x11, "u32", 0) + REASON_STRING)
    seeds["v5_disconnect_server"] = disconnect(5, 0x9C, prop(0x1C, "str", "other:1883"))
    seeds["v5_auth_empty"] = packet(0xF0, b"")
    seeds["v5_auth_continue"] = packet(0xF0, u8(0x18) + props(prop(0x15, "str", "SCRAM-SHA-1")
                                                            + prop(0x16, "bin", b"server-first")))
    return seeds


def property_seeds():
    # [selector][property block]; the selector's low nibble is the packet kind
    # used by fuzz_properties.cpp (0 CONNECT, 1 Will, 2 CONNACK, 3 PUBLISH,
    # 4-7 acks, 8 SUBSCRIBE, 9 SUBACK, 10 UNSUBSCRIBE, 11 UNSUBACK,
    # 12 DISCONNECT, 13 AUTH); bits 4-5 PUBLISH QoS; bit 6 server side.
    blocks = {
        "connect": (0, prop(0x11, "u32", 10) + prop(0x21, "u16", 5) + prop(0x27, "u32", 1024)
                    + prop(0x22, "u16", 3) + prop(0x19, "byte", 1) + prop(0x17, "byte", 1) + USER),
        "connect_auth": (0, prop(0x15, "str", "PLAIN") + prop(0x16, "bin", b"\x00u\x00p")),
        "will": (1, prop(0x18, "u32", 5) + prop(0x01, "byte", 1) + prop(0x02, "u32", 9)
                 + prop(0x03, "str", "t") + prop(0x08, "str", "r/t") + prop(0x09, "bin", b"c")),
        "connack": (2, prop(0x24, "byte", 1) + prop(0x25, "byte", 1) + prop(0x12, "str", "id")
                    + prop(0x13, "u16", 5) + prop(0x1A, "str", "ri") + prop(0x1C, "str", "s")
                    + prop(0x28, "byte", 0) + prop(0x29, "byte", 0) + prop(0x2A, "byte", 1)),
        "publish": (3 | 0x10, prop(0x01, "byte", 0) + prop(0x02, "u32", 1) + prop(0x23, "u16", 1)
                    + prop(0x08, "str", "x") + prop(0x09, "bin", b"y") + prop(0x0B, "var", 1)),
        "publish_client": (3 | 0x20 | 0x40, prop(0x03, "str", "text/plain") + USER),
        "puback": (4, REASON_STRING + USER),
        "pubrel": (6, REASON_STRING),
        "subscribe": (8, prop(0x0B, "var", 268435455) + USER),
        "suback": (9, REASON_STRING),
        "unsubscribe": (10, USER),
        "unsuback": (11, REASON_STRING + USER),
        "disconnect": (12, prop(0x11, "u32", 1) + prop(0x1C, "str", "srv") + REASON_STRING),
        "auth": (13, prop(0x15, "str", "m") + prop(0x16, "bin", b"d") + REASON_STRING),
        "empty": (3, b""),
    }
    return {name: u8(sel) + block for name, (sel, block) in blocks.items()}


def topic_seeds():
    # [len(a)][a][b]: a is tried as a Topic Name, b as a Topic Filter.
    pairs = {
        "exact": ("sport/tennis", "sport/tennis"),
        "plus": ("sport/tennis/player1", "sport/tennis/+"),
        "hash_parent": ("sport", "sport/#"),
        "empty_levels": ("/finance", "+/+"),
        "dollar": ("$SYS/monitor/Clients", "+/monitor/Clients"),
        "dollar_hash": ("$SYS/broker", "$SYS/#"),
        "shared": ("a/b", "$share/group/a/+"),
        "bad_share": ("a", "$share//a"),
        "bad_hash": ("a/b", "a/#/b"),
        "utf8": ("\ufeffcaf\u00e9/\U0001F600", "+/#"),
        "overlong": (b"\xc0\xaf", b"\xed\xa0\x80/#"),
        "slashes": ("///", "+/+/+/+"),
    }
    out = {}
    for name, (a, b) in pairs.items():
        a = a.encode() if isinstance(a, str) else a
        b = b.encode() if isinstance(b, str) else b
        out[name] = u8(len(a)) + a + b
    return out


def ndjson_seeds():
    # [flags][line]: flags bit 0 gives a default topic, bits 1-2 the default
    # QoS, bit 3 the default retain flag (fuzz_ndjson.cpp).
    lines = {
        "plain": (0, b'{"topic":"a/b","payload":"hello"}'),
        "sub_json_record": (0, b'{"type":"message","topic":"s/1","payload":"{\\"t\\":1}","qos":1,'
                               b'"retain":true,"payload_encoding":"utf8","properties":{"content_type":"text/plain",'
                               b'"response_topic":"r/1","correlation_data":"abc","message_expiry_interval":60,'
                               b'"payload_format_indicator":1,"user_properties":[["k","v"],["k","w"]]}}'),
        "base64": (0, b'{"topic":"a","payload":"aGVsbG8=","payload_encoding":"base64"}'),
        "hex": (0, b'{"topic":"a","payload":"00ff10","payload_encoding":"hex"}'),
        "json_payload": (0, b'{"topic":"a","payload":{"x":[1,2.5e300,-0,true,null]},"payload_encoding":"json"}'),
        "default_topic": (0x01 | 0x04, b'{"payload":"x"}'),
        "not_message": (0, b'{"type":"status","topic":"a","payload":"x"}'),
        "blank": (0, b"   \t\r"),
        "crlf": (0, b'{"topic":"a","payload":"x"}\r'),
        "bom": (0, b'\xef\xbb\xbf{"topic":"a","payload":"x"}'),
        "deep": (0, b'{"topic":"a","payload":' + b"[" * 70 + b"]" * 70 + b',"payload_encoding":"json"}'),
        "huge_number": (0, b'{"topic":"a","payload":"1","qos":18446744073709551616}'),
        "big_int_in_string": (0, b'{"topic":"a","payload":"{\\"n\\":123456789012345678901234567890,\\"n\\":1}"}'),
        "bad_utf8": (0, b'{"topic":"a","payload":"\xff\xfe"}'),
        "nul_topic": (0, b'{"topic":"a\\u0000b","payload":"x"}'),
        "lone_surrogate": (0, b'{"topic":"a","payload":"\\ud800"}'),
        "qos3": (0, b'{"topic":"a","payload":"x","qos":3}'),
        "retain_string": (0, b'{"topic":"a","payload":"x","retain":"yes"}'),
        "wildcard_topic": (0, b'{"topic":"a/+","payload":"x"}'),
        "no_payload": (0, b'{"topic":"a"}'),
        "truncated": (0, b'{"topic":"a","payload":"hel'),
    }
    return {name: u8(flags) + line for name, (flags, line) in lines.items()}


def config_seeds():
    return {
        "full": b"# comment\n; other comment\nurl = mqtt://localhost:1883\nqos = 1\n"
                b"[pub]\nretain = true\ntopic = \"a b\\t\\\"q\\\"\"\n[sub]\nformat = json\n"
                b"[profile.prod]\nurl = mqtts://broker:8883\ncafile = ~/ca.pem\nuser-property = a=b\n"
                b"user-property = c=d\n[profile.dev]\nqos = 0\n",
        "crlf": b"[rr]\r\ntimeout = 5s\r\n\r\n",
        "bad_section": b"[nope]\nx = 1\n",
        "no_equals": b"[pub]\njust words\n",
        "bad_escape": b'topic = "a\\q"\n',
        "unterminated": b'topic = "abc\n',
        "bad_key": b"-x = 1\n",
        "empty_profile": b"[profile.]\n",
    }


def url_seeds():
    urls = [
        "mqtt://localhost", "mqtts://user:p%40ss@broker.example:8883/a%2Fb?client_id=x&version=5&keepalive=30",
        "ws://[::1]:8080/mqtt", "wss://host/path?version=311", "mqtt://user:p@ss@host", "mqtt://::1:1883",
        "mqtt://h:0", "mqtt://h:65536", "mqtt://h:abc", "mqtt://h:-1", "http://host", "mqtt:/host", "mqtt://",
        "mqtt://h/a/#", "mqtt://h/%zz", "mqtt://h?unknown=1", "mqtt://%E2%82%AC@h",
    ]
    return {f"url_{i:02d}": u.encode() for i, u in enumerate(urls)}


def predicate_seeds():
    preds = [
        "topic == \"sensors/room1/temp\"", "payload.t > 20", "payload.deep.x[2].y == \"z\"",
        "payload_len >= 3", "qos == 1", "retain == true", "payload =~ \"^\\\\{.*\\\\}$\"",
        "user.k exists", "properties.content_type != \"text/plain\"", "properties.response_topic exists",
        "payload.tags[1] == \"b\"", "payload.big > 1e19", "payload.n == null", "payload[0] exists",
        "nope == 1", "topic ~ 1", "payload =~ 42", "payload =~ \"(\"", "payload.t <= ",
        "payload =~ \"(a|b)*c\"", "topic =~ \"^(s|e|n)+.*$\"",
    ]
    return {f"pred_{i:02d}": p.encode() for i, p in enumerate(preds)}


def session_seeds():
    # Commands of fuzz_server_session.cpp: [cmd][args]; cmd & 7 < 4 sends the
    # next [len][bytes] from slot (cmd >> 3) % 3.
    def send(slot, data):
        out = b""
        while data:  # one command carries at most 255 bytes
            chunk, data = data[:255], data[255:]
            out += u8(slot << 3) + u8(len(chunk)) + chunk
        return out

    def tick(quarters):
        return u8(4) + u8(quarters)

    def lost(slot):
        return u8(5 | (slot << 3))

    sub_v5 = subscribe(5, 1, [("a/#", 0x02), ("$share/g/a/+", 0x01)], sub_props=prop(0x0B, "var", 7))
    pub_q1 = publish(5, "a/b", b"one", qos=1, pid=1)
    pub_q2 = publish(5, "a/c", b"two", qos=2, pid=2, retain=True)
    seeds = {
        "v5_pubsub": send(0, connect(5, "sub1", clean=False, connect_props=prop(0x11, "u32", 300)
                                     + prop(0x21, "u16", 2)))
        + send(0, sub_v5) + send(1, connect(5, "pub1", will=("a/will", b"bye", 1, False)))
        + send(1, pub_q1 + pub_q2) + send(0, ack(5, "puback", pid=1)) + send(1, ack(5, "pubrel", pid=2))
        + send(0, ack(5, "pubrec", pid=2)) + send(0, ack(5, "pubcomp", pid=2)) + lost(1) + tick(4),
        "v311_resume": send(0, connect(4, "s", clean=False)) + send(0, subscribe(4, 3, [("x/+", 1)]))
        + lost(0) + send(1, connect(4, "p")) + send(1, publish(4, "x/y", b"q", qos=1, pid=9) * 6)
        + send(2, connect(4, "s", clean=False)) + tick(200),
        "v5_takeover": send(0, connect(5, "dup", clean=False, connect_props=prop(0x11, "u32", 60)))
        + send(0, subscribe(5, 1, [("t", 0x01)])) + send(1, connect(5, "dup", clean=False))
        + send(2, connect(5, "x")) + send(2, publish(5, "t", b"m", qos=1, pid=4)),
        "v5_alias_and_unsub": send(0, connect(5, "a", connect_props=prop(0x22, "u16", 2)))
        + send(0, subscribe(5, 1, [("#", 0x00)]))
        + send(0, publish(5, "al/1", b"x", publish_props=prop(0x23, "u16", 1)))
        + send(0, publish(5, "", b"y", publish_props=prop(0x23, "u16", 1)))
        + send(0, unsubscribe(5, 2, ["#", "nope"])) + send(0, packet(0xC0, b"")) + send(0, disconnect(5, 0x04)),
        "refused": u8(6) + u8(0x0D) + send(0, connect(5, "r")) + u8(6) + u8(0) + send(1, connect(4, "ok"))
        + u8(7 | (1 << 3)) + u8(1),
        "bad_first": send(0, publish(5, "a", b"x")) + send(1, b"\x10\xff\xff\xff\x7f") + tick(255),
    }
    return seeds


def write(target, seeds):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.bin"):
        if not old.name.startswith("regress-"):  # inputs that once failed stay
            old.unlink()
    for name, data in sorted(seeds.items()):
        (folder / f"{name}.bin").write_bytes(data)
    print(f"{target}: {len(seeds)} seeds")


def main():
    write("fuzz_decode", decode_seeds())
    write("fuzz_properties", property_seeds())
    write("fuzz_topic", topic_seeds())
    write("fuzz_ndjson", ndjson_seeds())
    write("fuzz_config", config_seeds())
    write("fuzz_url", url_seeds())
    write("fuzz_predicate", predicate_seeds())
    write("fuzz_server_session", session_seeds())


if __name__ == "__main__":
    main()
