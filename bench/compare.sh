#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# compare.sh - run the same `mq bench` scenarios against `mq broker` and Debian's
# mosquitto, alternately, on this machine, and print a table of ratios
# (bench-method.md §13). Absolute numbers vary between machines and days; the
# ratios measured in one run are what to compare.
#
# Usage:
#   bench/compare.sh [-n PAIRS] [-d DURATION] [-w WARMUP] [-s 'SCENARIO ARGS']... [-o DIR] [-P]
#
#   -n PAIRS     runs per broker and scenario, alternating mq/mosquitto (default 3)
#   -d DURATION  measurement window per run (default 10s)
#   -w WARMUP    warm-up per run (default 2s)
#   -s ARGS      one scenario as `mq bench` arguments, e.g. -s 'e2e -q 1' or
#                -s 'e2e -q 0 --rate 5000'; repeatable. Default: QoS 0/1/2 e2e closed
#                loop, QoS 0 fan-in and fan-out, QoS 0/1 open loop at 5k msg/s, and
#                `conn --clients 1000` for broker memory per connection.
#   -o DIR       keep every run's JSON summary in DIR (default: a temporary directory)
#   -P           pin each broker to CPU 0 and the generator to CPU 1 (taskset)
#
# Environment: MQ (path of the mq binary, default build/tools/mq, then `mq` on PATH),
# MOSQUITTO (default /usr/sbin/mosquitto). Needs python3 for the table.
#
# Both brokers get the same settings: loopback listener, anonymous access, no
# persistence, TCP_NODELAY, outbound window 32 and queue 1000 (mq broker's defaults).
# Per scenario both brokers are started fresh and one `mq bench --compare` runs the
# pairs (A mosquitto, B mq broker; bench-method §13, §8.2); `conn` scenarios instead
# start a fresh broker for every run (RSS is not returned after clients leave).
# Brokers are stopped by PID. Broker CPU comes from /proc/PID/stat over the
# measurement window (`--broker-pid`, `--compare-pid`).
#
# Output: per scenario and metric the median (min-max) of each broker and the
# ratio mq/mosquitto (the median of the per-pair ratios where --compare ran). For rates, a ratio above 1 favours mq; for CPU per message
# and latency, a ratio below 1 does. Rates are only comparable together with the
# delivered ratio, which is printed too.
set -euo pipefail

pairs=3 duration=10s warmup=2s outdir="" pin=0
scenarios=()
while getopts "n:d:w:s:o:P" opt; do
    case $opt in
        n) pairs=$OPTARG ;;
        d) duration=$OPTARG ;;
        w) warmup=$OPTARG ;;
        s) scenarios+=("$OPTARG") ;;
        o) outdir=$OPTARG ;;
        P) pin=1 ;;
        *) sed -n '3,32p' "$0" >&2; exit 64 ;;
    esac
done
if [ ${#scenarios[@]} -eq 0 ]; then
    scenarios=("e2e -q 0" "e2e -q 1" "e2e -q 2" "fan-in -q 0" "fan-out -q 0"
               "e2e -q 0 --rate 5000" "e2e -q 1 --rate 5000" "conn --clients 1000 --hold 3s")
fi

MQ=${MQ:-}
if [ -z "$MQ" ]; then
    if [ -x build/tools/mq ]; then MQ=build/tools/mq; else MQ=$(command -v mq || true); fi
fi
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
[ -x "$MQ" ] || { echo "compare.sh: mq binary not found (set MQ=...)" >&2; exit 66; }
[ -x "$MOSQUITTO" ] || { echo "compare.sh: mosquitto not found (set MOSQUITTO=...)" >&2; exit 66; }
command -v python3 >/dev/null || { echo "compare.sh: python3 is needed" >&2; exit 69; }

work=$(mktemp -d)
[ -n "$outdir" ] || outdir=$work/runs
mkdir -p "$outdir"
broker_pid="" mq_pid="" mosq_pid=""
cleanup() {
    for p in $broker_pid $mq_pid $mosq_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

broker_cpu=() gen_cpu=()
if [ "$pin" = 1 ]; then broker_cpu=(taskset -c 0); gen_cpu=(taskset -c 1); fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {  # wait until 127.0.0.1:$1 accepts connections (at most 5 s)
    for _ in $(seq 100); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.1)" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "compare.sh: broker on port $1 did not start" >&2; return 1
}

start_mq() {
    rm -f "$work/ready"
    "${broker_cpu[@]}" "$MQ" broker --listen mqtt://127.0.0.1:0 --ready-file "$work/ready" \
        --max-connections 20000 --max-inflight 32 --max-queued 1000 >/dev/null 2>"$work/mq.log" &
    broker_pid=$!
    for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
    [ -s "$work/ready" ] || { echo "compare.sh: mq broker did not start:" >&2; cat "$work/mq.log" >&2; return 1; }
    port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["port"])' "$work/ready")
}

start_mosquitto() {
    port=$(free_port)
    cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
max_inflight_messages 32
max_queued_messages 1000
max_connections -1
log_type warning
CONF
    "${broker_cpu[@]}" "$MOSQUITTO" -c "$work/mosquitto.conf" >/dev/null 2>"$work/mosquitto.log" &
    broker_pid=$!
    wait_port "$port"
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
stop_broker() {
    stop_pid "$broker_pid"
    broker_pid=""
}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

run_one() {  # broker scenario_index pair
    local broker=$1 idx=$2 pair=$3
    "start_$broker"
    local file="$outdir/s${idx}-${broker}-${pair}.json"
    # shellcheck disable=SC2086  # the scenario string is word-split on purpose
    if ! "${gen_cpu[@]}" "$MQ" bench ${scenarios[$idx]} -h 127.0.0.1 -p "$port" --broker-pid "$broker_pid" \
            --warmup "$warmup" --duration "$duration" --json >"$file" 2>"$work/bench.err"; then
        echo "compare.sh: bench failed for '${scenarios[$idx]}' on $broker:" >&2
        cat "$work/bench.err" >&2
    fi
    stop_broker
}

compare_one() {  # scenario_index: both brokers up, the pairs in one mq bench --compare
    local idx=$1
    start_mosquitto; mosq_pid=$broker_pid; local mosq_port=$port
    start_mq; mq_pid=$broker_pid; local mq_port=$port
    broker_pid=""
    # shellcheck disable=SC2086  # the scenario string is word-split on purpose
    if ! "${gen_cpu[@]}" "$MQ" bench ${scenarios[$idx]} -h 127.0.0.1 -p "$mosq_port" --broker-pid "$mosq_pid" \
            --compare "mqtt://127.0.0.1:$mq_port" --compare-pid "$mq_pid" --pairs "$pairs" \
            --warmup "$warmup" --duration "$duration" --json >"$outdir/s${idx}-compare.json" 2>"$work/bench.err"; then
        echo "compare.sh: bench failed for '${scenarios[$idx]}':" >&2
        cat "$work/bench.err" >&2
    fi
    stop_pid "$mq_pid"; stop_pid "$mosq_pid"; mq_pid="" mosq_pid=""
}

for idx in "${!scenarios[@]}"; do
    echo "== ${scenarios[$idx]}" >&2
    case ${scenarios[$idx]} in
        conn*) ;;
        *) compare_one "$idx"; continue ;;
    esac
    for pair in $(seq "$pairs"); do
        # Random order in the first pair, then alternate, so drift hits both brokers alike.
        if [ "$pair" = 1 ]; then first=$((RANDOM % 2)); else first=$((1 - first)); fi
        if [ "$first" = 0 ]; then order="mq mosquitto"; else order="mosquitto mq"; fi
        for b in $order; do run_one "$b" "$idx" "$pair"; done
    done
