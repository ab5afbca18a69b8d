#!/bin/sh
# Installs dependencies, builds and runs the whole test suite: the warning-free
# release build, the ASan+UBSan build, and a bounded libFuzzer run.
# Used verbatim by the README and by .ci/run.
#   MQ_FUZZ_SECONDS   seconds per fuzz target (default 10, 8 targets: ~1.5 min; 0 skips)
#   MQ_SKIP_SANITIZE  set to 1 to skip the sanitizer build (local quick runs)
#   MQ_JOBS           parallel build jobs (default: number of cores)
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
JOBS="${MQ_JOBS:-$(nproc)}"
FUZZ_SECONDS="${MQ_FUZZ_SECONDS:-10}"
export CTEST_OUTPUT_ON_FAILURE=1

START=$(date +%s)
# Each step prints the seconds elapsed so far: CI must stay within 30 minutes.
step() { printf '\n=== [%s s] %s ===\n' "$(($(date +%s) - START))" "$*"; }

step "optimised build (-O1, -Werror)"
# -O1 without debug info here and -O1 -g1 under the sanitizers keep the three
# builds within CI's 30 minutes on 2 cores (-O2 compiles ~25% slower; the
# demo's -O2 binary is built in build/demo).
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE='-O1 -DNDEBUG' \
    -DMQ_WERROR=ON >/dev/null
cmake --build build/release -j "$JOBS"
step "tests (optimised build)"
ctest --test-dir build/release -j "$JOBS" --timeout 600

step "checks: generated completions are current, man pages lint"
./scripts/check-generated.sh build/release

if [ "${MQ_SKIP_SANITIZE:-0}" != "1" ]; then
    step "ASan+UBSan build"
    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=None -DMQ_WERROR=ON \
        -DMQ_SANITIZE='address;undefined' -DCMAKE_CXX_FLAGS='-O1 -g1' >/dev/null
    cmake --build build/asan -j "$JOBS"
    step "ASan+UBSan tests"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build/asan -j "$JOBS" --timeout 900
fi

if [ "$FUZZ_SECONDS" != "0" ]; then
    step "libFuzzer build (clang, ASan+UBSan)"
    CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMQ_BUILD_FUZZERS=ON -DMQ_BUILD_TESTS=OFF >/dev/null
    cmake --build build/fuzz -j "$JOBS" --target fuzz_all
    step "fuzzing ${FUZZ_SECONDS}s per target"
    ./tests/fuzz/run_fuzzers.sh build/fuzz "$FUZZ_SECONDS"
fi
step "all tests passed"
