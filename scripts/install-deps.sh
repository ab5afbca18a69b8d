#!/bin/sh
# Installs every build and test dependency of mq from Debian 12 packages.
# Idempotent: when everything is already present it prints nothing and exits 0.
# libboost1.81-dev is named explicitly: it conflicts with the 1.74 libboost-dev meta-package.
# libmosquitto-dev is not used by the mq build: it is the comparison peer of the benchmark,
# bench/generator_cpu.sh compiles bench/mosq_gen.c (a libmosquitto load generator) with it to
# measure mq bench's generator CPU per message against a libmosquitto client's (issue 5).
# faketime (libfaketime) is a test peer like mosquitto: tests/e2e/clock_jump_e2e_test.cpp preloads
# it into mq to jump the wall clock mid-run (hardening.md S12).
set -eu
PKGS="cmake g++ clang make pkg-config libboost1.81-dev libssl-dev libcli11-dev nlohmann-json3-dev \
doctest-dev libfmt-dev scdoc mandoc openssl shellcheck \
mosquitto mosquitto-clients python3-paho-mqtt librsvg2-bin libmosquitto-dev faketime"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
