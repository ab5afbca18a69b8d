#!/bin/sh
# Fails when committed generated files are stale or man pages do not lint.
#   $1: build directory holding the built mq
set -eu
BUILD="${1:-build/release}"
MQ="$BUILD/tools/mq"
status=0
if [ -x "$MQ" ] && "$MQ" completion bash >/dev/null 2>&1; then
    for shell in bash zsh fish; do
        case $shell in bash) f=completions/mq.bash ;; zsh) f=completions/_mq ;; fish) f=completions/mq.fish ;; esac
        if ! "$MQ" completion "$shell" | diff -u "$f" - >/dev/null; then
            echo "stale: $f (regenerate with: $MQ completion $shell > $f)" >&2
            status=1
        fi
    done
fi
if command -v shellcheck >/dev/null 2>&1; then
    shellcheck -s bash completions/mq.bash || status=1
    shellcheck scripts/*.sh .ci/run || status=1
fi
# scdoc emits paragraph macros mandoc calls redundant (warnings); only errors fail.
for page in "$BUILD"/man/*.gz; do
    [ -e "$page" ] || continue
    if ! zcat "$page" | mandoc -T lint -W error >/dev/null; then
        echo "man page lint failed: $page" >&2
        status=1
    fi
done
exit $status
