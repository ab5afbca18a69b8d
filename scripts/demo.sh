#!/bin/sh
# The README's first command: installs dependencies, builds mq, then starts an
# embedded `mq broker` on an ephemeral loopback port and round-trips NDJSON
# through `mq pub --ndjson` and `mq sub --json`. No external broker is needed.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE='-O2 -DNDEBUG' \
    -DMQ_WERROR=ON >/dev/null
cmake --build build/release -j "$(nproc)" --target mq
MQ=build/release/tools/mq
tmp=$(mktemp -d)
broker_pid=""
sub_pid=""
cleanup() {
    if [ -n "$sub_pid" ]; then kill "$sub_pid" 2>/dev/null || true; fi
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Port 0: the broker picks a free port and names it in its readiness line.
"$MQ" broker --listen mqtt://127.0.0.1:0 --ready-file "$tmp/ready" >"$tmp/broker.out" 2>"$tmp/broker.err" &
broker_pid=$!
i=0
while [ ! -s "$tmp/ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$tmp/ready" ] || { echo "broker did not start:" >&2; cat "$tmp/broker.err" >&2; exit 1; }
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/ready" | head -1)
echo "mq broker ready: $(cat "$tmp/ready")"

"$MQ" sub -p "$port" -h 127.0.0.1 -t 'demo/#' -q 1 -C 3 -W 10s --json >"$tmp/received" &
sub_pid=$!
sleep 0.3
printf '%s\n' \
  '{"topic":"demo/sensor/1","payload":"{\"temp\":21.5}","qos":1}' \
  '{"topic":"demo/sensor/2","payload":"{\"temp\":19.0}","qos":1}' \
  '{"topic":"demo/status","payload":"online","qos":0,"retain":false}' |
  "$MQ" pub -h 127.0.0.1 -p "$port" --ndjson
wait "$sub_pid"
sub_pid=""
echo "mq sub --json received:"
cat "$tmp/received"
[ "$(wc -l <"$tmp/received")" -eq 3 ] || { echo "demo failed: expected 3 messages" >&2; exit 1; }
echo "demo ok: 3 messages round-tripped through mq broker"
