# SPDX-License-Identifier: MIT
"""python3-paho-mqtt (Debian 12, 1.6.x API) against `mq broker`.

Usage: python3 paho_test.py MQ_BINARY

Starts `mq broker --listen mqtt://127.0.0.1:0`, reads the port from its
readiness line, runs every check with MQTT 3.1.1 and 5 clients, stops the
broker by PID and exits non-zero (listing each failure) if anything failed.
"""
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

try:
    import paho.mqtt.client as mqtt
except ImportError:
    # CTest may find a python3 (pyenv, venv) that does not see Debian's
    # dist-packages; Debian's interpreter does.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("paho_test: python3-paho-mqtt is not installed", file=sys.stderr)
    sys.exit(2)
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes
from paho.mqtt.subscribeoptions import SubscribeOptions

TIMEOUT = 10.0  # seconds for any single expected event
QUIET = 0.3  # seconds of silence taken as "nothing more arrives" after a sync


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Broker:
    """`mq broker` on a free port; stopped by PID."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "broker", "--listen", "mqtt://127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = self._read_ready_line()
        ready = json.loads(line)
        check(ready.get("type") == "ready", "ready line has type 'ready': %r" % line)
        self.port = ready["listeners"][0]["port"]
        check(isinstance(self.port, int) and self.port > 0, "ready line has a port: %r" % line)

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace"))

    def _read_ready_line(self):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(TIMEOUT)
        if not result or not result[0]:
            self.stop()
            raise Failure("mq broker printed no ready line within %ss; stderr: %s" % (TIMEOUT, "".join(self.stderr)))
        return result[0].decode()

    def stop(self):
        """SIGTERM by PID, SIGKILL after 10 s; returns the exit code."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode


