#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# soak.sh - hardening.md's soak: `mq broker` holds many idle connections while a
# QoS 1 stream runs through it for a long time; the broker's RSS and descriptor
# count are sampled every INTERVAL and must not drift, and the stream must lose
# nothing.
#
# Usage: bench/soak.sh [-c CLIENTS] [-d DURATION_S] [-r RATE] [-i INTERVAL_S] [-o CSV]
#   -c  connections in all: CLIENTS - 2 idle ones held for the whole run, plus the
#       stream's publisher and subscriber (default 10000)
#   -d  seconds of QoS 1 stream once every connection is up (default 600)
#   -r  QoS 1 messages per second, open loop (default 2000)
#   -i  seconds between samples (default 10)
#   -o  write the samples as CSV (t_s,rss_kb,fds) to this file
#
# Environment: MQ (default build/demo/tools/mq, then build/release/tools/mq).
# Exit 0 when: every connection was made and held, the stream lost and
# duplicated nothing, RSS at the end is within 10% (+8 MiB) of RSS after the
# first sample of the stream, and the descriptor count after the stream is the
# one before it (the idle connections alone).
set -euo pipefail

clients=10000 duration=600 rate=2000 interval=10 csv=""
while getopts "c:d:r:i:o:" opt; do
    case $opt in
        c) clients=$OPTARG ;;
        d) duration=$OPTARG ;;
        r) rate=$OPTARG ;;
        i) interval=$OPTARG ;;
        o) csv=$OPTARG ;;
        *) sed -n '3,20p' "$0" >&2; exit 64 ;;
    esac
done
MQ=${MQ:-}
for c in build/demo/tools/mq build/release/tools/mq; do [ -z "$MQ" ] && [ -x "$c" ] && MQ=$c; done
[ -x "${MQ:-}" ] || { echo "soak.sh: mq binary not found (set MQ=...)" >&2; exit 66; }

# Per process: the broker and the generator each hold one end of every connection.
ulimit -n $((clients + 1024)) 2>/dev/null || { echo "soak.sh: cannot raise the descriptor limit" >&2; exit 69; }
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$MQ" broker --listen mqtt://127.0.0.1:0 --ready-file "$work/ready" \
    --max-connections $((clients + 100)) --log-level warn 2>"$work/broker.log" &
broker=$!
pids+=("$broker")
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
[ -s "$work/ready" ] || { echo "soak.sh: broker did not start" >&2; cat "$work/broker.log" >&2; exit 1; }
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["port"])' "$work/ready")

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$broker/status"; }
fds() { find "/proc/$broker/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# Idle connections, held past the end of the stream.
hold=$((duration + 60))
# The stream's publisher and subscriber are two of the CLIENTS connections (the
# broker keeps at most 10,000 sessions by default).
idle=$((clients - 2))
"$MQ" bench conn -h 127.0.0.1 -p "$port" --clients "$idle" --connect-rate 2000 \
    --hold "${hold}s" --json >"$work/conn.json" 2>"$work/conn.log" &
conn=$!
pids+=("$conn")
ramp=$((clients / 2000 + 10))
echo "soak: $idle idle + 2 streaming connections (ramp ${ramp}s), then ${duration}s of QoS 1 at $rate msg/s; broker pid $broker"
sleep "$ramp"
fds_idle=$(fds)  # the idle connections alone, compared with the count after the stream

"$MQ" bench e2e -h 127.0.0.1 -p "$port" -q 1 --rate "$rate" --warmup 5s --duration "${duration}s" \
    --json >"$work/e2e.json" 2>"$work/e2e.log" &
e2e=$!
pids+=("$e2e")
sleep 5
[ -n "$csv" ] && echo "t_s,rss_kb,fds" >"$csv"
rss0=$(rss_kb) fds0=$fds_idle t=0
echo "t=0s rss=${rss0}KiB fds=$fds0"
while kill -0 "$e2e" 2>/dev/null; do
    sleep "$interval"
    t=$((t + interval))
    kill -0 "$broker" 2>/dev/null || { echo "soak.sh: the broker died" >&2; exit 1; }
    r=$(rss_kb) f=$(fds)
    echo "t=${t}s rss=${r}KiB fds=$f"
    [ -n "$csv" ] && echo "$t,$r,$f" >>"$csv"
done
e2e_rc=0
wait "$e2e" || e2e_rc=$?
if [ "$e2e_rc" != 0 ] || [ ! -s "$work/e2e.json" ]; then
    echo "soak.sh: the QoS 1 stream exited $e2e_rc:" >&2
    cat "$work/e2e.log" >&2
fi
sleep 1
rss1=$(rss_kb) fds1=$(fds)
kill "$conn" 2>/dev/null || true
wait "$conn" 2>/dev/null || true

python3 - "$work/e2e.json" "$rss0" "$rss1" "$fds0" "$fds1" "$e2e_rc" <<'EOF'
import json, sys
e2e = json.load(open(sys.argv[1]))
rss0, rss1, fds0, fds1, rc = (int(x) for x in sys.argv[2:7])
counts = e2e.get("counts", {})
lost, dup = counts.get("lost", -1), counts.get("duplicates", -1)
p99 = e2e.get("latency_us", {}).get("intended", {}).get("p99", "?")
print(f"stream: exit {rc}, sent {counts.get('sent')}, received {counts.get('received')}, lost {lost}, "
      f"duplicates {dup}, p99 {p99} us")
print(f"broker RSS {rss0} -> {rss1} KiB, descriptors {fds0} -> {fds1}")
ok = rc == 0 and lost == 0 and dup == 0 and rss1 <= rss0 * 1.10 + 8192 and fds1 == fds0
print("soak: PASS" if ok else "soak: FAIL")
sys.exit(0 if ok else 1)
EOF
