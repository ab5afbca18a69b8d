#!/bin/sh
# The README's first command: installs dependencies, builds mq, then runs the
# main job: a short `mq bench` against an embedded `mq broker` on an ephemeral
# loopback port (no host given = embedded broker; no external broker needed).
# It prints the human summary and writes an HTML report of the run.
#   MQ_DEMO_ARGS  extra `mq bench` arguments (e.g. "-q 0 --rate 20000")
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# -O2, and no -Werror: a newer compiler's new warning must not stop a user's build.
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE='-O2 -DNDEBUG' >/dev/null
cmake --build build/demo -j "$(nproc)" --target mq
MQ=build/demo/tools/mq
report=build/bench-report.html
# Open loop at a fixed rate (latency mode), QoS 1, 2 s warm-up then 8 s measured.
# shellcheck disable=SC2086 # MQ_DEMO_ARGS is a list of arguments
"$MQ" bench e2e -q 1 --rate 10000 --warmup 2s --duration 8s --report "$report" ${MQ_DEMO_ARGS:-}
echo "HTML report of this run: $report"
