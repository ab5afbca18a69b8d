#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# generator_cpu.sh - generator CPU per message of `mq bench` against a small
# libmosquitto-based generator (bench/mosq_gen.c), both driving the same broker,
# alternately, in one run (issue 5: mq bench's CPU per message should be at most
# 1/3 of a libmosquitto generator's, at QoS 0 and 1 with 64-byte payloads).
#
# Both generators run one publisher and one subscriber in one process, closed
# loop (as fast as the broker takes messages) with at most 100 messages
# outstanding, MQTT 3.1.1, N messages each. CPU is user + system time of the
# generator process from wait4(2) (its rusage), divided by the messages its
# subscriber received (and, beside it, per message sent: the two differ when
# the broker drops QoS 0 messages); connect and teardown are inside both figures. msg/s is
# received messages over the generator's wall time (mq bench waits up to its 2 s
# drain for messages a broker dropped, which lowers that figure).
#
# Usage: bench/generator_cpu.sh [-n MESSAGES] [-r ROUNDS] [-b mq|mosquitto] [-P]
#   -n  messages per run (default 200000)
#   -r  runs per generator and QoS, alternating (default 3; the median is printed)
#   -b  the broker (default mq: `mq broker`; mosquitto: Debian's)
#   -P  pin the broker to CPU 0 and the generators to CPU 1 (taskset)
# Environment: MQ (default build/tools/mq), MOSQUITTO (/usr/sbin/mosquitto), CC (cc).
# Needs libmosquitto-dev (scripts/install-deps.sh) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N=200000 ROUNDS=3 BROKER=mq PIN=0
while getopts "n:r:b:P" opt; do
    case $opt in
    n) N=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    b) BROKER=$OPTARG ;;
    P) PIN=1 ;;
    *) exit 64 ;;
    esac
done
MQ=${MQ:-build/tools/mq}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
CC=${CC:-cc}
tmp=$(mktemp -d)
broker_pid=""
cleanup() {
    if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The comparison peer is compiled here, not by CMake: it is not part of mq.
"$CC" -O2 -Wall -Wextra -o "$tmp/mosq_gen" bench/mosq_gen.c -lmosquitto -lpthread

broker_cpu="" gen_cpu=""
if [ "$PIN" = 1 ]; then broker_cpu="taskset -c 0" gen_cpu="taskset -c 1"; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ "$BROKER" = mq ]; then
    $broker_cpu "$MQ" broker --listen "mqtt://127.0.0.1:$port" >/dev/null 2>"$tmp/broker.log" &
else
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nmax_queued_messages 100000\nuser %s\n' \
        "$port" "$(id -un)" >"$tmp/m.conf"
    $broker_cpu "$MOSQUITTO" -c "$tmp/m.conf" 2>"$tmp/broker.log" &
fi
broker_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# run.py KIND QOS: runs one generator, prints "received cpu_us elapsed_s sent".
cat >"$tmp/run.py" <<'PY'
import json, os, subprocess, sys, time
kind, qos, n, port, mq, gen, pin = sys.argv[1:8]
if kind == "mq":
    cmd = [mq, "bench", "e2e", "-h", "127.0.0.1", "-p", port, "-V", "311", "-q", qos, "--payload-size", "64",
           "--count", n, "--warmup", "0s", "--rate", "max", "--window", "100", "--drain", "2s", "--json"]
else:
    cmd = [gen, "127.0.0.1", port, qos, n, "64", "100", "120"]
if pin:
    cmd = pin.split() + cmd
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out = p.stdout.read()
err = p.stderr.read()
_, status, ru = os.wait4(p.pid, 0)
elapsed = time.monotonic() - t0
if status != 0:
    sys.stderr.write(f"{kind} exited {status}: {err.decode(errors='replace')}\n")
    sys.exit(1)
j = json.loads(out)
received = j["counts"]["received"] if kind == "mq" else j["received"]
sent = j["counts"]["sent"] if kind == "mq" else j["sent"]
print(received, round((ru.ru_utime + ru.ru_stime) * 1e6), round(elapsed, 3), sent)
PY

printf 'generator CPU per message, %s messages of 64 bytes, 1 -> 1 closed loop (window 100), MQTT 3.1.1, broker: %s\n' "$N" "$BROKER"
printf '%-4s %-16s %10s %8s %22s %12s %10s\n' QoS generator received lost 'CPU us/msg (min-max)' 'us/sent msg' 'msg/s'
for qos in 0 1; do
    : >"$tmp/mq.$qos" ; : >"$tmp/mosq.$qos"
    for _ in $(seq "$ROUNDS"); do
        for kind in mq mosq; do
            python3 "$tmp/run.py" "$kind" "$qos" "$N" "$port" "$MQ" "$tmp/mosq_gen" "$gen_cpu" >>"$tmp/$kind.$qos"
        done
    done
    python3 - "$qos" "$tmp/mq.$qos" "$tmp/mosq.$qos" "$N" <<'PY'
import statistics, sys
qos = sys.argv[1]
n = int(sys.argv[4])
res = {}
for name, path in (("mq bench", sys.argv[2]), ("libmosquitto", sys.argv[3])):
    rows = [tuple(map(float, l.split())) for l in open(path) if l.strip()]
    per = [cpu / rec for rec, cpu, _, _ in rows]
    per_sent = [cpu / snt for _, cpu, _, snt in rows]
    rate = [rec / el for rec, _, el, _ in rows]
    res[name] = statistics.median(per)
    spread = f"{min(per):.2f}-{max(per):.2f}"
    received = int(statistics.median([r[0] for r in rows]))
    print(f"{qos:<4} {name:<16} {received:>10} {n - received:>8} "
          f"{statistics.median(per):>8.2f} ({spread:>11}) {statistics.median(per_sent):>12.2f} "
          f"{statistics.median(rate):>10,.0f}")
print(f"{qos:<4} ratio mq/libmosquitto CPU per message: {res['mq bench'] / res['libmosquitto']:.3f} (target <= 0.333)")
PY
done