done

python3 - "$outdir" "${#scenarios[@]}" "${scenarios[@]}" <<'PY'
import json, os, statistics, sys
outdir, n = sys.argv[1], int(sys.argv[2])
scen = sys.argv[3:3 + n]

def get(s, path):
    for k in path.split("/"):
        if not isinstance(s, dict) or s.get(k) is None:
            return None
        s = s[k]
    return s if isinstance(s, (int, float)) else None

metrics = [("delivered msg/s", "rates/delivered"), ("delivered ratio", "rates/delivered_ratio"),
           ("broker us/msg", "cpu/broker_us_per_msg"), ("broker cores", "cpu/broker_cores"),
           ("generator us/msg", "cpu/generator_us_per_msg"),
           ("p50 us", "latency_us/intended/p50"), ("p99 us", "latency_us/intended/p99"),
           ("conn/s", "connect/rate"), ("broker B/conn", "connect/broker_bytes_per_conn")]

def load_compare(idx):
    """The kept runs of a `mq bench --compare` file (A mosquitto, B mq) and its metrics."""
    try:
        with open(os.path.join(outdir, f"s{idx}-compare.json")) as fh:
            c = json.load(fh)
    except (ValueError, OSError):
        return None
    runs = c.get("runs", [])
    kept = {"mosquitto": [runs[p["a"]]["summary"] for p in c.get("pair_runs", [])],
            "mq": [runs[p["b"]]["summary"] for p in c.get("pair_runs", [])]}
    return kept, c.get("metrics", {}), c.get("noisy", False)

def load(idx, broker):
    out = []
    for f in sorted(os.listdir(outdir)):
        if f.startswith(f"s{idx}-{broker}-"):
            try:
                with open(os.path.join(outdir, f)) as fh:
                    out.append(json.load(fh))
            except (ValueError, OSError):
                pass
    return out

def fmt(v):
    return "-" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}")

def cell(vals):
    if not vals:
        return "-"
    return f"{fmt(statistics.median(vals))} ({fmt(min(vals))}-{fmt(max(vals))})"

print(f"{'scenario':<34} {'metric':<18} {'mq broker':>24} {'mosquitto':>24} {'mq/mosq':>8}")
for idx, s in enumerate(scen):
    cmp = load_compare(idx)
    runs, cmp_metrics, noisy = cmp if cmp else ({b: load(idx, b) for b in ("mq", "mosquitto")}, {}, False)
    for label, path in metrics:
        a = [v for v in (get(r, path) for r in runs["mq"]) if v is not None]
        b = [v for v in (get(r, path) for r in runs["mosquitto"]) if v is not None]
        if not a and not b or all(v == 0 for v in a + b):
            continue
        ratio = "-"
        per_pair = (cmp_metrics.get(path.replace("/", "."), {}).get("ratio") or {}).get("median")
        if per_pair is not None:
            ratio = f"{per_pair:.2f}"
        elif a and b and statistics.median(b) != 0:
            ratio = f"{statistics.median(a) / statistics.median(b):.2f}"
        print(f"{s:<34} {label:<18} {cell(a):>24} {cell(b):>24} {ratio:>8}")
    invalid = [r.get("invalid_reasons") for rs in runs.values() for r in rs if not r.get("valid", True)]
    if invalid:
        print(f"{'':<34} note: {len(invalid)} run(s) invalid, e.g. {invalid[0]}")
    if noisy:
        print(f"{'':<34} note: noisy (other load on the machine during a kept run)")
PY