class Peer:
    """A paho client running its network loop in a thread; events are queued."""

    count = 0

    def __init__(self, port, version, name, will=None, connect_properties=None):
        Peer.count += 1
        self.version = version
        self.client_id = "paho-%s-%d" % (name, Peer.count)
        self.sync_topic = "sync/" + self.client_id
        self.messages = queue.Queue()
        self.events = queue.Queue()
        self.client = mqtt.Client(client_id=self.client_id, protocol=version)
        c = self.client
        c.on_message = lambda _c, _u, msg: self.messages.put(msg)
        if version == mqtt.MQTTv5:
            c.on_connect = lambda _c, _u, flags, rc, props: self.events.put(("connack", rc, props))
            c.on_subscribe = lambda _c, _u, mid, codes, props: self.events.put(("suback", mid, codes))
            c.on_unsubscribe = lambda _c, _u, mid, props, codes: self.events.put(("unsuback", mid, codes))
            c.on_disconnect = lambda _c, _u, rc, props=None: self.events.put(("disconnect", rc, props))
        else:
            c.on_connect = lambda _c, _u, flags, rc: self.events.put(("connack", rc, None))
            c.on_subscribe = lambda _c, _u, mid, granted: self.events.put(("suback", mid, granted))
            c.on_unsubscribe = lambda _c, _u, mid: self.events.put(("unsuback", mid, None))
            c.on_disconnect = lambda _c, _u, rc: self.events.put(("disconnect", rc, None))
        if will:
            c.will_set(will[0], will[1], qos=will[2])
        if version == mqtt.MQTTv5:
            c.connect("127.0.0.1", port, keepalive=30, clean_start=True, properties=connect_properties)
        else:
            c.connect("127.0.0.1", port, keepalive=30)
        c.loop_start()
        _, rc, self.connack_properties = self.expect_event("connack")
        check(rc == 0, "%s: CONNACK success, got %s" % (self.client_id, rc))
        self.subscribe(self.sync_topic, 1)

    def expect_event(self, kind):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event[0] == kind:
                return event
        raise Failure("%s: no %s within %ss" % (self.client_id, kind, TIMEOUT))

    def subscribe(self, topic, qos=0, options=None):
        """Subscribes and waits for SUBACK; returns its reason codes / granted QoS list."""
        if options is not None:
            rc, mid = self.client.subscribe(topic, options=options)
        else:
            rc, mid = self.client.subscribe(topic, qos)
        check(rc == mqtt.MQTT_ERR_SUCCESS, "%s: SUBSCRIBE %s queued" % (self.client_id, topic))
        _, got_mid, codes = self.expect_event("suback")
        check(got_mid == mid, "SUBACK packet id %s matches SUBSCRIBE %s" % (got_mid, mid))
        return codes

    def unsubscribe(self, topics):
        rc, mid = self.client.unsubscribe(topics)
        check(rc == mqtt.MQTT_ERR_SUCCESS, "%s: UNSUBSCRIBE queued" % self.client_id)
        _, got_mid, codes = self.expect_event("unsuback")
        check(got_mid == mid, "UNSUBACK packet id %s matches UNSUBSCRIBE %s" % (got_mid, mid))
        # paho 1.6 passes a lone ReasonCodes instead of a one-element list.
        if isinstance(codes, ReasonCodes):
            codes = [codes]
        return codes

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        """Publishes and waits until the flow completes (PUBACK / PUBCOMP)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        check(info.rc == mqtt.MQTT_ERR_SUCCESS, "%s: PUBLISH %s queued (rc %s)" % (self.client_id, topic, info.rc))
        info.wait_for_publish(TIMEOUT)
        check(info.is_published(), "%s: PUBLISH %s qos %d completed within %ss" % (self.client_id, topic, qos, TIMEOUT))

    def sync(self):
        """Round trip through our own sync topic; returns the messages that arrived before it."""
        token = "%f" % time.monotonic()
        self.publish(self.sync_topic, token, qos=1)
        before = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                msg = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if msg.topic == self.sync_topic:
                if msg.payload == token.encode():
                    return before
                continue
            before.append(msg)
        raise Failure("%s: own sync message did not come back" % self.client_id)

    def next_message(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                msg = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if msg.topic != self.sync_topic:
                return msg
        raise Failure("%s: no message within %ss" % (self.client_id, TIMEOUT))

    def disconnect(self, reasoncode=None):
        if reasoncode is not None:
            self.client.disconnect(reasoncode=reasoncode)
        else:
            self.client.disconnect()
        self.expect_event("disconnect")
        self.client.loop_stop()

    def drop(self):
        """Closes the socket without DISCONNECT (as if the process died)."""
        self.client.loop_stop()
        self.client.socket().close()


def describe(msg):
    return "%s qos=%d retain=%d payload=%r" % (msg.topic, msg.qos, msg.retain, msg.payload)


# --- checks -----------------------------------------------------------------

def test_qos_flows(port, version):
    sub = Peer(port, version, "qsub")
    pub = Peer(port, version, "qpub")
    codes = sub.subscribe("paho/qos/#", 2)
    if version == mqtt.MQTTv5:
        check([c.value for c in codes] == [2], "SUBACK grants QoS 2, got %s" % codes)
    else:
        check(list(codes) == [2], "SUBACK grants QoS 2, got %s" % (codes,))
    for qos in (0, 1, 2):
        payload = bytes([0, qos, 255]) + b"qos %d" % qos
        pub.publish("paho/qos/%d" % qos, payload, qos=qos)
        msg = sub.next_message()
        check((msg.topic, msg.qos, msg.retain, msg.payload) == ("paho/qos/%d" % qos, qos, 0, payload),
              "QoS %d message arrives intact, got %s" % (qos, describe(msg)))
    # Publish at QoS 2 to a QoS 1 subscription: delivered at QoS 1.
    sub.subscribe("paho/down", 1)
    pub.publish("paho/down", b"down", qos=2)
    msg = sub.next_message()
    check((msg.topic, msg.qos, msg.payload) == ("paho/down", 1, b"down"), "downgraded to QoS 1, got %s" % describe(msg))
    # Unsubscribe: later messages are not delivered.
    codes = sub.unsubscribe("paho/qos/#")
    if version == mqtt.MQTTv5:
        check([c.value for c in codes] == [0], "UNSUBACK success, got %s" % codes)
    pub.publish("paho/qos/0", b"after", qos=1)
    pub.sync()
    check(sub.sync() == [], "nothing delivered after UNSUBSCRIBE")
    sub.disconnect()
    pub.disconnect()


def test_v5_unsubscribe_unknown_filter(port):
    peer = Peer(port, mqtt.MQTTv5, "unsub")
    peer.subscribe("paho/unsub/a", 1)
    codes = peer.unsubscribe(["paho/unsub/a", "paho/unsub/never"])
    check([c.value for c in codes] == [0x00, 0x11], "UNSUBACK [0x00, 0x11], got %s" % codes)
    peer.disconnect()


def test_v5_properties(port):
    sub = Peer(port, mqtt.MQTTv5, "psub")
    pub = Peer(port, mqtt.MQTTv5, "ppub")
    sub.subscribe("paho/props", 2)
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("k", "v"), ("k", "w"), ("empty", ""), ("ünï", "cödé")]
    props.ContentType = "application/octet-stream"
    props.ResponseTopic = "paho/reply/1"
    props.CorrelationData = b"\x00corr\xff\x01"
    props.MessageExpiryInterval = 3600
    props.PayloadFormatIndicator = 0
    payload = b"\x00\x01props\xfe"
    pub.publish("paho/props", payload, qos=2, properties=props)
    msg = sub.next_message()
    check((msg.topic, msg.qos, msg.payload) == ("paho/props", 2, payload), "message intact, got %s" % describe(msg))
    got = msg.properties
    check(got is not None, "PUBLISH has properties")
    check(list(getattr(got, "UserProperty", [])) == props.UserProperty,
          "user properties kept in order, got %r" % getattr(got, "UserProperty", None))
    check(getattr(got, "ContentType", None) == props.ContentType, "content type, got %r" % getattr(got, "ContentType", None))
    check(getattr(got, "ResponseTopic", None) == props.ResponseTopic,
          "response topic, got %r" % getattr(got, "ResponseTopic", None))
    check(getattr(got, "CorrelationData", None) == props.CorrelationData,
          "correlation data, got %r" % getattr(got, "CorrelationData", None))
    expiry = getattr(got, "MessageExpiryInterval", None)
    # The forwarded value is the remaining lifetime [MQTT-3.3.2-6].
    check(expiry is not None and 3590 <= expiry <= 3600, "message expiry 3590..3600, got %r" % expiry)
    check(getattr(got, "PayloadFormatIndicator", 0) == 0, "payload format indicator 0")
    sub.disconnect()
    pub.disconnect()


def test_v5_retained_expiry(port):
    """An expired retained message is discarded (MQTT 5 section 3.3.2.3.3, [MQTT-3.3.2-5])."""
    pub = Peer(port, mqtt.MQTTv5, "xpub")
    short = Properties(PacketTypes.PUBLISH)
    short.MessageExpiryInterval = 1
    pub.publish("paho/props/expire", b"soon gone", qos=1, retain=True, properties=short)
    time.sleep(2.1)  # the interval is in whole seconds
    late = Peer(port, mqtt.MQTTv5, "xlate")
    late.subscribe("paho/props/expire", 1)
    got = [describe(m) for m in late.sync()]
    pub.publish("paho/props/expire", b"", qos=1, retain=True)
    check(got == [], "expired retained message (expiry 1 s, subscribed after 2.1 s) not delivered, got %r" % got)
    pub.disconnect()
    late.disconnect()


def test_v5_no_local(port):
    a = Peer(port, mqtt.MQTTv5, "nla")
    b = Peer(port, mqtt.MQTTv5, "nlb")
    a.subscribe("paho/nl", options=SubscribeOptions(qos=1, noLocal=True))
    b.subscribe("paho/nl", options=SubscribeOptions(qos=1, noLocal=True))
    a.publish("paho/nl", b"from a", qos=1)
    # [MQTT-3.8.3-3]: not sent back to the publisher's own connection.
    check([describe(m) for m in a.sync()] == [], "no-local: publisher does not get its own message")
    msg = b.next_message()
    check((msg.topic, msg.payload) == ("paho/nl", b"from a"), "other subscriber gets it, got %s" % describe(msg))
    a.disconnect()
    b.disconnect()


def test_v5_topic_alias_out(port):
    """The broker's outbound Topic Aliases (--topic-alias-out, default on) as paho decodes
    them. paho 1.6 does not resolve aliases it receives, so it shows what is on the wire:
    topic + TopicAlias on first use, then the empty topic with the same alias."""
    props = Properties(PacketTypes.CONNECT)
    props.TopicAliasMaximum = 2
    sub = Peer(port, mqtt.MQTTv5, "tasub", connect_properties=props)
    pub = Peer(port, mqtt.MQTTv5, "tapub")
    sub.subscribe("paho/alias", 1)
    pub.publish("paho/alias", b"1", qos=1)
    pub.publish("paho/alias", b"2", qos=1)
    # sub never runs sync(), so these are the first PUBLISH packets it gets: alias 1.
    seen = [sub.next_message() for _ in range(2)]
    seen = [(m.topic, m.payload, getattr(m.properties, "TopicAlias", None)) for m in seen]
    check(seen[0] == ("paho/alias", b"1", 1), "first use: topic + alias 1, got %r" % (seen[0],))
    check(seen[1] == ("", b"2", 1), "repeat: empty topic, alias 1 [MQTT-3.3.2-12], got %r" % (seen[1],))
    pub.disconnect()
    sub.disconnect()


def test_v5_retain_as_published_and_handling(port):
    pub = Peer(port, mqtt.MQTTv5, "rpub")
    pub.publish("paho/rap", b"old", qos=1, retain=True)
    rap = Peer(port, mqtt.MQTTv5, "rap")
    plain = Peer(port, mqtt.MQTTv5, "rplain")
    rh2 = Peer(port, mqtt.MQTTv5, "rh2")
    rh1 = Peer(port, mqtt.MQTTv5, "rh1")
    rap.subscribe("paho/rap", options=SubscribeOptions(qos=1, retainAsPublished=True))
    plain.subscribe("paho/rap", options=SubscribeOptions(qos=1))
    rh2.subscribe("paho/rap", options=SubscribeOptions(qos=1, retainHandling=2))
    rh1.subscribe("paho/rap", options=SubscribeOptions(qos=1, retainHandling=1))
    # Retained messages sent on subscribe carry retain=1 [MQTT-3.3.1-9], except with handling 2 [MQTT-3.3.1-11].
    for peer in (rap, plain, rh1):
        got = [(m.payload, m.retain) for m in peer.sync()]
        check(got == [(b"old", 1)], "%s gets the retained message on subscribe, got %r" % (peer.client_id, got))
    got = [describe(m) for m in rh2.sync()]
    check(got == [], "retain handling 2: no retained message on subscribe, got %r" % got)
    # Handling 1: a repeated SUBSCRIBE to an existing subscription sends nothing.
    rh1.subscribe("paho/rap", options=SubscribeOptions(qos=1, retainHandling=1))
    got = [describe(m) for m in rh1.sync()]
    check(got == [], "retain handling 1: nothing on re-subscribe, got %r" % got)
    # Live retained publish: retain flag kept only with Retain As Published [MQTT-3.3.1-12] [MQTT-3.3.1-13].
    pub.publish("paho/rap", b"new", qos=1, retain=True)
    msg = rap.next_message()
    check((msg.payload, msg.retain) == (b"new", 1), "retain as published keeps retain=1, got %s" % describe(msg))
    msg = plain.next_message()
    check((msg.payload, msg.retain) == (b"new", 0), "default clears retain on live delivery, got %s" % describe(msg))
    msg = rh2.next_message()
    check((msg.payload, msg.retain) == (b"new", 0), "handling 2 still gets live messages, got %s" % describe(msg))
    pub.publish("paho/rap", b"", qos=1, retain=True)
    for peer in (pub, rap, plain, rh2, rh1):
        peer.disconnect()


def test_will_on_disconnect_reason(port, version):
    watcher = Peer(port, version, "wwatch")
    watcher.subscribe("paho/will/#", 1)
    normal = Peer(port, version, "wnormal", will=("paho/will/normal", b"should not appear", 1))
    normal.disconnect()  # reason 0: the will is discarded [MQTT-3.1.2-10] / [MQTT-3.14.4-3]
    dropped = Peer(port, version, "wdrop", will=("paho/will/dropped", b"\x00dropped", 1))
    dropped.drop()
    msg = watcher.next_message()
    check((msg.topic, msg.qos, msg.payload) == ("paho/will/dropped", 1, b"\x00dropped"),
          "will after a dropped connection, got %s" % describe(msg))
    if version == mqtt.MQTTv5:
        with_will = Peer(port, version, "wrc4", will=("paho/will/rc4", b"rc4", 1))
        with_will.disconnect(ReasonCodes(PacketTypes.DISCONNECT, "Disconnect with will message"))
        msg = watcher.next_message()
        check((msg.topic, msg.payload) == ("paho/will/rc4", b"rc4"),
              "DISCONNECT 0x04 publishes the will, got %s" % describe(msg))
    check([describe(m) for m in watcher.sync()] == [], "no will after a normal DISCONNECT")
    watcher.disconnect()


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise Failure("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def recv_packet(sock):
    """One MQTT packet as (first byte, body)."""
    first = recv_exact(sock, 1)[0]
    length, shift = 0, 0
    while True:
        byte = recv_exact(sock, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, recv_exact(sock, length)


def raw_v5_connect(port, client_id):
    """A hand-made MQTT 5 CONNECT (paho 1.6 ignores a DISCONNECT reason code
    unless properties follow it, so the shutdown check reads bytes itself)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x05\x02\x00\x3c\x00" + struct.pack("!H", len(cid)) + cid
    sock.sendall(bytes([0x10, len(body)]) + body)
    first, connack = recv_packet(sock)
    check(first == 0x20 and len(connack) >= 2 and connack[1] == 0, "raw CONNACK success, got %r" % connack)
    return sock


