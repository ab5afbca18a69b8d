#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# client_speed.sh - the client speed checks of the pub/sub issue, side by side
# with Debian's mosquitto clients against one local mosquitto, alternating, in
# one run:
#   1. `mq pub --ndjson` vs `mosquitto_pub -l`: N lines of ~100-byte JSON
#      payloads at QoS 0 (mq: topic per line; mosquitto_pub: one topic).
#   2. `mq sub --json` to a file: messages/s it keeps up with at QoS 0, fed by
#      `mq pub --ndjson` as fast as the broker takes them; lost = sent - written.
#   3. cold start to exit of `mq pub -m x` vs `mosquitto_pub -m x` (mean of R runs).
#
# Usage: bench/client_speed.sh [-n LINES] [-r ROUNDS] [-c COLD_RUNS] [-b mosquitto|mq]
#   -b  the broker both clients publish to (default mosquitto). A single-threaded
#       broker that absorbs fewer messages per second than the clients can send
#       makes both rates the broker's; `-b mq` shows the clients' own cost.
# Environment: MQ (default build/demo/tools/mq, the -O2 build of scripts/demo.sh), MOSQUITTO (/usr/sbin/mosquitto).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=300000 ROUNDS=3 COLD=50 BROKER=mosquitto
while getopts "n:r:c:b:" opt; do
    case $opt in
    n) LINES=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    c) COLD=$OPTARG ;;
    b) BROKER=$OPTARG ;;
    *) exit 64 ;;
    esac
done
MQ=${MQ:-build/demo/tools/mq}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
tmp=$(mktemp -d)
broker_pid=""
cleanup() {
    if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nuser %s\n' \
    "$port" "$(id -un)" >"$tmp/m.conf"
if [ "$BROKER" = mq ]; then
    "$MQ" broker --listen "mqtt://127.0.0.1:$port" 2>"$tmp/m.log" >/dev/null &
else
    "$MOSQUITTO" -c "$tmp/m.conf" 2>"$tmp/m.log" &
fi
broker_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

python3 - "$LINES" "$tmp" <<'PY'
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
with open(d + "/lines.ndjson", "w") as nd, open(d + "/lines.txt", "w") as raw:
    for i in range(n):
        payload = json.dumps({"device": f"sensor-{i % 1000:04d}", "seq": i, "temp": 20.5 + (i % 100) / 10,
                              "status": "ok", "pad": "x" * 24}, separators=(",", ":"))
        nd.write(json.dumps({"topic": f"speed/{i % 100}", "payload": payload}, separators=(",", ":")) + "\n")
        raw.write(payload + "\n")
PY
now() { date +%s%N; }
rate() { python3 -c "import sys; print(f'{$1 / (($3 - $2) / 1e9):,.0f}')"; }

# timed INPUT CMD...: runs CMD with stdin from INPUT and prints "WALL_NS CPU_US", the
# wall time and the child's user + system CPU time. The CPU time per message is
# what a client costs whether or not the broker is the bottleneck: when the broker
# absorbs fewer messages than both clients can send, the rates are the broker's
# and only the CPU figures compare the clients.
timed() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic_ns()
with open(sys.argv[1], "rb") as f:
    rc = subprocess.call(sys.argv[2:], stdin=f)
t1 = time.monotonic_ns()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(t1 - t0, int((ru.ru_utime + ru.ru_stime) * 1e6), rc)
PY
}

echo "1. publish $LINES lines of ~100-byte JSON at QoS 0 to $BROKER on 127.0.0.1:$port"
echo "   (msg/s; client CPU time in us per message, user + system)"
for r in $(seq "$ROUNDS"); do
    read -r w1 c1 rc1 < <(timed "$tmp/lines.ndjson" "$MQ" pub -h 127.0.0.1 -p "$port" --ndjson)
    read -r w2 c2 rc2 < <(timed "$tmp/lines.txt" mosquitto_pub -h 127.0.0.1 -p "$port" -t speed/raw -l)
    [ "$rc1" = 0 ] && [ "$rc2" = 0 ] || echo "   (exit codes: mq $rc1, mosquitto_pub $rc2)"
    python3 -c "
n = $LINES
r1, r2 = n / ($w1 / 1e9), n / ($w2 / 1e9)
u1, u2 = $c1 / n, $c2 / n
print(f'   round $r: mq pub --ndjson {r1:,.0f} msg/s {u1:.2f} us/msg   '
      f'mosquitto_pub -l {r2:,.0f} msg/s {u2:.2f} us/msg   rate x{r1 / r2:.2f}, CPU x{u2 / u1:.2f} less')"
done

echo "2. mq sub --json to a file at QoS 0, fed by mq pub --ndjson ($LINES messages)"
for r in $(seq "$ROUNDS"); do
    "$MQ" sub -h 127.0.0.1 -p "$port" -t 'speed/#' --json --idle-timeout 2s >"$tmp/out.ndjson" &
    sub=$!
    sleep 0.5
    t0=$(now); "$MQ" pub -h 127.0.0.1 -p "$port" --ndjson <"$tmp/lines.ndjson"; t1=$(now)
    wait "$sub" || true
    got=$(wc -l <"$tmp/out.ndjson")
    echo "   round $r: published at $(rate "$LINES" "$t0" "$t1") msg/s; sub wrote $got of $LINES (lost $((LINES - got)))"
done

echo "3. cold start to exit, mean of $COLD runs (ms)"
for tool in mq mosquitto_pub; do
    t0=$(now)
    for _ in $(seq "$COLD"); do
        if [ "$tool" = mq ]; then "$MQ" pub -h 127.0.0.1 -p "$port" -t cold -m x; else mosquitto_pub -h 127.0.0.1 -p "$port" -t cold -m x; fi
    done
    t1=$(now)
    python3 -c "print(f'   $tool: {($t1 - $t0) / 1e6 / $COLD:.2f} ms')"
done
