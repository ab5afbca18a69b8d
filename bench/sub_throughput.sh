#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sub_throughput.sh - does `mq sub --json` keep up with RATE msg/s at QoS 0
# into a file, without loss (issue 3)?
#
# A paced producer (python3, one chunk of RATE/1000 NDJSON lines per
# millisecond) feeds `mq pub --ndjson -q 0`, which publishes to the broker;
# `mq sub --json` writes every message to a file. The producer is cheap on
# purpose: on a 2-core machine an open-loop `mq bench pub --rate 150000`
# needs 0.8 cores for its per-message timers, and the broker, the publisher
# and mq sub together then need more CPU than the machine has.
#
# Printed per run: lines sent, records written, missing, mq sub CPU (user +
# system from /proc) per record written, broker CPU seconds, and QoS 0 drops
# the broker logged (mq broker only). Payloads are ~65-byte JSON text, so the
# records carry them as utf8 strings.
#
# Usage: bench/sub_throughput.sh [-r RATE] [-s SECONDS] [-n RUNS] [-b mq|mosquitto]
# Environment: MQ (default build/release/tools/mq), MOSQUITTO (/usr/sbin/mosquitto).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=150000 SECS=5 RUNS=3 BROKER=mq
while getopts "r:s:n:b:" opt; do
    case $opt in
    r) RATE=$OPTARG ;;
    s) SECS=$OPTARG ;;
    n) RUNS=$OPTARG ;;
    b) BROKER=$OPTARG ;;
    *) echo "usage: $0 [-r RATE] [-s SECONDS] [-n RUNS] [-b mq|mosquitto]" >&2; exit 64 ;;
    esac
done
MQ=${MQ:-build/release/tools/mq}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
WORK=$(mktemp -d)
BP=""
cleanup() {
    [ -n "$BP" ] && kill "$BP" 2>/dev/null && wait "$BP" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/paced.py" <<'PY'
import sys, time
rate, secs = int(sys.argv[1]), float(sys.argv[2])
per_ms = max(rate // 1000, 1)
total = int(rate * secs)
pad = "x" * 40
chunk = "".join('{"topic":"load/t%d","payload":"{\\"seq\\":%08d,\\"pad\\":\\"%s\\"}"}\n' % (i % 10, i, pad)
                for i in range(per_ms)).encode()
out, sent, t0 = sys.stdout.buffer, 0, time.monotonic()
while sent < total:
    out.write(chunk)
    out.flush()
    sent += per_ms
    d = t0 + sent / rate - time.monotonic()
    if d > 0:
        time.sleep(d)
sys.stderr.write("%d %.3f\n" % (sent, time.monotonic() - t0))
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_broker() {
    if [ "$BROKER" = mosquitto ]; then
        PORT=$((20000 + RANDOM % 20000))
        printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" > "$WORK/mosquitto.conf"
        "$MOSQUITTO" -c "$WORK/mosquitto.conf" > /dev/null 2> "$WORK/broker.err" &
        BP=$!
        sleep 0.5
    else
        rm -f "$WORK/ready"
        "$MQ" broker --listen mqtt://127.0.0.1:0 --ready-file "$WORK/ready" --sys-interval 0 \
            > /dev/null 2> "$WORK/broker.err" &
        BP=$!
        for _ in $(seq 100); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
        PORT=$(grep -o '"port":[0-9]*' "$WORK/ready" | head -1 | cut -d: -f2)
    fi
}

for run in $(seq "$RUNS"); do
    start_broker
    "$MQ" sub -p "$PORT" -t 'load/#' --json > "$WORK/out.ndjson" 2> "$WORK/sub.err" &
    SP=$!
    sleep 0.3
    python3 "$WORK/paced.py" "$RATE" "$SECS" 2> "$WORK/paced.out" | "$MQ" pub -p "$PORT" --ndjson -q 0
    sleep 1  # let the tail arrive
    SUB_TICKS=$(cpu_ticks "$SP")
    BROKER_TICKS=$(cpu_ticks "$BP")
    kill "$SP"; wait "$SP" 2>/dev/null || true
    kill "$BP"; wait "$BP" 2>/dev/null || true
    BP=""
    read -r SENT TOOK < "$WORK/paced.out"
    GOT=$(wc -l < "$WORK/out.ndjson")
    DROPS=$(grep -c 'write buffer full' "$WORK/broker.err" || true)
    TICK=$(getconf CLK_TCK)
    python3 - "$run" "$BROKER" "$RATE" "$SENT" "$TOOK" "$GOT" "$SUB_TICKS" "$BROKER_TICKS" "$TICK" "$DROPS" <<'PY'
import sys
run, broker, rate, sent, took, got, sub_t, brk_t, tick, drops = sys.argv[1:]
sent, got, tick = int(sent), int(got), int(tick)
print(f"run {run} {broker}: {sent} sent at {sent / float(took):,.0f}/s (asked {int(rate):,}), {got} written, "
      f"{sent - got} missing, mq sub {int(sub_t) / tick * 1e6 / max(got, 1):.2f} us/record, "
      f"broker {int(brk_t) / tick:.2f} s CPU, broker drop log lines {drops}")
PY
done