def check_shutdown_disconnect(broker):
    """SIGTERM: v5 clients get DISCONNECT 0x8B (Server shutting down), broker exits 0."""
    sock = raw_v5_connect(broker.port, "raw-shutdown")
    os.kill(broker.proc.pid, signal.SIGTERM)
    try:
        first, body = recv_packet(sock)
    finally:
        sock.close()
    check(first == 0xE0, "DISCONNECT (0xE0) on broker shutdown, got first byte 0x%02x" % first)
    check(len(body) >= 1 and body[0] == 0x8B, "DISCONNECT reason 0x8B, got %r" % body)


def main():
    if len(sys.argv) != 2:
        print("usage: paho_test.py MQ_BINARY", file=sys.stderr)
        return 64
    import paho.mqtt
    print("paho-mqtt", paho.mqtt.__version__)
    broker = Broker(sys.argv[1])
    failures = []
    tests = [
        ("qos flows v311", lambda: test_qos_flows(broker.port, mqtt.MQTTv311)),
        ("qos flows v5", lambda: test_qos_flows(broker.port, mqtt.MQTTv5)),
        ("v5 unsubscribe reason codes", lambda: test_v5_unsubscribe_unknown_filter(broker.port)),
        ("v5 publish properties", lambda: test_v5_properties(broker.port)),
        ("v5 retained message expiry", lambda: test_v5_retained_expiry(broker.port)),
        ("v5 no local", lambda: test_v5_no_local(broker.port)),
        ("v5 outbound topic aliases", lambda: test_v5_topic_alias_out(broker.port)),
        ("v5 retain as published and retain handling", lambda: test_v5_retain_as_published_and_handling(broker.port)),
        ("will v311", lambda: test_will_on_disconnect_reason(broker.port, mqtt.MQTTv311)),
        ("will v5", lambda: test_will_on_disconnect_reason(broker.port, mqtt.MQTTv5)),
        # Last: it stops the broker.
        ("v5 DISCONNECT 0x8B on broker SIGTERM", lambda: check_shutdown_disconnect(broker)),
    ]
    try:
        for name, fn in tests:
            try:
                fn()
                print("PASS", name)
            except Failure as e:
                print("FAIL %s: %s" % (name, e))
                failures.append(name)
            except Exception:  # a paho or socket error is a failure too, with its trace
                print("FAIL %s:\n%s" % (name, traceback.format_exc()))
                failures.append(name)
    finally:
        code = broker.stop()
    if code != 0:
        print("FAIL mq broker exited %s after SIGTERM; stderr:\n%s" % (code, "".join(broker.stderr)))
        failures.append("broker exit")
    print("%d checks, %d failed" % (len(tests), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
