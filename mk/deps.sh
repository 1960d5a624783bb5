#!/bin/sh
# deps.sh - make sure the Debian packages the build and the tests need are
# installed: installs them when run as root, else prints the apt-get line.
# usage: sh mk/deps.sh [test|bench]
#   (none: what make and make demo need; test: also what make test runs;
#   bench: also what make bench runs)
set -u
missing=""
need_pkg() { # pkg-config module, Debian package
    pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
need_cmd() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
mode=${1:-build}
need_cmd pkg-config pkg-config
need_cmd cc gcc
need_cmd make make
need_cmd protoc-c protobuf-c-compiler
need_cmd curl curl
if command -v pkg-config >/dev/null 2>&1; then
    need_pkg libmicrohttpd libmicrohttpd-dev
    need_pkg libcjson libcjson-dev
    need_pkg libnghttp2 libnghttp2-dev
    need_pkg libprotobuf-c libprotobuf-c-dev
    need_pkg zlib zlib1g-dev
    need_pkg libcurl libcurl4-openssl-dev
    need_pkg openssl libssl-dev
else
    missing="$missing libmicrohttpd-dev libcjson-dev libnghttp2-dev libprotobuf-c-dev zlib1g-dev libcurl4-openssl-dev libssl-dev"
fi
if [ "$mode" = test ] || [ "$mode" = bench ]; then
    need_cmd g++ g++
    if command -v pkg-config >/dev/null 2>&1; then
        need_pkg cmocka libcmocka-dev
    else
        missing="$missing libcmocka-dev"
    fi
    need_cmd openssl openssl
    need_cmd node nodejs
    need_cmd npm npm
    need_cmd systemd-socket-activate systemd
    # make fuzz: clang with libFuzzer and the sanitizer runtimes
    # (libclang-rt-dev brings libclang-rt-N-dev for Debian's default clang-N).
    if command -v clang >/dev/null 2>&1; then
        rt=$(clang -print-resource-dir 2>/dev/null)/lib
        [ -f "$rt/linux/libclang_rt.fuzzer-$(uname -m).a" ] ||
            [ -f "$rt/$(uname -m)-pc-linux-gnu/libclang_rt.fuzzer.a" ] ||
            [ -f "$rt/$(uname -m)-unknown-linux-gnu/libclang_rt.fuzzer.a" ] ||
            missing="$missing libclang-rt-dev"
    else
        missing="$missing clang libclang-rt-dev"
    fi
    [ -x /lib/systemd/systemd-journal-gatewayd ] || missing="$missing systemd-journal-remote"
fi
if [ "$mode" = bench ]; then
    need_cmd wrk wrk
    need_cmd valgrind valgrind
    need_cmd strace strace
    need_cmd perf linux-perf
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "mk/deps.sh: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
    exit $?
fi
echo "mk/deps.sh: missing Debian packages; install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
