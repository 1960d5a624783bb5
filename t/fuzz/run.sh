#!/bin/sh
# run.sh - runs each libFuzzer target of one fuzz build for a given time on a
# fresh copy of its seed corpus, prints one line per target and fails when
# any of them found a crash, a leak or a broken property.
# usage: t/fuzz/run.sh BUILD SECONDS NAME...   (NAME: traceparent, conf, ...)
# Writes BUILD/test-summary ("passed failed 0") like t/run.sh.
set -u
build=$1
seconds=$2
shift 2
here=$(dirname "$0")
pass=0
fail=0
for name in "$@"; do
    bin=$build/fuzz/fuzz_$name
    work=$build/work/$name
    art=$build/artifacts/$name
    log=$build/logs/fuzz_$name.log
    rm -rf "$work"
    mkdir -p "$work" "$art" "$build/logs"
    if [ -d "$here/corpus/$name" ]; then
        cp "$here/corpus/$name"/* "$work"/ 2>/dev/null
    fi
    set -- -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -artifact_prefix="$art/"
    [ -f "$here/$name.dict" ] && set -- "$@" -dict="$here/$name.dict"
    [ -f "$here/$name.options" ] && set -- "$@" $(cat "$here/$name.options")
    "$bin" "$@" "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
        pass=$((pass + 1))
        printf 'ok   fuzz_%s: %s executions in %ss (%s/s), cov %s ft %s corpus %s\n' \
            "$name" "$execs" "$seconds" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
    else
        fail=$((fail + 1))
        tail -n 60 "$log"
        printf 'FAIL fuzz_%s (exit %s, %s executions; log %s, input in %s)\n' \
            "$name" "$rc" "${execs:-?}" "$log" "$art"
    fi
done
echo "$pass $fail 0" >"$build/test-summary"
printf 'fuzz: %d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
